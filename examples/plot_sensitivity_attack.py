"""
======================================================
Attacking a digit classifier through its sensitivity
======================================================

The sensitivity matrix ``S`` of an implicit model (Theorem 4.3 of the
reference paper) bounds how far each output can move when each input moves:
``|f(x) - f(x0)| <= S |x - x0|``. It is computed from the model's matrices
alone, so it tells an adversary which inputs to perturb without looking at
any data. Section 7.3.1 of the paper uses it to attack image classifiers: for
every image, perturb the pixels that ``S`` ranks highest for the predicted
class, and compare with the same attack ranked by the gradient of the loss at
that image (Table 1).

This example repeats the experiment on the small digits images bundled with
scikit-learn.
"""

# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# A classifier in pixel space
# ---------------------------
# The analysis works in the model's own input space, so the pixels are scaled
# to ``[0, 1]`` by hand (their largest value is 16) instead of by a pipeline.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sklearn_implicit import ImplicitClassifier
from sklearn_implicit.analysis import (
    attack_success_rate,
    gradient_attack,
    sensitivity_attack,
    sensitivity_matrix,
)

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X / 16, y, test_size=0.25, random_state=0
)
classifier = ImplicitClassifier(n_hidden=50, random_state=0)
classifier.fit(X_train, y_train)
print(f"Clean test accuracy: {classifier.score(X_test, y_test):.3f}")

# %%
# The sensitivity matrix, one image per class
# -------------------------------------------
# Row ``c`` of ``S`` holds, for every pixel, the largest rate at which that
# pixel can move the score of class ``c``. Bright pixels are the ones an
# attack should touch first.
S = sensitivity_matrix(classifier)

fig, axes = plt.subplots(2, 5, figsize=(9, 4), layout="constrained")
for label, ax in zip(classifier.classes_, axes.ravel()):
    image = ax.imshow(S[label].reshape(8, 8), cmap="magma")
    ax.set_title(f"class {label}")
    ax.set_axis_off()
fig.colorbar(image, ax=axes, shrink=0.8, label="sensitivity")
fig.suptitle("Rows of the sensitivity matrix")

# %%
# Success rate against the share of perturbed pixels
# --------------------------------------------------
# Both attacks replace the chosen pixels of every test image with random
# intensities in ``[0, 1]`` (``eps=1`` with ``feature_range=(0, 1)``), and
# differ only in which pixels they choose. The success rate counts, among the
# images the classifier gets right, those whose prediction the attack
# changes; it is measured by running the classifier on the perturbed images.
# A third curve perturbs pixels chosen at random, to show what the rankings
# add. Each point averages three random draws.
fractions = [0.02, 0.05, 0.1, 0.2, 0.3, 0.5]


def random_pixels(X, n_pixels, seed):
    rng = np.random.default_rng(seed)
    X_adv = X.copy()
    for row in X_adv:
        pixels = rng.choice(X.shape[1], n_pixels, replace=False)
        row[pixels] = rng.uniform(0, 1, size=n_pixels)
    return X_adv


rates = {"sensitivity": [], "gradient": [], "random pixels": []}
for fraction in fractions:
    draws = {name: [] for name in rates}
    for seed in range(3):
        common = dict(
            eps=1.0, n_features=fraction, feature_range=(0, 1), random_state=seed
        )
        attacks = {
            "sensitivity": sensitivity_attack(classifier, X_test, **common),
            "gradient": gradient_attack(classifier, X_test, y_test, **common),
            "random pixels": random_pixels(
                X_test, int(np.ceil(fraction * X_test.shape[1])), seed
            ),
        }
        for name, X_adv in attacks.items():
            draws[name].append(attack_success_rate(classifier, X_test, y_test, X_adv))
    for name in rates:
        rates[name].append(np.mean(draws[name]))

fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
for (name, values), marker in zip(rates.items(), "osx"):
    ax.plot(
        100 * np.array(fractions), 100 * np.array(values), marker=marker, label=name
    )
ax.set_xlabel("perturbed pixels (%)")
ax.set_ylabel("attack success rate (%)")
ax.legend()
ax.grid(alpha=0.3)

for name, values in rates.items():
    print(f"{name:>14}: " + "  ".join(f"{100 * v:5.1f}%" for v in values))

# %%
# The sensitivity attack never looks at a test image beyond the class the
# model predicts for it, yet it fools the classifier about as often as the
# gradient attack, which needs the image and its label, and far more often
# than random pixels. The same pattern appears in the paper's Table 1 for
# MNIST; ``benchmarks/bench_attacks.py`` runs that experiment.
#
# One example image before and after a sensitivity attack on 20% of its
# pixels:
X_adv = sensitivity_attack(
    classifier, X_test, eps=1.0, n_features=0.2, feature_range=(0, 1), random_state=0
)
fooled = np.flatnonzero(
    (classifier.predict(X_test) == y_test) & (classifier.predict(X_adv) != y_test)
)
index = fooled[0]
fig, axes = plt.subplots(1, 3, figsize=(7, 2.6), layout="constrained")
panels = [
    (X_test[index], f"clean: predicted {classifier.predict(X_test[[index]])[0]}"),
    (X_adv[index], f"attacked: predicted {classifier.predict(X_adv[[index]])[0]}"),
    (X_adv[index] != X_test[index], "perturbed pixels"),
]
for ax, (image, title) in zip(axes, panels):
    ax.imshow(np.reshape(image, (8, 8)), cmap="gray_r")
    ax.set_title(title, fontsize=9)
    ax.set_axis_off()
plt.show()
