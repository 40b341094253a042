# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Tests of the closed-form robustness bounds of section 4."""

import itertools
import warnings

import numpy as np
import pytest
from scipy.special import logsumexp
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from sklearn_implicit import ImplicitClassifier, ImplicitModel, ImplicitRegressor
from sklearn_implicit._activations import ACTIVATIONS
from sklearn_implicit._kernels._projection import project_inf_ball
from sklearn_implicit.analysis import (
    lipschitz_bound,
    output_bounds,
    sensitivity_matrix,
    state_bounds,
    worst_case_loss,
)
from sklearn_implicit.analysis._bounds import _top_k_sum, state_radius

SOLVE = {"tol": 1e-12, "max_iter": 10_000}
ACTIVATION_NAMES = sorted(ACTIVATIONS)
# (n_hidden, n_features, n_outputs, stretched): a stretched model has
# gamma ||A||_inf > 1 while gamma lambda_pf(|A|) < 1.
SIZES = [(6, 4, 2, False), (12, 3, 3, False), (8, 4, 3, True)]


def random_model(n, p, q, activation, seed, stretched=False):
    rng = np.random.default_rng(seed)
    gamma = ACTIVATIONS[activation].lipschitz
    A = project_inf_ball(rng.standard_normal((n, n)), 0.9 / gamma)
    if stretched:
        # A similar matrix: the same lambda_pf(|A|), a larger ||A||_inf.
        scale = np.geomspace(0.2, 5.0, n)
        A = scale[:, None] * A / scale[None, :]
        assert gamma * np.abs(A).sum(axis=1).max() > 1
    B, C, D = (rng.standard_normal(s) for s in [(n, p), (q, n), (q, p)])
    b, d = 0.5 * rng.standard_normal(n), rng.standard_normal(q)
    return ImplicitModel(A, B, C, D, b, d, activation=activation)


def case(activation, size, seed=0):
    # A random model, nominal inputs, per-feature radii and targets.
    n, p, q, stretched = size
    model = random_model(n, p, q, activation, seed, stretched)
    rng = np.random.default_rng(seed + 100)
    X0 = rng.standard_normal((3, p))
    eps = rng.uniform(0.1, 0.5, p)
    return model, X0, eps, rng


def box_samples(rng, X0, eps, n_draws, k=None):
    # Perturbed inputs of shape (n_samples, n_draws, n_features): a third at
    # corners of the box, the rest uniform inside; k-sparse when k is given.
    m, p = X0.shape
    U = rng.uniform(-1.0, 1.0, (m, n_draws, p))
    U[:, : n_draws // 3] = np.sign(U[:, : n_draws // 3])
    if k is not None:
        U *= rng.random((m, n_draws, p)).argsort(axis=2) < k
    return X0[:, None, :] + U * eps


def assert_below(values, bound):
    # values <= bound up to a relative slack of 1e-9.
    slack = 1e-9 * (1.0 + np.abs(bound))
    assert np.all(values <= bound + slack), np.max(values - bound)


def fd_gradient(objective, X, step=1e-6):
    # Forward differences of a row-wise objective.
    base = objective(X)
    grad = np.empty_like(X)
    for j in range(X.shape[1]):
        shifted = X.copy()
        shifted[:, j] += step
        grad[:, j] = (objective(shifted) - base) / step
    return grad


def ascend(objective, X0, eps, rng, mask=None, n_steps=25):
    # Projected signed-gradient ascent of every row of a row-wise objective
    # inside the box |x - x0| <= eps, from a random corner; returns the
    # largest value seen for every row and where it was reached.
    mask = np.ones_like(X0) if mask is None else mask
    X = X0 + eps * mask * rng.choice([-1.0, 1.0], X0.shape)
    best, best_X = objective(X), X.copy()
    step = 0.5 * eps
    for _ in range(n_steps):
        grad = fd_gradient(objective, X)
        X = np.clip(X + step * mask * np.sign(grad), X0 - eps, X0 + eps)
        value = objective(X)
        better = value > best
        best[better], best_X[better] = value[better], X[better]
        step *= 0.85
    return best, best_X


def squared_loss(Y, T):
    return ((Y - T) ** 2).sum(axis=-1)


def cross_entropy(Y, labels):
    return logsumexp(Y, axis=-1) - np.take_along_axis(Y, labels[..., None], -1)[..., 0]


# Soundness against random perturbations -------------------------------------


@pytest.mark.parametrize("k", [None, 2])
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_bounds_hold_on_random_perturbations(activation, size, k):
    """Check that sampled states, outputs and losses stay within their bounds."""
    model, X0, eps, rng = case(activation, size)
    m, p = X0.shape
    Xs = box_samples(rng, X0, eps, 1500, k)
    if k is not None:
        assert np.all((Xs != X0[:, None, :]).sum(axis=2) <= k)
    flat = Xs.reshape(-1, p)
    H = model.hidden_state(flat, **SOLVE).reshape(m, -1, model.n_hidden)
    Y = model.predict(flat, **SOLVE).reshape(m, -1, model.n_outputs)
    H0 = model.hidden_state(X0, **SOLVE)

    states = state_bounds(model, X0, eps, k=k)
    assert_below(states.lower[:, None], H)
    assert_below(H, states.upper[:, None])
    assert_below(np.abs(H - H0[:, None]), states.radius)
    assert_below(np.abs(H - H0[:, None]).max(), states.norm_bound)
    assert states.norm_bound >= states.radius.max()
    assert np.isinf(states.norm_bound) == size[3]
    assert_below(H0 - states.radius, states.lower)
    assert_below(states.upper, H0 + states.radius)

    outputs = output_bounds(model, X0, eps, k=k)
    assert_below(outputs.lower[:, None], Y)
    assert_below(Y, outputs.upper[:, None])

    targets = rng.standard_normal((m, model.n_outputs))
    squared = worst_case_loss(model, X0, targets, eps, k=k, loss="squared_error")
    assert_below(squared_loss(Y, targets[:, None]), squared.upper[:, None])
    labels = rng.integers(model.n_outputs, size=m)
    log_loss = worst_case_loss(model, X0, labels, eps, loss="log_loss", k=k)
    assert_below(cross_entropy(Y, labels[:, None]), log_loss.upper[:, None])

    if not size[3]:
        # Pairs of consecutive samples, and every sample with its nominal row.
        pairs = [(Y[:, 1:], Y[:, :-1], Xs[:, 1:], Xs[:, :-1])]
        pairs.append((Y, model.predict(X0, **SOLVE)[:, None], Xs, X0[:, None]))
        for Y1, Y2, X1, X2 in pairs:
            apart = np.abs(X1 - X2).max(axis=2)
            change = np.abs(Y1 - Y2).max(axis=2)
            ratio = change[apart > 0] / apart[apart > 0]
            assert_below(ratio, lipschitz_bound(model))


# Soundness against gradient ascent inside the box ----------------------------


@pytest.mark.parametrize("size", SIZES[:2])
@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_bounds_hold_against_gradient_ascent(activation, size):
    """Check that gradient ascent inside the box never beats a bound."""
    model, X0, eps, rng = case(activation, size, seed=1)
    m, n, q = X0.shape[0], model.n_hidden, model.n_outputs

    # One row per (nominal input, coordinate, sign) for states and outputs.
    states = state_bounds(model, X0, eps)
    rows = np.array(list(itertools.product(range(m), range(n), [1.0, -1.0])))
    sample, coordinate, sign = (
        rows[:, 0].astype(int),
        rows[:, 1].astype(int),
        rows[:, 2],
    )
    best, _ = ascend(
        lambda X: sign * model.hidden_state(X, **SOLVE)[np.arange(len(X)), coordinate],
        X0[sample],
        eps,
        rng,
    )
    bound = np.where(
        sign > 0, states.upper[sample, coordinate], -states.lower[sample, coordinate]
    )
    assert_below(best, bound)

    outputs = output_bounds(model, X0, eps)
    rows = np.array(list(itertools.product(range(m), range(q), [1.0, -1.0])))
    sample, coordinate, sign = (
        rows[:, 0].astype(int),
        rows[:, 1].astype(int),
        rows[:, 2],
    )
    best, _ = ascend(
        lambda X: sign * model.predict(X, **SOLVE)[np.arange(len(X)), coordinate],
        X0[sample],
        eps,
        rng,
    )
    bound = np.where(
        sign > 0, outputs.upper[sample, coordinate], -outputs.lower[sample, coordinate]
    )
    assert_below(best, bound)

    targets = rng.standard_normal((m, q))
    best, _ = ascend(
        lambda X: squared_loss(model.predict(X, **SOLVE), targets), X0, eps, rng
    )
    assert_below(
        best, worst_case_loss(model, X0, targets, eps, loss="squared_error").upper
    )
    labels = rng.integers(q, size=m)
    best, _ = ascend(
        lambda X: cross_entropy(model.predict(X, **SOLVE), labels), X0, eps, rng
    )
    upper = worst_case_loss(model, X0, labels, eps, loss="log_loss").upper
    assert_below(best, upper)

    Y0 = model.predict(X0, **SOLVE)

    def ratio(X):
        change = np.abs(model.predict(X, **SOLVE) - Y0).max(axis=1)
        return change / np.maximum(np.abs(X - X0).max(axis=1), 1e-300)

    best, _ = ascend(ratio, X0, eps, rng)
    S = sensitivity_matrix(model)
    assert_below(best, S.sum(axis=1).max())
    assert S.sum(axis=1).max() <= lipschitz_bound(model)


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_sparse_bounds_hold_against_gradient_ascent(activation):
    """Check the k-sparse bounds against ascent on random supports of size k."""
    model, X0, eps, rng = case(activation, SIZES[0], seed=2)
    m, p, k = X0.shape[0], X0.shape[1], 2
    support = rng.random((m, p)).argsort(axis=1) < k

    states = state_bounds(model, X0, eps, k=k)
    for i in range(model.n_hidden):
        best, X = ascend(
            lambda X: model.hidden_state(X, **SOLVE)[:, i], X0, eps, rng, support
        )
        assert np.all((X != X0).sum(axis=1) <= k)
        assert_below(best, states.upper[:, i])

    outputs = output_bounds(model, X0, eps, k=k)
    for j in range(model.n_outputs):
        best, _ = ascend(
            lambda X: -model.predict(X, **SOLVE)[:, j], X0, eps, rng, support
        )
        assert_below(best, -outputs.lower[:, j])


# Exact values where the theory is tight ---------------------------------------


@pytest.mark.parametrize("a", [0.0, 0.3, 0.8])
def test_one_state_relu_bounds_are_attained_at_corners(a):
    """Check that a one-state relu model with positive drive attains the bounds."""
    B, C, D = np.array([[1.0, 2.0]]), np.array([[1.5]]), np.array([[0.5, 0.25]])
    model = ImplicitModel([[a]], B, C, D, b=[3.0], d=[-1.0])
    X0, eps = np.array([[1.0, 1.0]]), np.array([0.5, 0.25])
    corners = X0 + np.array([[1.0, 1.0], [-1.0, -1.0]]) * eps

    H = model.hidden_state(corners, **SOLVE)
    states = state_bounds(model, X0, eps)
    np.testing.assert_allclose(states.radius, (B @ eps) / (1 - a), rtol=1e-14)
    np.testing.assert_allclose(states.norm_bound, states.radius[0], rtol=1e-14)
    # Both sides solve equilibria to 1e-12, hence the 1e-10 tolerance.
    np.testing.assert_allclose(states.upper, H[:1], rtol=1e-10)
    np.testing.assert_allclose(states.lower, H[1:], rtol=1e-10)

    Y = model.predict(corners, **SOLVE)
    outputs = output_bounds(model, X0, eps)
    np.testing.assert_allclose(outputs.upper, Y[:1], rtol=1e-10)
    np.testing.assert_allclose(outputs.lower, Y[1:], rtol=1e-10)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("activation", ["relu", "leaky_relu"])
def test_bounds_are_attained_by_monotone_models(activation, seed):
    """Check that non-negative weights with positive drive attain the bounds."""
    # Every state stays active, so h = (I - A)^-1 (B x + b) with non-negative
    # coefficients: the upper corner of the box attains every upper bound.
    rng = np.random.default_rng(seed)
    A = project_inf_ball(rng.random((6, 6)), 0.8)
    B, C, D = rng.random((6, 4)), rng.random((3, 6)), rng.random((3, 4))
    model = ImplicitModel(A, B, C, D, b=np.full(6, 10.0), activation=activation)
    X0, eps = rng.random((3, 4)), rng.uniform(0.1, 0.5, 4)
    H = {s: model.hidden_state(X0 + s * eps, **SOLVE) for s in (-1, 0, 1)}
    Y = {s: model.predict(X0 + s * eps, **SOLVE) for s in (-1, 0, 1)}

    states = state_bounds(model, X0, eps)
    np.testing.assert_allclose(states.upper, H[1], rtol=1e-10)
    np.testing.assert_allclose(states.lower, H[-1], rtol=1e-10)
    np.testing.assert_allclose(states.radius + H[0], H[1], rtol=1e-10)
    outputs = output_bounds(model, X0, eps)
    np.testing.assert_allclose(outputs.upper, Y[1], rtol=1e-10)
    np.testing.assert_allclose(outputs.lower, Y[-1], rtol=1e-10)

    target = Y[0] - 100.0
    losses = worst_case_loss(model, X0, target, eps, loss="squared_error")
    np.testing.assert_allclose(losses.upper, squared_loss(Y[1], target), rtol=1e-10)
    ratio = np.abs(model.predict(X0 + 0.2, **SOLVE) - Y[0]).max(axis=1) / 0.2
    np.testing.assert_allclose(ratio, sensitivity_matrix(model).sum(axis=1).max())

    # With k, output j is pushed furthest by its k most sensitive features.
    k = 2
    radius_k = output_bounds(model, X0, eps, k=k).radius
    weighted = sensitivity_matrix(model) * eps
    for j in range(3):
        support = np.argsort(weighted[j])[-k:]
        X = X0.copy()
        X[:, support] += eps[support]
        change = model.predict(X, **SOLVE)[:, j] - Y[0][:, j]
        np.testing.assert_allclose(change, radius_k[j], rtol=1e-10)


def test_sensitivity_matrix_is_attained_without_feedback():
    """Check S = |C||B| + |D| when A = 0, and that one-feature moves attain it."""
    rng = np.random.default_rng(3)
    B, C, D = rng.random((5, 4)), rng.random((3, 5)), rng.random((3, 4))
    model = ImplicitModel(np.zeros((5, 5)), B, C, D, b=np.full(5, 10.0))
    S = sensitivity_matrix(model)
    np.testing.assert_allclose(S, C @ B + D, rtol=1e-14)

    x0, step = rng.random((1, 4)), 0.3
    moved = x0 + step * np.eye(4)
    change = (model.predict(moved, **SOLVE) - model.predict(x0, **SOLVE)) / step
    np.testing.assert_allclose(change.T, S, rtol=1e-10)
    np.testing.assert_allclose(output_bounds(model, x0, step).radius, S.sum(1) * step)


def test_sensitivity_matrix_with_gamma_matches_its_formula():
    """Check S = |C| (I - gamma |A|)^-1 gamma |B| + |D| for the sigmoid."""
    model = random_model(5, 3, 2, "sigmoid", seed=4)
    gain = np.linalg.solve(np.eye(5) - 0.25 * np.abs(model.A), 0.25 * np.abs(model.B))
    expected = np.abs(model.C) @ gain + np.abs(model.D)
    np.testing.assert_allclose(sensitivity_matrix(model), expected, rtol=1e-12)


@pytest.mark.parametrize("norm", [1, 2, np.inf])
def test_block_sensitivity_matrix_bounds_output_changes(norm):
    """Check Theorem 4.4 on random input pairs, and singleton blocks."""
    model = random_model(6, 3, 2, "tanh", seed=5)
    # A weaker feedback, so that lambda_pf(N(A)) < 1 for these blocks too.
    model = ImplicitModel(
        0.3 * model.A, model.B, model.C, model.D, model.b, model.d, activation="tanh"
    )
    S = sensitivity_matrix(model, blocks=[2, 4], norm=norm)
    assert S.shape == (2, 3)
    rng = np.random.default_rng(6)
    X, X0 = rng.standard_normal((500, 3)), rng.standard_normal((500, 3))
    change = np.abs(model.predict(X, **SOLVE) - model.predict(X0, **SOLVE))
    assert_below(change, np.abs(X - X0) @ S.T)

    singletons = sensitivity_matrix(model, blocks=[1] * 6, norm=norm)
    np.testing.assert_allclose(singletons, sensitivity_matrix(model), rtol=1e-12)


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_state_radius_solves_theorem_4_1(activation):
    """Check the radius against the fixed-point iteration and its k forms."""
    model = random_model(7, 5, 2, activation, seed=7)
    gamma = ACTIVATIONS[activation].lipschitz
    eps = np.linspace(0.1, 0.5, 5)
    sigma = np.zeros(7)
    for _ in range(2000):
        sigma = gamma * np.abs(model.A) @ sigma + gamma * np.abs(model.B) @ eps
    np.testing.assert_allclose(state_radius(model, eps), sigma, rtol=1e-10)

    radii = [state_radius(model, eps, k) for k in range(1, 6)]
    np.testing.assert_allclose(radii[-1], sigma, rtol=1e-10)
    assert all(np.all(r <= s) for r, s in zip(radii, radii[1:]))
    weighted = np.abs(model.B) * eps
    np.testing.assert_allclose(
        _top_k_sum(weighted, 2), np.sort(weighted, axis=1)[:, -2:].sum(axis=1)
    )


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_norm_bound_and_sparse_output_radius_match_their_formulas(activation):
    """Check eq. (4.3)-(4.4) and that the top-k output radius wins."""
    model = random_model(7, 5, 3, activation, seed=8)
    gamma = ACTIVATIONS[activation].lipschitz
    eps, k = np.linspace(0.1, 0.5, 5), 2
    norm_A = np.abs(model.A).sum(axis=1).max()
    X0 = np.zeros((1, 5))
    weighted = np.abs(model.B) * eps

    expected = gamma * weighted.sum(axis=1).max() / (1 - gamma * norm_A)
    assert state_bounds(model, X0, eps).norm_bound == pytest.approx(expected)
    expected = gamma * np.sort(weighted, axis=1)[:, -k:].sum(axis=1).max()
    expected /= 1 - gamma * norm_A
    assert state_bounds(model, X0, eps, k=k).norm_bound == pytest.approx(expected)

    radius_k = output_bounds(model, X0, eps, k=k).radius
    through_states = np.abs(model.C) @ state_radius(model, eps, k)
    through_states += np.sort(np.abs(model.D) * eps, axis=1)[:, -k:].sum(axis=1)
    assert np.all(radius_k <= through_states * (1 + 1e-12))
    assert np.all(radius_k <= output_bounds(model, X0, eps).radius)
    np.testing.assert_allclose(
        output_bounds(model, X0, eps, k=5).radius, output_bounds(model, X0, eps).radius
    )


def test_state_bounds_respect_the_activation_range():
    """Check the bounds stay in [0, inf), [-1, 1] and [0, 1] for wide boxes."""
    for activation, low, high in [
        ("relu", 0.0, np.inf),
        ("tanh", -1.0, 1.0),
        ("sigmoid", 0.0, 1.0),
    ]:
        model = random_model(6, 3, 2, activation, seed=9)
        bounds = state_bounds(model, np.zeros((4, 3)), 50.0)
        assert np.all(bounds.lower >= low) and np.all(bounds.upper <= high)
        assert np.all(bounds.radius > 10)
    model = random_model(6, 3, 2, "leaky_relu", seed=9)
    assert np.any(state_bounds(model, np.zeros((4, 3)), 50.0).lower < -0.1)


def test_state_bounds_with_zero_radius_are_the_nominal_states():
    """Check that eps = 0 gives the nominal states and outputs."""
    model, X0, _, _ = case("tanh", SIZES[0])
    states = state_bounds(model, X0, 0.0)
    H0 = model.hidden_state(X0, **SOLVE)
    np.testing.assert_allclose(states.lower, H0, atol=1e-12)
    np.testing.assert_allclose(states.upper, H0, atol=1e-12)
    outputs = output_bounds(model, X0, np.zeros(4))
    np.testing.assert_array_equal(outputs.radius, 0.0)
    Y0 = model.predict(X0, **SOLVE)
    np.testing.assert_allclose(outputs.lower, Y0, atol=1e-12)
    np.testing.assert_allclose(outputs.upper, Y0, atol=1e-12)


def test_lipschitz_bound_matches_eq_4_8():
    """Check eq. (4.8) by hand, with gamma = 1/4 for the sigmoid."""
    A, B = [[0.2, -0.4], [0.1, 0.0]], [[1.0, -2.0], [0.5, 0.5]]
    C, D = [[1.0, 3.0]], [[-1.0, 0.5]]
    relu = ImplicitModel(A, B, C, D)
    assert lipschitz_bound(relu) == pytest.approx(3.0 * 4.0 / 0.4 + 1.5)
    sigmoid = ImplicitModel(A, B, C, D, activation="sigmoid")
    assert lipschitz_bound(sigmoid) == pytest.approx(0.25 * 12.0 / 0.85 + 1.5)
    for model in (relu, sigmoid):
        assert sensitivity_matrix(model).sum(axis=1).max() <= lipschitz_bound(model)


@pytest.mark.parametrize("loss", ["squared_error", "log_loss"])
def test_worst_case_loss_is_the_maximum_over_the_output_box(loss):
    """Check the loss bound against every vertex of the output box."""
    model, X0, eps, rng = case("relu", SIZES[1])
    eps = 0.01 * eps
    outputs = output_bounds(model, X0, eps)
    # The box is centred on the nominal outputs; its half-widths add to the
    # radius the (here tiny) error of the nominal states.
    Y0 = (outputs.lower + outputs.upper) / 2
    half_width = (outputs.upper - outputs.lower) / 2
    np.testing.assert_allclose(Y0, model.predict(X0, **SOLVE), rtol=1e-11)
    assert np.all(half_width >= outputs.radius)
    np.testing.assert_allclose(
        half_width, np.broadcast_to(outputs.radius, Y0.shape), rtol=1e-9
    )
    signs = np.array(list(itertools.product([-1.0, 1.0], repeat=3)))
    vertices = Y0[:, None, :] + signs[None] * half_width[:, None, :]

    if loss == "squared_error":
        y = rng.standard_normal((3, 3))
        values = squared_loss(vertices, y[:, None])
        nominal = squared_loss(Y0, y)
    else:
        y = np.array([0, 2, 1])
        values = cross_entropy(vertices, y[:, None])
        nominal = cross_entropy(Y0, y)
        paper = logsumexp(Y0 + outputs.radius, axis=1) - Y0[np.arange(3), y]
        paper += outputs.radius[y]
    losses = worst_case_loss(model, X0, y, eps, loss=loss)
    np.testing.assert_allclose(losses.upper, values.max(axis=1), rtol=1e-10)
    np.testing.assert_allclose(losses.nominal, nominal, rtol=1e-10)
    if loss == "log_loss":
        assert np.all(losses.upper <= paper)
        assert np.all(losses.upper < paper - 1e-3)


def test_worst_case_loss_accepts_one_dimensional_targets():
    """Check that a single-output model takes y of shape (n_samples,)."""
    model = random_model(4, 3, 1, "tanh", seed=10)
    X0 = np.zeros((2, 3))
    one_d = worst_case_loss(model, X0, [0.5, -0.5], 0.1)
    two_d = worst_case_loss(model, X0, [[0.5], [-0.5]], 0.1)
    np.testing.assert_array_equal(one_d.upper, two_d.upper)

    # With several outputs, 'auto' means the log loss, which takes labels.
    model = random_model(4, 3, 2, "tanh", seed=10)
    Y = [[0.5, 1.0], [-0.5, 0.0]]
    with pytest.raises(ValueError, match="for real targets pass loss='squared_e"):
        worst_case_loss(model, X0, Y, 0.1)
    losses = worst_case_loss(model, X0, Y, 0.1, loss="squared_error")
    assert np.all(losses.upper >= losses.nominal)


# Fitted estimators -------------------------------------------------------------


def test_bounds_hold_for_a_fitted_classifier_with_string_labels():
    """Check output bounds and both losses on a classifier fitted to iris."""
    X, target = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[target]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = ImplicitClassifier(n_hidden=8, max_iter=5, random_state=0).fit(X, names)
    rng = np.random.default_rng(11)
    rows = rng.choice(len(X), 5, replace=False)
    X0, labels, eps = X[rows], names[rows], 0.05

    losses = worst_case_loss(clf, X0, labels, eps, loss="log_loss")
    expected = -clf.predict_log_proba(X0)[
        np.arange(5), np.searchsorted(clf.classes_, labels)
    ]
    np.testing.assert_allclose(losses.nominal, expected, rtol=1e-5)

    Xs = box_samples(rng, X0, eps, 1000).reshape(-1, 4)
    logits = clf.model_.predict(Xs, **SOLVE).reshape(5, -1, 3)
    outputs = output_bounds(clf, X0, eps)
    assert_below(outputs.lower[:, None], logits)
    assert_below(logits, outputs.upper[:, None])
    index = np.searchsorted(clf.classes_, labels)
    assert_below(cross_entropy(logits, index[:, None]), losses.upper[:, None])
    assert np.all(losses.upper > losses.nominal)

    with pytest.raises(ValueError, match="labels the model does not predict"):
        worst_case_loss(clf, X0, [0, 1, 2, 0, 1], eps, loss="log_loss")


def test_worst_case_loss_of_a_regressor_is_in_target_units():
    """Check that a fitted regressor's loss uses its predictions as they are."""
    rng = np.random.default_rng(12)
    X = rng.standard_normal((40, 3))
    y = 100.0 + 50.0 * X[:, 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = ImplicitRegressor(n_hidden=4, max_iter=3, random_state=0).fit(X, y)
    losses = worst_case_loss(reg, X[:5], y[:5], 0.0)
    np.testing.assert_allclose(
        losses.nominal, (reg.predict(X[:5]) - y[:5]) ** 2, rtol=1e-4
    )
    np.testing.assert_allclose(losses.upper, losses.nominal, rtol=1e-12)


# Errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "function", [state_bounds, output_bounds, worst_case_loss, lipschitz_bound]
)
def test_bounds_refuse_what_is_not_a_model(function):
    """Check the errors for unfitted estimators and other objects."""
    args = {
        state_bounds: ([[0.0]], 0.1),
        output_bounds: ([[0.0]], 0.1),
        worst_case_loss: ([[0.0]], [0.0], 0.1),
        lipschitz_bound: (),
    }[function]
    with pytest.raises(NotFittedError):
        function(ImplicitRegressor(), *args)
    with pytest.raises(TypeError, match="model must be an ImplicitModel"):
        function("model", *args)


@pytest.mark.parametrize("function", [state_bounds, output_bounds, worst_case_loss])
def test_bounds_check_inputs_and_radius(function):
    """Check the errors for bad X, eps and k, and that inputs are not modified."""
    model = random_model(4, 3, 2, "relu", seed=13)
    X, eps = np.ones((2, 3)), np.array([0.1, 0.2, 0.3])
    extra = (np.zeros((2, 2)),) if function is worst_case_loss else ()
    options = {"loss": "squared_error"} if function is worst_case_loss else {}

    def call(X=X, eps=eps, **kwargs):
        return function(model, X, *extra, eps, **options, **kwargs)

    call()
    np.testing.assert_array_equal(X, np.ones((2, 3)))
    np.testing.assert_array_equal(eps, [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="X has 2 features, but the model expects 3"):
        call(X=np.ones((2, 2)))
    with pytest.raises(ValueError, match="Expected 2D array"):
        call(X=np.ones(3))
    with pytest.raises(ValueError, match="eps must be finite and non-negative"):
        call(eps=-0.1)
    with pytest.raises(ValueError, match="eps must be finite and non-negative"):
        call(eps=[0.1, np.nan, 0.1])
    with pytest.raises(ValueError, match=r"eps must be a scalar or have shape \(3,\)"):
        call(eps=[0.1, 0.2])
    for eps in ["0.1", None, True, ["0.1"] * 3]:
        with pytest.raises(TypeError, match="eps must be a number or an array"):
            call(eps=eps)
    for k in [0, 4, 1.5, True]:
        with pytest.raises(ValueError, match=r"k must be None or an int in \[1, 3\]"):
            call(k=k)


def test_worst_case_loss_checks_targets_and_loss():
    """Check the errors for bad targets, labels and loss names."""
    model = random_model(4, 3, 2, "relu", seed=14)
    X = np.zeros((2, 3))
    with pytest.raises(ValueError, match="loss must be 'auto', 'squared_error' or"):
        worst_case_loss(model, X, [0, 1], 0.1, loss="hinge")
    squared = {"loss": "squared_error"}
    with pytest.raises(ValueError, match=r"y must have shape \(2, 2\) for loss="):
        worst_case_loss(model, X, [0.0, 1.0], 0.1, **squared)
    with pytest.raises(ValueError, match=r"y must have shape"):
        worst_case_loss(model, X, np.zeros((3, 2)), 0.1, **squared)
    with pytest.raises(ValueError, match="y must hold real targets"):
        worst_case_loss(model, X, ["a", "b"], 0.1, **squared)
    with pytest.raises(ValueError, match="Input y contains NaN"):
        worst_case_loss(model, X, [[0.0, np.nan], [1.0, 1.0]], 0.1, **squared)
    one_output = ImplicitModel([[0.0]], [[1.0, 0.0, 0.0]], [[1.0]], [[0.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match="needs a model with one output per class"):
        worst_case_loss(one_output, X, [0, 0], 0.1, loss="log_loss")
    with pytest.raises(ValueError, match="labels the model does not predict"):
        worst_case_loss(model, X, [0, 2], 0.1, loss="log_loss")
    with pytest.raises(ValueError, match="y has 3 labels, but X has 2 rows"):
        worst_case_loss(model, X, [0, 1, 1], 0.1, loss="log_loss")


@pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")
def test_bounds_refuse_what_overflows_float64():
    """Check the errors for a sensitivity matrix or outputs beyond float64.

    Along a chain of 60 states with links of 1e6, the input reaches the
    output amplified by 1e6^59; with D = 1e10, the output of x = 1e300 is
    beyond float64 while its state is not.
    """
    chain = ImplicitModel(
        np.diag(np.full(59, 1e6), -1), np.ones((60, 1)), np.ones((1, 60)), [[1.0]]
    )
    with pytest.raises(ValueError, match="sensitivity matrix overflows float64"):
        sensitivity_matrix(chain)

    model = ImplicitModel([[0.0]], [[1.0]], [[1.0]], [[1e10]])
    with pytest.raises(
        FloatingPointError, match="outputs C h \\+ D x \\+ d overflowed"
    ):
        output_bounds(model, [[1e300]], 0.0)
    with pytest.raises(FloatingPointError, match="overflowed float64 for 1 of 1"):
        worst_case_loss(model, [[1e300]], [0.0], 0.0)


def test_norm_bounds_need_a_contractive_A():
    """Check eq. (4.3) and (4.8) refuse gamma ||A||_inf >= 1, Theorem 4.1 not."""
    model = ImplicitModel(
        [[0.0, 2.0], [0.0, 0.0]], np.eye(2), np.ones((1, 2)), [[0.0, 0.0]]
    )
    with pytest.raises(ValueError, match=r"gamma \* \|\|A\|\|_inf < 1, but it is 2"):
        lipschitz_bound(model)
    with pytest.raises(ValueError, match="rescale"):
        lipschitz_bound(model)
    bounds = state_bounds(model, [[1.0, 1.0]], 0.1)
    assert bounds.norm_bound == np.inf
    np.testing.assert_allclose(bounds.radius, [0.3, 0.1])
    with pytest.raises(ValueError, match="lambda_pf"):
        sensitivity_matrix(model, blocks=[2])


def test_bounds_cover_the_error_of_an_unsettled_nominal_state():
    """Check the bounds still hold when the nominal solve runs out.

    With A = 0.999, h = relu(0.999 h + x) is h = 1000 x, but 10,000
    iterations from zero reach only about 999.955 at x = 1; the boxes must
    still hold the exact states 900 and 1100 of x = 0.9 and x = 1.1.
    """
    model = ImplicitModel([[0.999]], [[1.0]], [[1.0]], [[0.0]])
    X0 = [[1.0]]
    with pytest.warns(ConvergenceWarning, match="bounds remain valid"):
        states = state_bounds(model, X0, 0.1)
    with pytest.warns(ConvergenceWarning, match="at most 0.04"):
        outputs = output_bounds(model, X0, 0.1)
    with pytest.warns(ConvergenceWarning):
        losses = worst_case_loss(model, X0, [1000.0], 0.1)

    # The upper ends are exact here, 1100 up to rounding (the residual and
    # its amplification by 1 / (1 - 0.999) are computed in float64).
    for bounds in (states, outputs):
        assert bounds.lower[0, 0] <= 900.0
        assert bounds.upper[0, 0] >= 1100.0 * (1 - 1e-12)
        assert bounds.upper[0, 0] - bounds.lower[0, 0] <= 200.2
    assert losses.upper[0] >= 100.0**2 * (1 - 1e-10)
