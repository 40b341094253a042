# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Tests of the compiled equilibrium, adjoint and optimizer kernels."""

import numpy as np
import pytest
from scipy.special import expit

from sklearn_implicit._activations import ACTIVATIONS
from sklearn_implicit._kernels._equilibrium import (
    activation_derivative,
    predict,
    solve_fixed_point,
)
from sklearn_implicit._kernels._optim import adam_step
from sklearn_implicit._kernels._projection import project_inf_ball

PHI = {
    "relu": lambda z: np.maximum(z, 0.0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
    "tanh": np.tanh,
    "sigmoid": expit,
}


def random_problem(n_hidden, n_samples, kappa, seed):
    rng = np.random.default_rng(seed)
    A = project_inf_ball(rng.standard_normal((n_hidden, n_hidden)), kappa)
    drive = 2 * rng.standard_normal((n_samples, n_hidden))
    return A, drive


def solve(A, drive, activation, tol, max_iter=10_000, H0=None):
    if H0 is None:
        H0 = np.empty((0, A.shape[0]))
    return solve_fixed_point(A, drive, H0, ACTIVATIONS[activation].code, tol, max_iter)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("n_hidden, n_samples", [(1, 1), (7, 30), (60, 200)])
def test_fixed_point_satisfies_equilibrium(activation, n_hidden, n_samples):
    """Check that the states solve H = phi(H A^T + drive) to the tolerance."""
    A, drive = random_problem(n_hidden, n_samples, 0.9, seed=n_hidden)
    tol = 1e-10
    H, n_iter, residual = solve(A, drive, activation, tol)

    first = np.abs(PHI[activation](drive)).max(axis=1)
    scale = np.maximum(np.abs(H).max(axis=1), first)
    equation = np.abs(H - PHI[activation](H @ A.T + drive)).max(axis=1)
    assert np.all(equation <= 0.9 * tol * scale)
    assert np.all(residual <= tol)
    assert np.all(n_iter >= 1)


def test_fixed_point_matches_dense_solve_for_linear_regime():
    """Check the iteration against a direct solve where ReLU is the identity."""
    rng = np.random.default_rng(0)
    A = project_inf_ball(np.abs(rng.standard_normal((20, 20))), 0.8)
    drive = 1 + rng.random((5, 20))
    H, _, _ = solve(A, drive, "relu", 1e-13)

    # With A >= 0 and drive > 0 every unit is active: H = drive (I - A^T)^-1.
    expected = np.linalg.solve(np.eye(20) - A, drive.T).T
    np.testing.assert_allclose(H, expected, rtol=1e-11)


def test_fixed_point_rows_do_not_depend_on_their_batch():
    """Check that a row's result is the same alone, in a subset, or permuted."""
    A, drive = random_problem(40, 100, 0.95, seed=1)
    H, n_iter, _ = solve(A, drive, "relu", 1e-6)

    order = np.random.default_rng(0).permutation(100)
    H_permuted, n_iter_permuted, _ = solve(A, drive[order], "relu", 1e-6)
    np.testing.assert_allclose(H_permuted, H[order], rtol=0, atol=1e-13)
    np.testing.assert_array_equal(n_iter_permuted, n_iter[order])

    H_single, _, _ = solve(A, drive[7:8].copy(), "relu", 1e-6)
    np.testing.assert_allclose(H_single, H[7:8], rtol=0, atol=1e-13)


def test_fixed_point_warm_start_at_solution_stops_at_once():
    """Check that starting from the equilibrium needs a single iteration."""
    A, drive = random_problem(30, 50, 0.9, seed=2)
    H, n_iter, _ = solve(A, drive, "tanh", 1e-12)
    H_again, n_iter_again, _ = solve(A, drive, "tanh", 1e-8, H0=H)

    assert n_iter.min() > 1
    np.testing.assert_array_equal(n_iter_again, 1)
    np.testing.assert_allclose(H_again, H, atol=1e-11)


def test_fixed_point_reports_unsettled_rows():
    """Check that an exhausted budget leaves a residual above the tolerance."""
    A, drive = random_problem(30, 50, 0.95, seed=3)
    H, n_iter, residual = solve(A, drive, "relu", 1e-10, max_iter=3)

    np.testing.assert_array_equal(n_iter, 3)
    assert residual.max() > 1e-10
    # The residual is the last relative change, recomputed here.
    H2, _, _ = solve(A, drive, "relu", 1e-10, max_iter=2)
    change = np.abs(H - H2).max(axis=1)
    scale = np.maximum(np.abs(H).max(axis=1), np.abs(PHI["relu"](drive)).max(axis=1))
    np.testing.assert_allclose(residual, change / scale, rtol=1e-12)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_fixed_point_stops_each_row_at_its_first_settled_iterate(activation):
    """Check that a row stops at the first iterate whose relative change is <= tol."""
    A, drive = random_problem(20, 40, 0.9, seed=4)
    tol = 1e-6
    H, n_iter, residual = solve(A, drive, activation, tol)

    # The iterates of the whole batch, run without stopping (tolerance 0). A
    # product over fewer rows may round differently, hence the tolerances.
    iterates = [np.zeros_like(drive)]
    for k in range(1, n_iter.max() + 1):
        iterates.append(solve(A, drive, activation, 0.0, max_iter=k)[0])
    first = np.abs(PHI[activation](drive)).max(axis=1)
    for i in range(drive.shape[0]):
        relative = [
            np.abs(iterates[k][i] - iterates[k - 1][i]).max()
            / max(np.abs(iterates[k][i]).max(), first[i])
            for k in range(1, n_iter[i] + 1)
        ]
        assert relative[-1] <= tol < min(relative[:-1], default=np.inf)
        np.testing.assert_allclose(residual[i], relative[-1], rtol=1e-8)
        np.testing.assert_allclose(H[i], iterates[n_iter[i]][i], rtol=0, atol=1e-14)


def test_fixed_point_flags_non_finite_rows():
    """Check that a row that overflows gets an infinite residual."""
    # A = 2 is not well-posed: h <- relu(2 h + 1) doubles until it overflows.
    A = np.array([[2.0]])
    drive = np.array([[1.0], [0.0]])
    H, n_iter, residual = solve(A, drive, "relu", 1e-8, max_iter=2000)

    assert not np.isfinite(H[0, 0]) and residual[0] == np.inf
    assert n_iter[0] > 1000
    assert H[1, 0] == 0.0 and residual[1] == 0.0


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_activation_derivative_matches_finite_differences(activation):
    """Check phi'(z) computed from h = phi(z) against central differences."""
    z = np.linspace(-3, 3, 61).reshape(1, -1) + 0.013
    H = PHI[activation](z)
    Psi = activation_derivative(H, ACTIVATIONS[activation].code)

    step = 1e-6
    expected = (PHI[activation](z + step) - PHI[activation](z - step)) / (2 * step)
    np.testing.assert_allclose(Psi, expected, rtol=1e-7, atol=1e-9)
    assert np.all(Psi <= ACTIVATIONS[activation].lipschitz + 1e-15)


def test_predict_kernel_matches_its_definition():
    """Check that the fused prediction equals H C^T + X D^T + d."""
    rng = np.random.default_rng(4)
    n, p, q, m = 12, 5, 3, 40
    A = project_inf_ball(rng.standard_normal((n, n)), 0.7)
    B, C, D = (rng.standard_normal(s) for s in [(n, p), (q, n), (q, p)])
    b, d = rng.standard_normal(n), rng.standard_normal(q)
    X = rng.standard_normal((m, p))

    H0 = np.empty((0, n))
    H, out, _, _ = predict(A, B, C, D, b, d, X, H0, 0, 1e-12, 10_000)
    H_direct, _, _ = solve(A, X @ B.T + b, "relu", 1e-12)
    np.testing.assert_allclose(H, H_direct, atol=1e-14)
    np.testing.assert_allclose(out, H @ C.T + X @ D.T + d, rtol=1e-13)


def test_adam_step_matches_reference():
    """Check the fused Adam update against the textbook formula."""
    rng = np.random.default_rng(5)
    coef, grad = rng.standard_normal(50), rng.standard_normal(50)
    first, second = rng.standard_normal(50), rng.random(50)
    beta_1, beta_2, epsilon, rate = 0.9, 0.999, 1e-8, 0.01

    expected_first = beta_1 * first + (1 - beta_1) * grad
    expected_second = beta_2 * second + (1 - beta_2) * grad**2
    expected = coef - rate * expected_first / (np.sqrt(expected_second) + epsilon)

    adam_step(coef, grad, first, second, rate, beta_1, beta_2, epsilon)
    np.testing.assert_allclose(first, expected_first, rtol=1e-15)
    np.testing.assert_allclose(second, expected_second, rtol=1e-15)
    np.testing.assert_allclose(coef, expected, rtol=1e-14)
