"""
=========================================
Compressing an implicit digit classifier
=========================================

A trained implicit model can often be made much smaller with little loss.
Section 5 of the reference paper gives two ways: keep only some hidden states
(section 5.2), or replace the state matrix ``A`` by a low-rank product
``L R^T`` and solve the equilibrium in the reduced state ``R^T h``
(section 5.3). Theorem 5.1 then bounds how far the compressed model's states
can be from the original ones, without computing them.

`ImplicitCompressor` does both on a fitted estimator. This example compresses
a classifier of the digits images bundled with scikit-learn, and plots the
test accuracy and the certified bound against the compression ratio.
"""

# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# The original classifier
# -----------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sklearn_implicit import ImplicitClassifier, ImplicitCompressor

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, random_state=0
)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

classifier = ImplicitClassifier(n_hidden=100, random_state=0).fit(X_train, y_train)
print(f"Original test accuracy: {classifier.score(X_test, y_test):.3f}")

# %%
# Fewer states, or a low-rank ``A``
# ---------------------------------
# With ``prefit=True`` the compressor takes the fitted classifier as it is.
# ``n_hidden`` keeps the states without which the class scores on the
# training data would be hardest to reproduce; ``rank`` truncates ``A`` by its
# singular value decomposition. After either change the output layer is
# refitted so that the compressed model's class scores match the original
# ones on the training data.
# ``output_error_bound_`` is the largest certified change of a class score
# over the training rows; the actual largest change is printed beside it.
settings = {
    "states kept": [{"n_hidden": n} for n in (80, 50, 30, 20, 10, 5)],
    "rank of A": [{"rank": k} for k in (50, 25, 12, 6, 3, 1)],
}
results = {}
for label, grid in settings.items():
    rows = []
    for setting in grid:
        compressor = ImplicitCompressor(classifier, prefit=True, **setting)
        compressor.fit(X_train)
        change = np.abs(
            compressor.estimator_.model_.predict(X_train, tol=1e-10)
            - classifier.model_.predict(X_train, tol=1e-10)
        )
        rows.append(
            (
                compressor.compression_ratio_,
                compressor.estimator_.score(X_test, y_test),
                compressor.output_error_bound_.max(),
                change.max(),
            )
        )
        print(
            f"{label} = {list(setting.values())[0]:3d}: "
            f"{compressor.n_parameters_:5d} parameters "
            f"(ratio {rows[-1][0]:4.1f}), accuracy {rows[-1][1]:.3f}, "
            f"output bound {rows[-1][2]:.3f} (actual {rows[-1][3]:.3f})"
        )
    results[label] = np.array(rows)

# %%
# Accuracy and bound against the compression ratio
# ------------------------------------------------
# Removing states shrinks every matrix, so it compresses further than a
# low-rank ``A``, which only shrinks the ``n x n`` block. The digits model
# keeps its accuracy down to a few states, and a rank-1 ``A`` loses almost
# nothing: the state-to-state coupling that training learned is small. The
# bound is loose for the low-rank models (a few tens of times the actual
# change) and close for the pruned ones, where it is dominated by the known
# change of the output layer. Most of the low-rank slack comes from
# Theorem 5.1 bounding ``(A' - A) h`` by ``|A' - A| |h|``, which gives up the
# cancellations inside the product.
fig, (ax_accuracy, ax_bound) = plt.subplots(
    1, 2, figsize=(9, 3.8), layout="constrained"
)
for (label, rows), color in zip(results.items(), ["C0", "C1"]):
    ax_accuracy.plot(rows[:, 0], rows[:, 1], "o-", color=color, label=label)
    ax_bound.plot(rows[:, 0], rows[:, 2], "o-", color=color, label=f"{label}: bound")
    ax_bound.plot(rows[:, 0], rows[:, 3], "x:", color=color, label=f"{label}: actual")
ax_accuracy.axhline(
    classifier.score(X_test, y_test), color="gray", linestyle="--", label="original"
)
ax_accuracy.set(xlabel="compression ratio (parameters)", ylabel="test accuracy")
ax_bound.set(
    xlabel="compression ratio (parameters)",
    ylabel="largest class-score change (train)",
    yscale="log",
)
ax_accuracy.legend()
ax_bound.legend(fontsize="small")
plt.show()
