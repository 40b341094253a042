# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Tests of well_posedness and rescale."""

import copy

import numpy as np
import pytest

from sklearn_implicit import ImplicitModel, ImplicitRegressor
from sklearn_implicit._kernels._projection import project_inf_ball
from sklearn_implicit.analysis import rescale, well_posedness
from sklearn_implicit.analysis._wellposedness import perron_frobenius


def model_with(A, activation="relu", p=2, q=2, seed=0):
    rng = np.random.default_rng(seed)
    n = A.shape[0]
    B, C, D = (rng.standard_normal(s) for s in [(n, p), (q, n), (q, p)])
    b, d = rng.standard_normal(n), rng.standard_normal(q)
    return ImplicitModel(A, B, C, D, b, d, activation=activation)


def unchecked(A, activation="relu"):
    # A model holding a matrix the constructor may refuse, set after the check.
    model = copy.deepcopy(model_with(np.zeros_like(A), activation))
    model.A = np.array(A, dtype=float)
    return model


def hidden_scaling(A0, spread, seed):
    # P A0 P^{-1} with P diagonal and positive: same lambda_pf, larger norm.
    rng = np.random.default_rng(seed)
    p = np.exp(rng.uniform(-spread, spread, A0.shape[0]))
    return p[:, None] * A0 / p


def test_well_posedness_diagonal():
    """Check every entry on a diagonal matrix, where all tests agree."""
    model = model_with(np.diag([0.5, -0.9]), activation="sigmoid")

    result = well_posedness(model)

    assert result.norm_inf == pytest.approx(0.9, abs=1e-15)
    assert result.pf_eigenvalue == pytest.approx(0.9, abs=1e-15)
    assert result.lipschitz == 0.25
    assert result.condition == pytest.approx(0.225, abs=1e-15)
    np.testing.assert_allclose(result.block_norms, np.diag([0.125, 0.225]))
    assert not result.triangular
    assert result.well_posed


def test_well_posedness_triangular_with_big_entry():
    """Check that a strictly triangular A has eigenvalue exactly 0."""
    model = model_with(np.array([[0.0, 100.0, -3.0], [0, 0, 50.0], [0, 0, 0]]))

    result = well_posedness(model)

    assert result.norm_inf == 103.0
    assert result.pf_eigenvalue == 0.0
    assert result.condition == 0.0
    assert result.triangular
    assert result.well_posed


def test_well_posedness_norm_above_one_eigenvalue_below():
    """Check a matrix with ||A||_inf = 4 and lambda_pf(|A|) = 0.2."""
    model = model_with(np.array([[0.0, -4.0], [0.01, 0.0]]))

    result = well_posedness(model)

    assert result.norm_inf == 4.0
    assert result.pf_eigenvalue == pytest.approx(0.2, rel=1e-12)
    assert result.condition == pytest.approx(0.2, rel=1e-12)
    assert not result.triangular
    assert result.well_posed


def test_well_posedness_permuted_triangular_is_exactly_nilpotent():
    """Check that any acyclic |A|, in any state order, has eigenvalue 0."""
    rng = np.random.default_rng(0)
    A = np.triu(rng.uniform(1, 50, (30, 30)), 1)
    order = rng.permutation(30)

    result = well_posedness(unchecked(A[np.ix_(order, order)]))

    assert result.pf_eigenvalue == 0.0
    assert not result.triangular
    assert result.well_posed


def test_perron_frobenius_reducible_takes_largest_block():
    """Check the eigenvalue of a block-triangular matrix from its blocks."""
    M = np.array(
        [
            [0.0, 0.3, 100.0, 0.0],
            [0.3, 0.0, 0.0, 7.0],
            [0.0, 0.0, 0.5, 0.0],
            [0.0, 0.0, 0.0, 0.0],
        ]
    )

    assert perron_frobenius(M) == pytest.approx(0.5, abs=1e-15)
    M[2, 2] = 0.1
    assert perron_frobenius(M) == pytest.approx(0.3, rel=1e-14)


# A with blocks of sizes (2, 1): the (1, 1) block [[0.3, 0.4], [0, 0]], the
# (1, 2) column [0.1, -0.2], the (2, 1) row [0.6, 0.8] and the (2, 2) entry
# 0.3, whose induced norms are known in closed form.
BLOCK_A = np.array([[0.3, 0.4, 0.1], [0.0, 0.0, -0.2], [0.6, 0.8, 0.3]])
BLOCK_NORMS = {
    1: np.array([[0.4, 0.3], [0.8, 0.3]]),
    2: np.array([[0.5, np.sqrt(0.05)], [1.0, 0.3]]),
    np.inf: np.array([[0.7, 0.2], [1.4, 0.3]]),
}


def pf_2x2(M):
    (a, b), (c, d) = M
    return (a + d) / 2 + np.sqrt(((a - d) / 2) ** 2 + b * c)


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
@pytest.mark.parametrize("norm", [1, 2, np.inf])
def test_well_posedness_blocks_by_hand(norm, activation):
    """Check Gamma N(A) and its eigenvalue against hand-computed norms."""
    model = model_with(BLOCK_A, activation=activation)
    gamma = 0.25 if activation == "sigmoid" else 1.0

    result = well_posedness(model, blocks=[2, 1], norm=norm)

    expected = gamma * BLOCK_NORMS[norm]
    np.testing.assert_allclose(result.block_norms, expected, rtol=1e-14)
    assert result.condition == pytest.approx(pf_2x2(expected), rel=1e-12)
    assert result.well_posed == (pf_2x2(expected) < 1)
    assert result.pf_eigenvalue == pytest.approx(
        np.max(np.abs(np.linalg.eigvals(np.abs(BLOCK_A)))), rel=1e-12
    )


def test_well_posedness_blocks_can_fail_where_states_pass():
    """Check that the l_inf block test fails while the per-state test passes."""
    model = model_with(BLOCK_A)

    assert well_posedness(model).well_posed
    result = well_posedness(model, blocks=[2, 1], norm=np.inf)
    assert result.condition == pytest.approx(0.5 + np.sqrt(0.32), rel=1e-12)
    assert not result.well_posed


@pytest.mark.parametrize("norm", [1, 2, np.inf])
def test_well_posedness_unit_blocks_match_states(norm):
    """Check that blocks of one state reproduce the per-state test."""
    model = model_with(BLOCK_A)

    per_state = well_posedness(model)
    unit = well_posedness(model, blocks=[1, 1, 1], norm=norm)

    np.testing.assert_allclose(unit.block_norms, per_state.block_norms)
    assert unit.condition == pytest.approx(per_state.condition, rel=1e-12)


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_well_posedness_agrees_with_model_acceptance(activation):
    """Check well_posed against the ImplicitModel constructor's own check."""
    rng = np.random.default_rng(1)
    scale = 4.0 if activation == "sigmoid" else 1.0
    outcomes = set()
    for trial in range(60):
        n = rng.integers(2, 8)
        A = rng.standard_normal((n, n)) * rng.uniform(0.05, 1.5) * scale / np.sqrt(n)
        if trial % 5 == 0:
            A = np.triu(A * 30, 1)
        elif trial % 5 == 1:
            A = hidden_scaling(A, 2.0, trial)
        result = well_posedness(unchecked(A, activation))
        try:
            model_with(A, activation=activation)
            accepted = True
        except ValueError:
            accepted = False
        assert result.well_posed == accepted
        outcomes.add(accepted)
    assert outcomes == {True, False}


def test_well_posedness_takes_fitted_estimator():
    """Check that a fitted estimator is analysed through its model_."""
    X = np.random.default_rng(0).standard_normal((30, 3))
    estimator = ImplicitRegressor(n_hidden=4, max_iter=2, random_state=0)
    estimator.fit(X, X[:, 0])

    result = well_posedness(estimator)

    assert result.norm_inf == pytest.approx(np.abs(estimator.model_.A).sum(1).max())
    assert result.well_posed


def test_well_posedness_rejects_bad_blocks():
    """Check the messages for bad blocks and norms."""
    model = model_with(BLOCK_A)
    with pytest.raises(ValueError, match="blocks must be a sequence"):
        well_posedness(model, blocks=[2, 2])
    with pytest.raises(ValueError, match="norm must be 1, 2 or inf"):
        well_posedness(model, blocks=[2, 1], norm=3)
    with pytest.raises(TypeError, match="model must be an ImplicitModel"):
        well_posedness(BLOCK_A)


def assert_same_predictions(model, rescaled, seed=0):
    X = 3 * np.random.default_rng(seed).standard_normal((200, model.n_features_in))
    expected = model.predict(X, tol=1e-13, max_iter=10_000)
    np.testing.assert_allclose(
        rescaled.predict(X, tol=1e-13, max_iter=10_000),
        expected,
        rtol=1e-9,
        atol=1e-9 * np.abs(expected).max(),
    )


def assert_rescaled(model, rescaled, kappa):
    assert np.abs(rescaled.A).sum(axis=1).max() < kappa
    assert rescaled.activation == model.activation
    np.testing.assert_array_equal(rescaled.D, model.D)
    np.testing.assert_array_equal(rescaled.d, model.d)
    # The scaling is diagonal and positive: signs and the zero pattern stay.
    np.testing.assert_array_equal(np.sign(rescaled.A), np.sign(model.A))
    np.testing.assert_array_equal(np.sign(rescaled.B), np.sign(model.B))


@pytest.mark.parametrize("activation", ["relu", "leaky_relu"])
@pytest.mark.parametrize("seed", range(4))
def test_rescale_hidden_scaling_keeps_predictions(activation, seed):
    """Check a model with ||A||_inf >> 1 > lambda_pf(|A|) rescaled below 1."""
    rng = np.random.default_rng(seed)
    A0 = project_inf_ball(rng.standard_normal((10, 10)), 0.8)
    model = model_with(hidden_scaling(A0, 3.0, seed), activation, p=3, seed=seed)
    assert np.abs(model.A).sum(axis=1).max() > 5
    eigenvalue = well_posedness(model).pf_eigenvalue

    rescaled = rescale(model)

    assert_rescaled(model, rescaled, (1 + eigenvalue) / 2)
    assert_same_predictions(model, rescaled, seed)


def test_rescale_reaches_near_the_eigenvalue():
    """Check that a target just above lambda_pf(|A|) is reached (eq. (2.6))."""
    A0 = project_inf_ball(np.random.default_rng(3).standard_normal((6, 6)), 0.7)
    model = model_with(hidden_scaling(A0, 2.0, 3))
    eigenvalue = well_posedness(model).pf_eigenvalue

    rescaled = rescale(model, kappa=eigenvalue + 1e-6)

    norm = np.abs(rescaled.A).sum(axis=1).max()
    assert eigenvalue - 1e-12 <= norm < eigenvalue + 1e-6
    assert_same_predictions(model, rescaled)


@pytest.mark.parametrize("activation", ["relu", "leaky_relu"])
def test_rescale_triangular_with_large_entries(activation):
    """Check a strictly triangular A, whose |A| has no positive PF vector."""
    rng = np.random.default_rng(5)
    A = np.triu(rng.uniform(-40, 40, (6, 6)), 1)
    model = model_with(A, activation, p=3)

    rescaled = rescale(model, kappa=0.5)

    assert_rescaled(model, rescaled, 0.5)
    assert_same_predictions(model, rescaled)


@pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")
def test_rescale_refuses_a_scaling_beyond_float64():
    """Check the error when v = (I - |A| / kappa)^{-1} 1 overflows.

    Along a chain of 60 states with links of 1e6, v grows like (2e6)^59.
    """
    A = np.diag(np.full(59, 1e6), -1)
    model = model_with(A, "relu", p=1)
    with pytest.raises(ValueError, match="overflows float64"):
        rescale(model, kappa=0.5)


def test_rescale_block_triangular_reducible():
    """Check a reducible |A| with a large coupling between two cycles."""
    A = np.array(
        [
            [0.0, 0.9, 60.0, 0.0],
            [0.5, 0.0, 0.0, -80.0],
            [0.0, 0.0, 0.0, 0.3],
            [0.0, 0.0, -0.6, 0.0],
        ]
    )
    model = model_with(A)
    assert well_posedness(model).pf_eigenvalue == pytest.approx(np.sqrt(0.45))

    rescaled = rescale(model, kappa=0.9)

    assert_rescaled(model, rescaled, 0.9)
    assert_same_predictions(model, rescaled)


def test_rescale_does_not_modify_the_model():
    """Check that rescale leaves the given model's arrays unchanged."""
    model = model_with(np.array([[0.0, -4.0], [0.01, 0.0]]))
    before = copy.deepcopy(model)

    rescale(model)

    for name in "ABCDbd":
        np.testing.assert_array_equal(getattr(model, name), getattr(before, name))


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_rescale_refuses_non_homogeneous_activation(activation):
    """Check that tanh and sigmoid models are refused by name."""
    model = model_with(np.array([[0.0, -4.0], [0.01, 0.0]]), activation)
    with pytest.raises(ValueError, match=f"positively homogeneous.*'{activation}'"):
        rescale(model)


def test_rescale_refuses_large_eigenvalue():
    """Check the refusals that report lambda_pf(|A|)."""
    with pytest.raises(ValueError, match=r"lambda_pf\(\|A\|\) < 1, but it is 1\.2"):
        rescale(unchecked(np.array([[0.0, 1.2], [1.2, 0.0]])))

    model = model_with(np.array([[0.0, -4.0], [0.01, 0.0]]))
    with pytest.raises(ValueError, match=r"kappa must exceed .* = 0\.2,"):
        rescale(model, kappa=0.2)
    with pytest.raises(ValueError, match="kappa == 1.5, must be <= 1"):
        rescale(model, kappa=1.5)
