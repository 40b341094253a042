# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Tests of ImplicitModel, the prediction rule as plain matrices."""

import multiprocessing
import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning

from sklearn_implicit import ImplicitModel
from sklearn_implicit._kernels._projection import project_inf_ball
from sklearn_implicit._model import warn_unsettled


def random_model(n=8, p=3, q=2, kappa=0.9, activation="relu", seed=0):
    rng = np.random.default_rng(seed)
    A = project_inf_ball(rng.standard_normal((n, n)), kappa)
    B, C, D = (rng.standard_normal(s) for s in [(n, p), (q, n), (q, p)])
    b, d = rng.standard_normal(n), rng.standard_normal(q)
    return ImplicitModel(A, B, C, D, b, d, activation=activation)


def test_model_predicts_its_defining_equations():
    """Check h = relu(A h + B x + b) and y = C h + D x + d on every row."""
    model = random_model()
    X = np.random.default_rng(1).standard_normal((50, 3))

    H = model.hidden_state(X, tol=1e-12)
    np.testing.assert_allclose(
        H, np.maximum(H @ model.A.T + X @ model.B.T + model.b, 0), atol=1e-11
    )
    np.testing.assert_allclose(
        model.predict(X, tol=1e-12), H @ model.C.T + X @ model.D.T + model.d
    )


def test_model_example_by_hand():
    """Check a one-state model whose equilibrium is known in closed form."""
    # h = relu(0.5 h + x1 - x2): h = 2 (x1 - x2) when positive, else 0.
    model = ImplicitModel([[0.5]], [[1.0, -1.0]], [[2.0]], [[0.0, 1.0]], d=[1.0])
    X = np.array([[1.0, 0.0], [0.0, 1.0], [3.0, 1.0]])
    np.testing.assert_allclose(model.hidden_state(X, tol=1e-14), [[2.0], [0.0], [4.0]])
    np.testing.assert_allclose(model.predict(X, tol=1e-14), [[5.0], [2.0], [10.0]])


def test_model_copies_its_inputs():
    """Check that the model owns copies: neither side sees the other's edits."""
    rng = np.random.default_rng(2)
    A = 0.1 * rng.standard_normal((4, 4))
    B, C, D = rng.standard_normal((4, 2)), rng.standard_normal((1, 4)), np.zeros((1, 2))
    originals = [M.copy() for M in (A, B, C, D)]
    model = ImplicitModel(A, B, C, D)

    A[:] = 100.0
    for M, original in zip((model.A, model.B, model.C, model.D), originals):
        np.testing.assert_array_equal(M, original)
    model.B[:] = 0.0
    np.testing.assert_array_equal(B, originals[1])


def test_model_pickles():
    """Check that a pickled model predicts the same."""
    model = random_model(activation="tanh")
    X = np.random.default_rng(3).standard_normal((10, 3))
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(clone.predict(X), model.predict(X))
    assert repr(clone) == repr(model)


def test_model_shapes_and_defaults():
    """Check the dimensions, the default zero biases and the repr."""
    model = ImplicitModel(
        np.zeros((5, 5)), np.ones((5, 3)), np.ones((2, 5)), np.ones((2, 3))
    )
    assert (model.n_hidden, model.n_features_in, model.n_outputs) == (5, 3, 2)
    np.testing.assert_array_equal(model.b, np.zeros(5))
    np.testing.assert_array_equal(model.d, np.zeros(2))
    assert "n_hidden=5" in repr(model)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"A": np.zeros((3, 4))}, "A must be square"),
        ({"B": np.zeros((2, 2))}, r"B must have shape \(3, 2\)"),
        ({"C": np.zeros((1, 2))}, r"C must have shape \(1, 3\)"),
        ({"D": np.zeros((2, 2))}, r"D must have shape \(1, 2\)"),
        ({"b": np.zeros(2)}, r"b must have shape \(3,\)"),
        ({"d": np.zeros(3)}, r"d must have shape \(1,\)"),
        ({"b": 1.0}, r"b must have shape \(3,\), got \(\)"),
        ({"b": [0.0, np.inf, 0.0]}, "b contains infinity"),
        ({"A": np.full((3, 3), np.nan)}, "A contains NaN"),
        ({"activation": "softplus"}, "activation must be one of"),
    ],
)
def test_model_rejects_bad_parameters(kwargs, message):
    """Check that malformed parameters get an error naming the problem."""
    parameters = {
        "A": np.zeros((3, 3)),
        "B": np.zeros((3, 2)),
        "C": np.zeros((1, 3)),
        "D": np.zeros((1, 2)),
    }
    parameters.update(kwargs)
    with pytest.raises(ValueError, match=message):
        ImplicitModel(**parameters)


def test_model_refuses_matrices_not_known_to_be_well_posed():
    """Check the Perron-Frobenius test and its message."""
    A = np.array([[0.6, 0.6], [0.6, 0.6]])  # lambda_pf(|A|) = 1.2
    with pytest.raises(ValueError, match=r"eigenvalue of \|A\| is 1\.2 .*below 1"):
        ImplicitModel(A, np.ones((2, 1)), np.ones((1, 2)), np.ones((1, 1)))

    # ||A||_inf = 1.5 but lambda_pf(|A|) = 0.75 < 1: accepted.
    A = np.array([[0.0, 1.5], [0.375, 0.0]])
    model = ImplicitModel(A, np.ones((2, 1)), np.ones((1, 2)), np.ones((1, 1)))
    X = np.array([[1.0], [-2.0]])
    H = model.hidden_state(X, tol=1e-13)
    np.testing.assert_allclose(H, np.maximum(H @ A.T + X, 0), atol=1e-12)


def test_model_accepts_strictly_triangular_matrices():
    """Check a feed-forward network written as a strictly triangular A."""
    # Two layers: h1 = relu(W1 x), h2 = relu(W2 h1), output from h2.
    rng = np.random.default_rng(4)
    W1, W2 = 3 * rng.standard_normal((4, 2)), 3 * rng.standard_normal((3, 4))
    A = np.zeros((7, 7))
    A[4:, :4] = W2
    B = np.vstack([W1, np.zeros((3, 2))])
    C = np.hstack([np.zeros((1, 4)), rng.standard_normal((1, 3))])
    model = ImplicitModel(A, B, C, np.zeros((1, 2)))

    X = rng.standard_normal((20, 2))
    expected = np.maximum(np.maximum(X @ W1.T, 0) @ W2.T, 0) @ C[:, 4:].T
    np.testing.assert_allclose(model.predict(X, tol=1e-14), expected, rtol=1e-12)


def test_model_uses_the_sigmoid_lipschitz_constant():
    """Check that the sigmoid, 1/4-Lipschitz, admits lambda_pf(|A|) up to 4."""
    A = np.array([[1.5, 1.5], [1.5, 1.5]])  # lambda_pf(|A|) = 3
    model = ImplicitModel(
        A, np.eye(2), np.eye(2), np.zeros((2, 2)), activation="sigmoid"
    )
    X = np.array([[0.3, -1.0]])
    H = model.hidden_state(X, tol=1e-13)
    np.testing.assert_allclose(H, expit(H @ A.T + X), atol=1e-12)

    with pytest.raises(ValueError, match="must be below 1"):
        ImplicitModel(A, np.eye(2), np.eye(2), np.zeros((2, 2)), activation="tanh")


def test_model_checks_its_input():
    """Check the errors for inputs of the wrong width or with NaN."""
    model = random_model()
    with pytest.raises(
        ValueError, match="X has 2 features, but this ImplicitModel expects 3"
    ):
        model.predict(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="NaN"):
        model.predict(np.full((4, 3), np.nan))


def test_model_accepts_sparse_input():
    """Check that CSR and CSC inputs give the dense predictions."""
    model = random_model()
    X = sp.random(30, 3, density=0.5, format="csr", random_state=0)
    dense = model.predict(X.toarray(), tol=1e-12)
    np.testing.assert_allclose(model.predict(X, tol=1e-12), dense, rtol=1e-12)
    np.testing.assert_allclose(model.predict(X.tocsc(), tol=1e-12), dense, rtol=1e-12)


def test_model_warns_when_the_solve_stops_early():
    """Check the ConvergenceWarning and what it says about the shortfall."""
    model = random_model(kappa=0.95)
    X = np.random.default_rng(5).standard_normal((40, 3))
    with pytest.warns(
        ConvergenceWarning, match=r"did not converge for \d+ of 40 rows"
    ) as record:
        H, n_iter = model.hidden_state(X, max_iter=2, return_n_iter=True)
    assert "Increase max_iter" in str(record[0].message)
    np.testing.assert_array_equal(n_iter, 2)


def test_warning_at_rounding_level_asks_for_a_larger_tol():
    """Check the advice when the remaining change is rounding error."""
    with pytest.warns(ConvergenceWarning, match="raise tol above it") as record:
        warn_unsettled(np.array([0.0, 2e-16]), 1e-300, 1000, "max_iter")
    assert "Increase max_iter" not in str(record[0].message)

    model = random_model(kappa=0.95)
    X = np.random.default_rng(5).standard_normal((40, 3))
    with pytest.warns(ConvergenceWarning, match="rounding error"):
        model.hidden_state(X, tol=1e-300, max_iter=2000)


def test_warn_unsettled_raises_on_overflow():
    """Check that non-finite states raise instead of passing silently."""
    with pytest.raises(FloatingPointError, match="non-finite"):
        warn_unsettled(np.array([0.0, np.inf]), 1e-6, 10, "max_iter")


@pytest.mark.parametrize("sparse", [False, True])
def test_model_raises_when_outputs_overflow(sparse):
    """Check that outputs beyond float64 raise, while the states stay usable.

    The state relu(1e300) is finite, but D x = 1e10 * 1e300 is not.
    """
    model = ImplicitModel([[0.0]], [[1.0]], [[1.0]], [[1e10]])
    X = np.array([[1e300], [1.0]])
    X = sp.csr_matrix(X) if sparse else X

    np.testing.assert_array_equal(model.hidden_state(X), [[1e300], [1.0]])
    with pytest.raises(FloatingPointError, match="overflowed float64 for 1 of 2"):
        with np.errstate(over="ignore"):
            model.predict(X)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"tol": -1.0}, ValueError, "tol == -1.0, must be > 0"),
        ({"tol": np.nan}, ValueError, "tol"),
        ({"max_iter": 0}, ValueError, "max_iter == 0, must be >= 1"),
        ({"max_iter": 2.5}, TypeError, "max_iter must be an instance of"),
    ],
)
def test_model_checks_solve_settings(kwargs, error, message):
    """Check that a bad tolerance or iteration budget is refused, dense or sparse."""
    model = random_model()
    X = np.ones((2, 3))
    with pytest.raises(error, match=message):
        model.predict(X, **kwargs)
    with pytest.raises(error, match=message):
        model.hidden_state(sp.csr_matrix(X), **kwargs)


def _predict_in_child(model, X):
    return model.predict(X, tol=1e-12)


def test_model_predicts_in_forked_children():
    """Check that prediction works in processes forked after a prediction.

    A kernel using GNU OpenMP would make such children terminate.
    """
    model = random_model()
    X = np.random.default_rng(2).standard_normal((300, 3))
    expected = model.predict(X, tol=1e-12)

    context = multiprocessing.get_context("fork")
    with context.Pool(2) as pool:
        results = pool.starmap_async(_predict_in_child, [(model, X)] * 2)
        for result in results.get(timeout=60):
            np.testing.assert_array_equal(result, expected)
