# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Tests of the projection onto {||A||_inf <= kappa}."""

import math

import numpy as np
import pytest

from sklearn_implicit._kernels._projection import project_inf_ball


def cvxpy_projection(A0, kappa):
    cp = pytest.importorskip("cvxpy")
    A = cp.Variable(A0.shape)
    problem = cp.Problem(
        cp.Minimize(cp.sum_squares(A - A0)),
        [cp.sum(cp.abs(A), axis=1) <= kappa],
    )
    # Clarabel's default tolerances leave errors near 1e-6; ask for more.
    problem.solve(
        solver=cp.CLARABEL,
        tol_gap_abs=1e-14,
        tol_gap_rel=1e-14,
        tol_feas=1e-14,
        tol_ktratio=1e-12,
        max_iter=500,
    )
    assert problem.status in {cp.OPTIMAL, cp.OPTIMAL_INACCURATE}
    return A.value


@pytest.mark.filterwarnings("ignore:Solution may be inaccurate")
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(
    "shape, kappa", [((6, 6), 0.5), ((15, 15), 0.95), ((4, 30), 2.0)]
)
def test_projection_matches_cvxpy(seed, shape, kappa):
    """Check the projection against a conic solver's answer to the same problem."""
    rng = np.random.default_rng(seed)
    A0 = rng.standard_normal(shape) * rng.choice([0.05, 1.0, 10.0], size=(shape[0], 1))

    P = project_inf_ball(A0, kappa)
    np.testing.assert_allclose(P, cvxpy_projection(A0, kappa), atol=1e-8)


def test_projection_row_sums_never_exceed_kappa():
    """Check ||P||_inf <= kappa however the absolute values are added up."""
    rng = np.random.default_rng(0)
    for kappa in [0.1, 0.5, 0.95, 0.999, 1 / 3]:
        A0 = rng.standard_normal((200, 300)) * 10
        P = project_inf_ball(A0, kappa)
        magnitudes = np.abs(P)
        assert magnitudes.sum(axis=1).max() <= kappa
        assert np.linalg.norm(P, np.inf) <= kappa
        assert max(math.fsum(row) for row in magnitudes) <= kappa
        assert np.sort(magnitudes, axis=1).sum(axis=1).max() <= kappa
        assert np.cumsum(magnitudes, axis=1)[:, -1].max() <= kappa
        # The rows that were outside end on the sphere, up to rounding.
        np.testing.assert_allclose(magnitudes.sum(axis=1), kappa, rtol=1e-12)


def test_projection_keeps_rows_inside_and_is_idempotent():
    """Check that rows inside the ball are untouched and that P(P(A)) = P(A)."""
    rng = np.random.default_rng(1)
    A0 = rng.standard_normal((50, 20))
    inside = 0.9 * rng.uniform(0.5, 1 - 1e-12, size=(25, 1))
    A0[::2] *= inside / np.abs(A0[::2]).sum(axis=1, keepdims=True)

    P = project_inf_ball(A0, 0.9)
    np.testing.assert_array_equal(P[::2], A0[::2])
    assert np.all(np.abs(A0[1::2]).sum(axis=1) > 0.9)
    np.testing.assert_array_equal(project_inf_ball(P, 0.9), P)


def test_projection_soft_thresholds_with_the_signs_of_the_input():
    """Check the closed form on a row whose threshold is known."""
    A0 = np.array([[3.0, -2.0, 0.5, 0.0]])
    # With threshold 1.5 the magnitudes 1.5 and 0.5 sum to kappa = 2.
    P = project_inf_ball(A0, 2.0)
    np.testing.assert_allclose(P, [[1.5, -0.5, 0.0, 0.0]], atol=1e-14)

    # A row exactly on the sphere is inside.
    on_sphere = np.array([[0.5, -0.25, 0.125]])
    np.testing.assert_array_equal(project_inf_ball(on_sphere, 0.875), on_sphere)


def test_projection_does_not_modify_its_input():
    """Check that the input matrix is left as it was."""
    A0 = np.random.default_rng(2).standard_normal((10, 10))
    copy = A0.copy()
    project_inf_ball(A0, 0.5)
    np.testing.assert_array_equal(A0, copy)


def test_projection_leaves_non_finite_rows_alone():
    """Check that a row with inf or NaN is passed through, not crashed on."""
    A0 = np.array([[np.inf, 1.0], [np.nan, 0.0], [3.0, 4.0]])
    P = project_inf_ball(A0, 1.0)
    np.testing.assert_array_equal(P[:2], A0[:2])
    np.testing.assert_allclose(np.abs(P[2]).sum(), 1.0)
