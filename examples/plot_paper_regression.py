"""
=================================================
Learning a nonlinear function of one real input
=================================================

The first experiment of the reference paper (section 7.1): learn

.. math:: f(u) = 5 \\cos(\\pi u) \\exp(-|u| / 2)

from 200 noisy samples, with ``u`` uniform on ``[-5, 5]`` and noise uniform on
``[-1, 1]`` (standard deviation about 0.577, the best root mean squared error
any model can reach against noisy targets). The implicit model has 75 hidden
states and ``||A||_inf <= 0.5``, as in the paper, and is trained by its
block-coordinate scheme: projected gradient steps on ``A`` and ``B``, then
``C`` and ``D`` by least squares.
"""

# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# The data
# --------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_implicit import ImplicitRegressor


def f(u):
    return 5 * np.cos(np.pi * u) * np.exp(-np.abs(u) / 2)


rng = np.random.default_rng(0)
u_train = rng.uniform(-5, 5, size=(200, 1))
y_train = f(u_train[:, 0]) + rng.uniform(-1, 1, size=200)
u_test = rng.uniform(-5, 5, size=(2000, 1))
f_test = f(u_test[:, 0])
y_test = f_test + rng.uniform(-1, 1, size=2000)

# %%
# The implicit model, and a feed-forward network for comparison
# -------------------------------------------------------------
# The target is a smooth function with plenty of signal, so the model gets a
# faint penalty instead of the regressor's default, which is tuned for small
# noisy tables. The paper's comparison network has three hidden layers of 25
# units, as many hidden units as the implicit model has states, trained with
# Adam.
implicit = make_pipeline(
    StandardScaler(),
    ImplicitRegressor(
        n_hidden=75, kappa=0.5, solver="block", alpha=1e-4, random_state=0
    ),
)
implicit.fit(u_train, y_train)

network = make_pipeline(
    StandardScaler(),
    MLPRegressor(
        hidden_layer_sizes=(25, 25, 25),
        learning_rate_init=0.01,
        max_iter=2000,
        random_state=0,
    ),
)
network.fit(u_train, y_train)


def rmse(prediction, target):
    return np.sqrt(np.mean((prediction - target) ** 2))


for name, model in [("implicit, 75 states", implicit), ("MLP 25-25-25", network)]:
    prediction = model.predict(u_test)
    print(
        f"{name:20s} test RMSE: {rmse(prediction, y_test):.3f} against noisy "
        f"targets, {rmse(prediction, f_test):.3f} against f"
    )
fitted = implicit[-1]
print(
    f"||A||_inf = {np.abs(fitted.model_.A).sum(axis=1).max():.3f}, "
    f"{fitted.n_iter_} epochs"
)

# %%
# The fitted functions
# --------------------
grid = np.linspace(-5, 5, 1000).reshape(-1, 1)
fig, ax = plt.subplots(figsize=(8, 4))
ax.scatter(u_train, y_train, s=8, color="0.6", label="training data")
ax.plot(grid, f(grid[:, 0]), color="black", lw=2, label="f")
ax.plot(grid, implicit.predict(grid), color="tab:blue", label="implicit model")
ax.plot(grid, network.predict(grid), color="tab:orange", ls="--", label="MLP")
ax.set_xlabel("u")
ax.set_ylabel("y")
ax.legend(loc="upper right")
ax.set_title("Fits of f from 200 noisy samples")
fig.tight_layout()
plt.show()
