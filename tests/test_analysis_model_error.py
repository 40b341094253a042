# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Tests of model_error_bound."""

import copy

import numpy as np
import pytest

from sklearn_implicit import ImplicitModel, ImplicitRegressor
from sklearn_implicit._kernels._projection import project_inf_ball
from sklearn_implicit.analysis import model_error_bound

GAMMA = {"relu": 1.0, "leaky_relu": 1.0, "tanh": 1.0, "sigmoid": 0.25}
SOLVE = {"tol": 1e-13, "max_iter": 10_000}


def derivative(Z, activation):
    if activation == "relu":
        return (Z > 0).astype(float)
    if activation == "leaky_relu":
        return np.where(Z > 0, 1.0, 0.01)
    if activation == "tanh":
        return 1 - np.tanh(Z) ** 2
    S = 1 / (1 + np.exp(-Z))
    return S * (1 - S)


def random_model(n, p, q, kappa, activation, seed):
    rng = np.random.default_rng(seed)
    A = project_inf_ball(rng.standard_normal((n, n)), kappa)
    B, C, D = (rng.standard_normal(s) for s in [(n, p), (q, n), (q, p)])
    b, d = rng.standard_normal(n), rng.standard_normal(q)
    return ImplicitModel(A, B, C, D, b, d, activation=activation)


def replace(model, **matrices):
    arrays = {name: getattr(model, name) for name in "ABCDbd"}
    arrays.update(matrices)
    return ImplicitModel(**arrays, activation=model.activation)


def observed(model, perturbed, X):
    H = model.hidden_state(X, **SOLVE)
    H_new = perturbed.hidden_state(X, **SOLVE)
    Y, Y_new = model.predict(X, **SOLVE), perturbed.predict(X, **SOLVE)
    return np.abs(H_new - H), np.abs(Y_new - Y)


def assert_within(change, bound):
    # Only a tiny slack for the rounding of the solves.
    assert np.all(change <= bound * (1 + 1e-9) + 1e-12), np.max(change - bound)


@pytest.mark.parametrize("perturbed_model", [True, False])
@pytest.mark.parametrize("a, e", [(0.0, 0.5), (0.5, 0.1), (0.3, 0.65)])
def test_model_error_bound_one_state_exact(a, e, perturbed_model):
    """Check the bound e u / ((1 - a) (1 - a - e)) attained by one ReLU state."""
    # h = relu(a h + u) with u = 2 x + 1 > 0 is u / (1 - a); A grows by e.
    model = ImplicitModel([[a]], [[2.0]], [[-3.0]], [[1.0]], b=[1.0], d=[0.5])
    X = np.array([[0.0], [1.0], [2.5]])
    u = 2 * X + 1
    exact = e * u / ((1 - a) * (1 - a - e))

    if perturbed_model:
        bound = model_error_bound(model, X, replace(model, A=[[a + e]]), **SOLVE)
    else:
        bound = model_error_bound(model, X, error=e, **SOLVE)

    np.testing.assert_allclose(bound.state, exact, rtol=1e-11)
    np.testing.assert_allclose(bound.output, 3 * exact, rtol=1e-11)
    change = observed(model, replace(model, A=[[a + e]]), X)
    np.testing.assert_allclose(change[0], exact, rtol=1e-11)
    np.testing.assert_allclose(change[1], 3 * exact, rtol=1e-11)


def positive_model(seed, n=6, p=3, q=2):
    rng = np.random.default_rng(seed)
    A = project_inf_ball(rng.uniform(0, 1, (n, n)), 0.6)
    B, C, D = (rng.uniform(0, 1, s) for s in [(n, p), (q, n), (q, p)])
    b, d = rng.uniform(0.1, 1, n), rng.standard_normal(q)
    X = rng.uniform(0, 2, (20, p))
    return ImplicitModel(A, B, C, D, b, d), X, rng


@pytest.mark.parametrize("seed", range(3))
def test_model_error_bound_attained_by_positive_relu_model(seed):
    """Check equality for A >= 0, A' - A = E >= 0 and positive drives."""
    model, X, rng = positive_model(seed)
    E = project_inf_ball(rng.uniform(0, 1, model.A.shape), 0.3)
    perturbed = replace(model, A=model.A + E)
    state, output = observed(model, perturbed, X)

    for bound in (
        model_error_bound(model, X, error=E, **SOLVE),
        model_error_bound(model, X, perturbed, **SOLVE),
    ):
        np.testing.assert_allclose(bound.state, state, rtol=1e-9)
        np.testing.assert_allclose(bound.output, output, rtol=1e-9)


def test_model_error_bound_attained_with_all_matrices():
    """Check equality when every matrix grows on a positive ReLU model."""
    model, X, rng = positive_model(7)
    grow = {
        "A": model.A + project_inf_ball(rng.uniform(0, 1, model.A.shape), 0.3),
        "B": model.B + rng.uniform(0, 1, model.B.shape),
        "b": model.b + rng.uniform(0, 1, model.b.shape),
        "C": model.C + rng.uniform(0, 1, model.C.shape),
        "D": model.D + rng.uniform(0, 1, model.D.shape),
        "d": model.d + rng.uniform(0, 1, model.d.shape),
    }
    perturbed = replace(model, **grow)
    state, output = observed(model, perturbed, X)

    bound = model_error_bound(model, X, perturbed, **SOLVE)

    np.testing.assert_allclose(bound.state, state, rtol=1e-9)
    np.testing.assert_allclose(bound.output, output, rtol=1e-9)


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("all_matrices", [False, True])
def test_model_error_bound_covers_random_pairs(activation, all_matrices):
    """Check random perturbed models never leave the bound."""
    scale = 1 / GAMMA[activation]
    for seed in range(4):
        model = random_model(8, 3, 2, 0.6 * scale, activation, seed)
        rng = np.random.default_rng(100 + seed)
        change = {"A": model.A + project_inf_ball(rng.standard_normal((8, 8)), 0.3)}
        if all_matrices:
            for name in "BCDbd":
                value = getattr(model, name)
                change[name] = value + 0.3 * rng.standard_normal(value.shape)
        perturbed = replace(model, **change)
        X = 2 * rng.standard_normal((50, 3))

        bound = model_error_bound(model, X, perturbed, **SOLVE)

        state, output = observed(model, perturbed, X)
        assert_within(state, bound.state)
        assert_within(output, bound.output)
        # Not vacuous: some entry comes within a factor of 6 of its bound.
        assert np.max(state / np.maximum(bound.state, 1e-300)) > 0.15


def adversarial_A(model, E, x, target, steps=25):
    # Projected sign-gradient ascent of target . h'(A') over |A' - A| <= E,
    # with dh'/dA' from implicit differentiation: for g = w . h', the
    # gradient is outer(Phi (I - Phi A')^{-T} w, h'), Phi = diag(phi'(z)).
    A_new = model.A + E * np.sign(np.outer(target, target))
    step = E / 4
    for _ in range(steps):
        perturbed = replace(model, A=A_new)
        h = perturbed.hidden_state(x, **SOLVE)[0]
        phi = derivative(A_new @ h + model.B @ x[0] + model.b, model.activation)
        adjoint = np.linalg.solve((np.eye(len(h)) - phi[:, None] * A_new).T, target)
        gradient = np.outer(phi * adjoint, h)
        A_new = np.clip(A_new + step * np.sign(gradient), model.A - E, model.A + E)
    return A_new


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "tanh", "sigmoid"])
def test_model_error_bound_covers_error_box(activation):
    """Check A' drawn inside, on the vertices of, and adversarially in the box."""
    scale = 1 / GAMMA[activation]
    model = random_model(5, 2, 2, 0.5 * scale, activation, seed=3)
    rng = np.random.default_rng(4)
    E = rng.uniform(0, 0.08 * scale, (5, 5))
    X = 2 * rng.standard_normal((4, 2))
    H = model.hidden_state(X, **SOLVE)

    bound = model_error_bound(model, X, error=E, **SOLVE)

    candidates = [model.A + E, model.A - E]
    candidates += [model.A + E * rng.uniform(-1, 1, E.shape) for _ in range(40)]
    candidates += [model.A + E * rng.choice([-1, 1], E.shape) for _ in range(40)]
    for A_new in candidates:
        state, output = observed(model, replace(model, A=A_new), X)
        assert_within(state, bound.state)
        assert_within(output, bound.output)

    worst = 0.0
    for row in range(len(X)):
        for i in range(5):
            for sign in (-1, 1):
                target = sign * np.eye(5)[i]
                A_new = adversarial_A(model, E, X[row : row + 1], target)
                H_new = replace(model, A=A_new).hidden_state(X[row : row + 1], **SOLVE)
                state = np.abs(H_new[0] - H[row])
                assert_within(state, bound.state[row])
                worst = max(worst, state[i] / bound.state[row, i])
    # The ascent comes within a factor of about 3 of the bound (within 1.5
    # for the ReLUs), so the check above has teeth.
    assert worst > 0.3


def test_model_error_bound_scalar_error_is_uniform_matrix():
    """Check that a scalar error means the same bound on every entry."""
    model = random_model(6, 3, 2, 0.7, "tanh", 0)
    X = np.random.default_rng(0).standard_normal((10, 3))

    scalar = model_error_bound(model, X, error=0.02)
    matrix = model_error_bound(model, X, error=np.full((6, 6), 0.02))

    np.testing.assert_array_equal(scalar.state, matrix.state)
    np.testing.assert_array_equal(scalar.output, matrix.output)
    zero = model_error_bound(model, X, error=0.0)
    np.testing.assert_array_equal(zero.state, 0)


def test_model_error_bound_takes_estimators_and_keeps_inputs():
    """Check fitted estimators as either model, and unchanged inputs."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 3))
    first = ImplicitRegressor(n_hidden=4, max_iter=2, random_state=0).fit(X, X[:, 0])
    second = ImplicitRegressor(n_hidden=4, max_iter=3, random_state=0).fit(X, X[:, 0])
    X_before = X.copy()
    before = copy.deepcopy(first.model_)

    bound = model_error_bound(first, X, second)

    expected = model_error_bound(first.model_, X, second.model_)
    np.testing.assert_array_equal(bound.state, expected.state)
    assert bound.state.shape == (30, 4) and bound.output.shape == (30, 1)
    np.testing.assert_array_equal(X, X_before)
    for name in "ABCDbd":
        np.testing.assert_array_equal(
            getattr(first.model_, name), getattr(before, name)
        )


def test_model_error_bound_validation():
    """Check the messages for bad arguments."""
    model = random_model(4, 3, 2, 0.7, "relu", 0)
    X = np.zeros((2, 3))

    with pytest.raises(ValueError, match="exactly one of perturbed_model and error"):
        model_error_bound(model, X)
    with pytest.raises(ValueError, match="exactly one of perturbed_model and error"):
        model_error_bound(model, X, model, error=0.1)
    with pytest.raises(ValueError, match="error must be finite and non-negative"):
        model_error_bound(model, X, error=-0.1)
    with pytest.raises(ValueError, match="error must be finite and non-negative"):
        model_error_bound(model, X, error=np.nan)
    with pytest.raises(ValueError, match=r"error must .* shape \(4, 4\), got shape"):
        model_error_bound(model, X, error=np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"\(n_hidden.*= \(4, 3, 2\), got \(5, 3, 2\)"):
        model_error_bound(model, X, random_model(5, 3, 2, 0.7, "relu", 0))
    with pytest.raises(ValueError, match=r"got \(4, 2, 2\)"):
        model_error_bound(model, X, random_model(4, 2, 2, 0.7, "relu", 0))
    with pytest.raises(ValueError, match="activation 'relu', got 'tanh'"):
        model_error_bound(model, X, random_model(4, 3, 2, 0.7, "tanh", 0))
    with pytest.raises(ValueError, match="X has 2 features"):
        model_error_bound(model, np.zeros((2, 2)), error=0.1)
    with pytest.raises(TypeError, match="X must be an array of input rows, not Impl"):
        model_error_bound(model, model, X)
    with pytest.raises(
        ValueError, match=r"lambda_pf\(gamma \(\|A\| \+ error\)\) < 1, but it is 1.1"
    ):
        model_error_bound(model, X, error=0.1)
