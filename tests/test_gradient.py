# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""The implicit gradient against finite differences of the loss."""

import numpy as np
import pytest

from sklearn_implicit import ImplicitModel
from sklearn_implicit._activations import ACTIVATIONS
from sklearn_implicit._kernels._projection import project_inf_ball
from sklearn_implicit._solvers._gradient import (
    ParameterLayout,
    loss_and_gradient,
    model_gradients,
)

TOL = 1e-14
STEP = 1e-5


def make_problem(activation, loss, n_samples=5, seed=0, n=6, p=4, q=3):
    rng = np.random.default_rng(seed)
    layout = ParameterLayout(n, p, q)
    coef = 0.5 * rng.standard_normal(layout.size)
    A = layout.unpack(coef)[0]
    A[:] = project_inf_ball(A, 0.8)
    X = rng.standard_normal((n_samples, p))
    if loss == "log_loss":
        Y = np.eye(q)[rng.integers(0, q, n_samples)]
    else:
        Y = rng.standard_normal((n_samples, q))
    return layout, coef, X, Y


def objective(coef, layout, X, Y, loss, activation, l2=0.0, batch_tol=False):
    grad = np.empty_like(coef)
    value, _ = loss_and_gradient(
        coef,
        grad,
        layout,
        X,
        Y,
        loss=loss,
        activation=activation,
        l2=l2,
        tol=TOL,
        max_iter=100_000,
        batch_tol=batch_tol,
    )
    return value, grad


def central_differences(f, x):
    fd = np.empty_like(x)
    for k in range(x.size):
        shift = np.zeros_like(x)
        shift.flat[k] = STEP
        fd.flat[k] = (f(x + shift) - f(x - shift)) / (2 * STEP)
    return fd


def assert_close(grad, fd):
    # Relative error of 1e-6, measured against the largest entry of the block.
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-6 * np.abs(fd).max())


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("loss", ["squared_error", "log_loss"])
@pytest.mark.parametrize("n_samples", [1, 5])
def test_parameter_gradient_matches_finite_differences(activation, loss, n_samples):
    """Check dL/d(A, B, C, D, b, d), L2 penalty included, against differences."""
    layout, coef, X, Y = make_problem(activation, loss, n_samples)
    l2 = 0.3

    value, grad = objective(coef, layout, X, Y, loss, activation, l2)
    fd = central_differences(
        lambda c: objective(c, layout, X, Y, loss, activation, l2)[0], coef
    )
    for part in layout.slices:
        assert_close(grad[part], fd[part])


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("loss", ["squared_error", "log_loss"])
def test_input_gradient_matches_finite_differences(activation, loss):
    """Check the gradient with respect to the inputs, V B + G D."""
    layout, coef, X, Y = make_problem(activation, loss, seed=1)
    model = layout.to_model(coef, activation)

    gradients = model_gradients(model, X, Y, loss, tol=TOL)
    fd = central_differences(
        lambda Z: objective(coef, layout, Z, Y, loss, activation)[0], X
    )
    assert_close(gradients.X, fd)
    assert gradients.loss == pytest.approx(
        objective(coef, layout, X, Y, loss, activation)[0]
    )


def test_gradient_with_zero_state_matrix():
    """Check the gradient at A = 0, where the model is a one-layer network."""
    layout, coef, X, Y = make_problem("relu", "log_loss", seed=2)
    A = layout.unpack(coef)[0]
    A[:] = 0.0

    _, grad = objective(coef, layout, X, Y, "log_loss", "relu")
    fd = central_differences(
        lambda c: objective(c, layout, X, Y, "log_loss", "relu")[0], coef
    )
    for part in layout.slices:
        assert_close(grad[part], fd[part])
    assert np.abs(grad[layout.slices[0]]).max() > 0


def test_gradient_of_a_unit_that_is_never_active():
    """Check that a dead ReLU unit gets zero gradient on the parameters it owns."""
    layout, coef, X, Y = make_problem("relu", "squared_error", n_samples=8, seed=3)
    A, B, C, D, b, d = layout.unpack(coef)
    A[2] = 0.0
    b[2] = -100.0

    _, grad = objective(coef, layout, X, Y, "squared_error", "relu")
    fd = central_differences(
        lambda c: objective(c, layout, X, Y, "squared_error", "relu")[0], coef
    )
    for part in layout.slices:
        assert_close(grad[part], fd[part])
    gA, gB, gC, _, gb, _ = layout.unpack(grad)
    assert not gA[2].any() and not gB[2].any() and gb[2] == 0
    assert not gC[:, 2].any()


def test_gradient_at_a_pre_activation_exactly_zero():
    """Check the one-sided derivatives where a ReLU sits exactly at its kink.

    The loss has no gradient there. The implicit gradient takes the slope of
    the inactive side, so along every coordinate it equals the difference
    quotient taken in the direction that keeps the unit inactive; coordinates
    that do not move the unit are smooth and checked the same way.
    """
    layout, coef, X, Y = make_problem("relu", "log_loss", n_samples=1, seed=4)
    A, B, C, D, b, d = layout.unpack(coef)
    A[3], B[3], b[3] = 0.0, 0.0, 0.0
    model = layout.to_model(coef, "relu")
    H = model.hidden_state(X, tol=TOL)
    assert H[0, 3] == 0.0

    # Derivative of the unit's pre-activation z_3 along each coordinate.
    moves = np.zeros_like(coef)
    mA, mB, _, _, mb, _ = layout.unpack(moves)
    mA[3], mB[3], mb[3] = H[0], X[0], 1.0
    direction = np.where(moves > 0, -1.0, 1.0)

    def f(c):
        return objective(c, layout, X, Y, "log_loss", "relu")[0]

    _, grad = objective(coef, layout, X, Y, "log_loss", "relu")
    one_sided = np.empty_like(coef)
    for k in range(coef.size):
        shift = np.zeros_like(coef)
        shift[k] = direction[k] * STEP
        one_sided[k] = (-3 * f(coef) + 4 * f(coef + shift) - f(coef + 2 * shift)) / (
            2 * STEP
        )
    for part in layout.slices:
        assert_close(grad[part], direction[part] * one_sided[part])

    # The other side is different: the unit would switch on there.
    shift = np.zeros_like(coef)
    shift[layout.slices[4].start + 3] = STEP
    upward = (f(coef + shift) - f(coef)) / STEP
    assert abs(upward - grad[layout.slices[4].start + 3]) > 1e-3


def test_batch_tolerance_gradient_is_accurate():
    """Check the training gradient, whose adjoint rows share one scale."""
    layout, coef, X, Y = make_problem("tanh", "log_loss", n_samples=20, seed=5)
    _, exact = objective(coef, layout, X, Y, "log_loss", "tanh")

    grad = np.empty_like(coef)
    loss_and_gradient(
        coef,
        grad,
        layout,
        X,
        Y,
        loss="log_loss",
        activation="tanh",
        l2=0.0,
        tol=1e-6,
        max_iter=1000,
        batch_tol=True,
    )
    np.testing.assert_allclose(grad, exact, atol=1e-5 * np.abs(exact).max())


def test_loss_values_match_their_definitions():
    """Check the losses against direct formulas, with A = 0 and no hidden state."""
    rng = np.random.default_rng(6)
    X = rng.standard_normal((10, 3))
    D = rng.standard_normal((4, 3))
    d = rng.standard_normal(4)
    model = ImplicitModel([[0.0]], [[0.0] * 3], [[0.0]] * 4, D, d=d)
    out = X @ D.T + d

    Y = rng.standard_normal((10, 4))
    squared = model_gradients(model, X, Y, "squared_error").loss
    assert squared == pytest.approx(0.5 * np.sum((out - Y) ** 2) / 10, rel=1e-13)

    labels = rng.integers(0, 4, 10)
    log_proba = out - np.log(np.exp(out).sum(axis=1, keepdims=True))
    cross_entropy = model_gradients(model, X, np.eye(4)[labels], "log_loss").loss
    expected = -log_proba[np.arange(10), labels].mean()
    assert cross_entropy == pytest.approx(expected, rel=1e-13)

    # Smoothed targets, as the classifier's label_smoothing makes them.
    soft = 0.9 * np.eye(4)[labels] + 0.1 / 4
    cross_entropy = model_gradients(model, X, soft, "log_loss").loss
    expected = -np.sum(soft * log_proba) / 10
    assert cross_entropy == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_gradient_with_smoothed_targets(activation):
    """Check the cross-entropy gradient against soft target rows."""
    layout, coef, X, Y = make_problem(activation, "log_loss", seed=7)
    Y = 0.8 * Y + 0.2 / Y.shape[1]

    value, grad = objective(coef, layout, X, Y, "log_loss", activation, 0.3)
    fd = central_differences(
        lambda c: objective(c, layout, X, Y, "log_loss", activation, 0.3)[0], coef
    )
    for part in layout.slices:
        assert_close(grad[part], fd[part])
