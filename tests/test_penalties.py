# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""The sparsity and robustness penalties, and the Frank-Wolfe solver."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from sklearn_implicit import ImplicitClassifier, ImplicitModel, ImplicitRegressor
from sklearn_implicit._kernels._projection import project_inf_ball
from sklearn_implicit._kernels._prox import column_group_prox, soft_threshold
from sklearn_implicit._solvers._gradient import ParameterLayout
from sklearn_implicit._solvers._penalties import Penalties

X_SMALL, Y_SMALL = make_classification(
    n_samples=200, n_features=8, n_informative=3, n_redundant=0, random_state=0
)


def fit_quietly(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


def test_soft_threshold_makes_exact_zeros_with_per_coordinate_steps():
    """Check the l1 map against its closed form, zeros included."""
    y = np.array([3.0, -0.5, 0.2, -2.0, 0.0])
    steps = np.array([1.0, 1.0, 0.1, 0.5, 2.0])
    coef = y.copy()
    soft_threshold(coef, steps, 2.0)
    np.testing.assert_array_equal(coef, [1.0, 0.0, 0.0, -1.0, 0.0])


def test_group_prox_equal_steps_is_group_soft_threshold():
    """Check that equal steps give the usual group shrinkage, exact zeros."""
    rng = np.random.default_rng(0)
    top, bottom = rng.standard_normal((4, 6)), rng.standard_normal((2, 6))
    top[:, 0] *= 0.01
    bottom[:, 0] *= 0.01
    lam, step = 0.7, 0.5
    norms = np.sqrt((top**2).sum(0) + (bottom**2).sum(0))
    factor = np.maximum(1 - lam * step / norms, 0)

    T, D = top.copy(), bottom.copy()
    column_group_prox(T, D, np.full(T.shape, step), np.full(D.shape, step), lam)
    np.testing.assert_allclose(T, top * factor, rtol=1e-13, atol=0)
    np.testing.assert_allclose(D, bottom * factor, rtol=1e-13, atol=0)
    assert factor[0] == 0 and np.all(T[:, 0] == 0) and np.all(D[:, 0] == 0)


@pytest.mark.parametrize("seed", range(5))
def test_group_prox_satisfies_optimality_in_a_diagonal_metric(seed):
    """Check the optimality conditions of the map with unequal steps."""
    rng = np.random.default_rng(seed)
    top, bottom = rng.standard_normal((5, 8)), rng.standard_normal((3, 8))
    top[:, :2] *= 0.1
    bottom[:, :2] *= 0.1
    S_top, S_bottom = rng.uniform(0.05, 3, top.shape), rng.uniform(0.05, 3, (3, 8))
    lam = 1.5
    T, D = top.copy(), bottom.copy()
    column_group_prox(T, D, S_top, S_bottom, lam)

    y, s = np.vstack([top, bottom]), np.vstack([S_top, S_bottom])
    x = np.vstack([T, D])
    for j in range(8):
        r = np.linalg.norm(x[:, j])
        if r == 0:
            # 0 is optimal iff the subgradient condition ||y / s|| <= lam holds.
            assert np.linalg.norm(y[:, j] / s[:, j]) <= lam
        else:
            # lam x / ||x|| + (x - y) / s = 0.
            residual = lam * x[:, j] / r + (x[:, j] - y[:, j]) / s[:, j]
            assert np.abs(residual).max() <= 1e-12 * np.abs(y[:, j] / s[:, j]).max()
    assert 0 < np.sum(np.linalg.norm(x, axis=0) == 0) < 8


def test_l1_prox_then_projection_keeps_zeros_and_is_the_joint_prox():
    """Check that projecting after soft-thresholding never revives a zero."""
    rng = np.random.default_rng(1)
    A = rng.standard_normal((6, 6))
    shrunk = A.ravel().copy()
    soft_threshold(shrunk, np.ones(36), 0.5)
    projected = project_inf_ball(shrunk.reshape(6, 6), 0.3)
    assert np.all(projected[shrunk.reshape(6, 6) == 0] == 0)
    # Both are soft-thresholds of each row: their composition is the
    # soft-threshold by the summed threshold, the prox of l1 plus the ball.
    for a, p in zip(A, projected):
        theta = np.abs(a).max() - np.abs(p).max() if np.any(p) else None
        if theta is not None:
            expected = np.sign(a) * np.maximum(np.abs(a) - theta, 0)
            np.testing.assert_allclose(p, expected, atol=1e-14)


def test_robust_subgradient_matches_finite_differences():
    """Check the robustness subgradient where P is differentiable."""
    rng = np.random.default_rng(2)
    layout = ParameterLayout(4, 3, 2)
    coef = rng.uniform(0.1, 1.0, layout.size) * rng.choice([-1, 1], layout.size)
    # Distinct row sums for every matrix, so that each maximum is unique.
    for M in layout.unpack(coef)[:4]:
        M *= (np.arange(1, M.shape[0] + 1) / np.abs(M).sum(1))[:, None]
    A = layout.unpack(coef)[0]
    A *= 0.1
    penalties = Penalties(layout, l1=0.0, features=0.0, states=0.0, robust=0.7)
    grad = np.zeros_like(coef)
    penalties.add_subgradient(coef, grad)

    step = 1e-7
    for k in range(layout.n_weights):
        shift = np.zeros_like(coef)
        shift[k] = step
        fd = (penalties.value(coef + shift) - penalties.value(coef - shift)) / (
            2 * step
        )
        assert grad[k] == pytest.approx(fd, rel=1e-6, abs=1e-7)


def test_penalty_values_follow_their_formulas():
    """Check each penalty value on a model with known norms."""
    layout = ParameterLayout(2, 2, 1)
    A, B, C, D = (
        np.array([[0.1, -0.2], [0.0, 0.3]]),
        np.eye(2),
        [[1.0, -2.0]],
        [[3.0, 4.0]],
    )
    coef = layout.pack(A, B, C, D, np.zeros(2), np.zeros(1))
    value = Penalties(layout, l1=1.0, features=0, states=0, robust=0).value(coef)
    assert value == pytest.approx(0.6 + 2 + 3 + 7)
    value = Penalties(layout, l1=0, features=1.0, states=0, robust=0).value(coef)
    assert value == pytest.approx(np.sqrt(10) + np.sqrt(17))
    value = Penalties(layout, l1=0, features=0, states=1.0, robust=0).value(coef)
    assert value == pytest.approx(np.sqrt(1.01) + np.sqrt(4.13))
    value = Penalties(layout, l1=0, features=0, states=0, robust=1.0).value(coef)
    assert value == pytest.approx(0.5 * (1 + 9) / 0.7 + 7)


def test_alpha_l1_makes_exact_zeros_and_lowers_the_penalty():
    """Check that the l1 penalty zeros weights and lowers ||W||_1."""
    plain = fit_quietly(
        ImplicitClassifier(
            n_hidden=10, max_iter=60, learning_rate_init=0.01, random_state=0
        ),
        X_SMALL,
        Y_SMALL,
    )
    sparse = fit_quietly(
        ImplicitClassifier(
            n_hidden=10,
            max_iter=60,
            learning_rate_init=0.01,
            alpha_l1=1.0,
            random_state=0,
        ),
        X_SMALL,
        Y_SMALL,
    )

    def l1(model):
        return sum(np.abs(M).sum() for M in (model.A, model.B, model.C, model.D))

    def zeros(model):
        return sum(np.sum(M == 0) for M in (model.B, model.C, model.D))

    assert l1(sparse.model_) < 0.7 * l1(plain.model_)
    assert zeros(plain.model_) == 0
    assert zeros(sparse.model_) > 20
    assert sparse.score(X_SMALL, Y_SMALL) > 0.85


def test_alpha_features_zeros_most_useless_columns():
    """Check that a strong feature penalty zeros the columns of noise."""
    X, y = make_classification(
        n_samples=1000,
        n_features=50,
        n_informative=5,
        n_redundant=0,
        shuffle=False,
        random_state=0,
    )
    model = fit_quietly(
        ImplicitClassifier(
            n_hidden=20,
            alpha_features=30.0,
            learning_rate_init=0.01,
            beta_1=0.0,
            batch_size=1000,
            random_state=0,
        ),
        X,
        y,
    ).model_
    norms = np.sqrt((model.B**2).sum(0) + (model.D**2).sum(0))
    assert np.all(norms[:5] > 0.2)
    assert np.sum(norms[5:] == 0) >= 35


def test_alpha_states_zeros_whole_states_that_can_be_removed():
    """Check that zero columns of (A; C) are states no prediction needs."""
    estimator = fit_quietly(
        ImplicitClassifier(
            n_hidden=12, kappa=0.5, alpha_states=20.0, max_iter=80, random_state=0
        ),
        X_SMALL,
        Y_SMALL,
    )
    model = estimator.model_
    dead = (np.abs(model.A).sum(0) == 0) & (np.abs(model.C).sum(0) == 0)
    assert 2 <= dead.sum() < 12

    keep = ~dead
    reduced = ImplicitModel(
        model.A[np.ix_(keep, keep)],
        model.B[keep],
        model.C[:, keep],
        model.D,
        model.b[keep],
        model.d,
        activation=model.activation,
    )
    full = model.predict(X_SMALL, tol=1e-12, max_iter=10_000)
    np.testing.assert_allclose(
        reduced.predict(X_SMALL, tol=1e-12, max_iter=10_000), full, atol=1e-10
    )


def test_alpha_robust_lowers_the_lipschitz_bound():
    """Check that the robustness penalty lowers P(A, B, C, D) of eq. (4.9)."""

    def bound(model):
        a, b, c, d = (
            np.abs(M).sum(1).max() for M in (model.A, model.B, model.C, model.D)
        )
        return 0.5 * (b**2 + c**2) / (1 - a) + d

    plain = fit_quietly(
        ImplicitRegressor(n_hidden=10, alpha=1.0, max_iter=60, random_state=0),
        X_SMALL,
        X_SMALL[:, 0] ** 2,
    )
    robust = fit_quietly(
        ImplicitRegressor(
            n_hidden=10, alpha=1.0, max_iter=60, alpha_robust=50.0, random_state=0
        ),
        X_SMALL,
        X_SMALL[:, 0] ** 2,
    )
    assert bound(robust.model_) < 0.5 * bound(plain.model_)


def test_frank_wolfe_keeps_a_feasible_and_sparse_early():
    """Check ||A||_inf <= kappa and at most t nonzeros per row after t steps."""
    estimator = ImplicitClassifier(
        n_hidden=30, kappa=0.3, solver="frank_wolfe", batch_size=50, random_state=0
    )
    estimator.partial_fit(X_SMALL, Y_SMALL, classes=[0, 1])
    A = estimator.model_.A
    assert np.abs(A).sum(1).max() <= 0.3
    assert np.count_nonzero(A, axis=1).max() <= 4
    assert estimator._optimizer.t == 4

    fit_quietly(estimator.set_params(max_iter=40), X_SMALL, Y_SMALL)
    assert np.abs(estimator.model_.A).sum(1).max() <= 0.3
    assert estimator.score(X_SMALL, Y_SMALL) > 0.85


def test_block_solver_refuses_the_penalties():
    """Check the error for penalties the block scheme cannot honour."""
    with pytest.raises(ValueError, match="solver='block' .* ignores alpha_features"):
        ImplicitRegressor(solver="block", alpha_features=1.0).fit(X_SMALL, Y_SMALL)


@pytest.mark.parametrize(
    "name", ["alpha_l1", "alpha_features", "alpha_states", "alpha_robust"]
)
def test_negative_strengths_are_refused(name):
    """Check that a negative strength names the parameter."""
    with pytest.raises(ValueError, match=f"'{name}' parameter"):
        ImplicitClassifier(**{name: -1.0}).fit(X_SMALL, Y_SMALL)


def test_frank_wolfe_warm_start_continues_the_step_schedule():
    """Check that a warm-started fit moves A a little, not to a vertex."""
    X, y = make_classification(n_samples=200, n_features=8, random_state=0)
    estimator = ImplicitClassifier(
        n_hidden=10, solver="frank_wolfe", max_iter=30, warm_start=True, random_state=0
    )
    fit_quietly(estimator, X, y)
    A = estimator.model_.A.copy()

    fit_quietly(estimator.set_params(max_iter=1, batch_size=200), X, y)

    moved = np.abs(estimator.model_.A - A).max()
    assert moved < 0.1 * np.abs(A).max()
    assert np.count_nonzero(estimator.model_.A, axis=1).max() > 1


def test_penalised_training_reports_divergence():
    """Check that steps that overflow give a clear error, not a crash."""
    X, y = make_classification(n_samples=100, n_features=5, random_state=0)
    estimator = ImplicitClassifier(n_hidden=5, alpha_features=1.0, max_iter=5)
    with pytest.raises(ValueError, match="Training diverged"):
        fit_quietly(estimator, X * 1e150, y)
