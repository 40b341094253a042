# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Tests of ImplicitCompressor, LowRankImplicitModel and the low-rank kernel."""

import copy
import pickle
import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_implicit import (
    ImplicitClassifier,
    ImplicitCompressor,
    ImplicitModel,
    ImplicitRegressor,
)
from sklearn_implicit._activations import ACTIVATIONS
from sklearn_implicit._compression import LowRankImplicitModel, _refit_scores
from sklearn_implicit._kernels._equilibrium import (
    LOW_RANK_BLOCK,
    solve_fixed_point,
    solve_low_rank,
)
from sklearn_implicit._kernels._least_squares import ridge_on_states

TIGHT = {"tol": 1e-12, "max_iter": 10_000}


def random_factors(n, k, rng, norm=0.8):
    """Factors with ||L R^T||_inf = norm."""
    L = rng.standard_normal((n, k))
    R = rng.standard_normal((n, k))
    scale = norm / np.abs(L @ R.T).sum(axis=1).max()
    return L * scale, R


@pytest.fixture(scope="module")
def fitted():
    """Default classifiers on the issue's splits of breast cancer and digits."""
    result = {}
    for name, load in [("breast_cancer", load_breast_cancer), ("digits", load_digits)]:
        X, y = load(return_X_y=True)
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.25, random_state=0
        )
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
        classifier = ImplicitClassifier(random_state=0).fit(X_train, y_train)
        result[name] = (classifier, X_train, X_test, y_train, y_test)
    return result


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_solve_low_rank_matches_full_solve(activation):
    """Check that the reduced iteration finds the equilibrium of A = L R^T."""
    rng = np.random.default_rng(0)
    L, R = random_factors(30, 5, rng)
    drive = rng.standard_normal((2 * LOW_RANK_BLOCK + 7, 30))
    code = ACTIVATIONS[activation].code

    H, n_iter, residual = solve_low_rank(L, R, drive, code, 1e-12, 10_000)
    expected, _, _ = solve_fixed_point(
        L @ R.T, drive, np.empty((0, 30)), code, 1e-13, 10_000
    )

    np.testing.assert_allclose(H, expected, rtol=0, atol=1e-10)
    assert (residual <= 1e-12).all()
    assert n_iter.min() >= 2


def test_solve_low_rank_residual_bounds_equilibrium_residual():
    """Check that the reported residual bounds the returned states' residual."""
    rng = np.random.default_rng(1)
    L, R = random_factors(40, 10, rng, norm=0.9)
    drive = rng.standard_normal((300, 40))

    H, n_iter, residual = solve_low_rank(L, R, drive, 0, 1e-3, 1000)

    floor = np.abs(np.maximum(drive, 0)).max(axis=1)
    change = np.abs(H - np.maximum(H @ R @ L.T + drive, 0)).max(axis=1)
    assert (change <= residual * floor * (1 + 1e-9) + 1e-15).all()
    assert (residual <= 1e-3).all()
    assert n_iter.max() < 30


def test_solve_low_rank_rows_do_not_depend_on_batch():
    """Check that a row's state is the same alone and inside a large batch."""
    rng = np.random.default_rng(2)
    L, R = random_factors(20, 4, rng)
    drive = rng.standard_normal((600, 20))
    assert 600 > 2 * LOW_RANK_BLOCK

    H, n_iter, _ = solve_low_rank(L, R, drive, 0, 1e-6, 1000)
    rows = [0, LOW_RANK_BLOCK - 1, LOW_RANK_BLOCK, 599]
    H_rows, n_iter_rows, _ = solve_low_rank(L, R, drive[rows], 0, 1e-6, 1000)

    np.testing.assert_allclose(H_rows, H[rows], rtol=0, atol=1e-13)
    np.testing.assert_array_equal(n_iter_rows, n_iter[rows])


def test_low_rank_model_predicts_like_the_full_model():
    """Check LowRankImplicitModel against ImplicitModel with A = L R^T."""
    rng = np.random.default_rng(3)
    L, R = random_factors(12, 3, rng)
    B, C, D = rng.standard_normal((12, 5)), rng.standard_normal((2, 12)), np.eye(2, 5)
    b, d = rng.standard_normal(12), rng.standard_normal(2)
    X = rng.standard_normal((50, 5))
    low_rank = LowRankImplicitModel(L, R, B, C, D, b, d, activation="tanh")
    full = ImplicitModel(L @ R.T, B, C, D, b, d, activation="tanh")

    np.testing.assert_allclose(low_rank.A, L @ R.T)
    assert (low_rank.n_hidden, low_rank.rank) == (12, 3)
    assert repr(low_rank).startswith("LowRankImplicitModel(n_hidden=12, rank=3")
    expected = full.predict(X, **TIGHT)
    np.testing.assert_allclose(low_rank.predict(X, **TIGHT), expected, atol=1e-10)
    np.testing.assert_allclose(
        low_rank.predict(sparse.csr_array(X), **TIGHT), expected, atol=1e-10
    )
    restored = pickle.loads(pickle.dumps(low_rank))
    np.testing.assert_array_equal(restored.predict(X), low_rank.predict(X))


def test_low_rank_model_warns_when_unsettled():
    """Check the ConvergenceWarning of the low-rank solve."""
    rng = np.random.default_rng(4)
    L, R = random_factors(10, 2, rng, norm=0.9)
    model = LowRankImplicitModel(
        L, R, np.ones((10, 3)), np.ones((1, 10)), np.ones((1, 3))
    )

    with pytest.warns(ConvergenceWarning, match=r"did not converge for \d+ of 20 rows"):
        model.hidden_state(rng.standard_normal((20, 3)), tol=1e-12, max_iter=2)


def test_low_rank_model_refuses_ill_posed_factors():
    """Check that factors whose product is not well-posed are refused."""
    with pytest.raises(ValueError, match="not known to be well-posed"):
        LowRankImplicitModel(
            np.ones((3, 1)),
            np.ones((3, 1)),
            np.ones((3, 2)),
            np.ones((1, 3)),
            np.ones((1, 2)),
        )


@pytest.mark.parametrize("dataset", ["breast_cancer", "digits"])
@pytest.mark.parametrize("setting", [{"n_hidden": 50}, {"rank": 25}])
def test_compressor_keeps_accuracy_and_bound(fitted, dataset, setting):
    """Check the issue's criterion: at most 1 point lost, and the bound holds."""
    classifier, X_train, X_test, y_train, y_test = fitted[dataset]
    compressor = ImplicitCompressor(classifier, prefit=True, **setting).fit(X_train)
    compressed = compressor.estimator_

    loss = classifier.score(X_test, y_test) - compressed.score(X_test, y_test)
    assert loss <= 0.01
    assert compressor.n_hidden_ == setting.get("n_hidden", 100)
    assert compressor.rank_ == setting.get("rank")
    assert compressor.compression_ratio_ > 1.3

    for X in [X_train, X_test]:
        bound = compressor.error_bound(X)
        original = classifier.model_
        change = np.abs(
            compressed.model_.predict(X, **TIGHT) - original.predict(X, **TIGHT)
        )
        assert (change <= bound.output * (1 + 1e-9) + 1e-9).all()
        H = original.hidden_state(X, **TIGHT)[:, compressor.kept_states_]
        state_change = np.abs(compressed.model_.hidden_state(X, **TIGHT) - H)
        assert (state_change <= bound.state * (1 + 1e-9) + 1e-9).all()

    bound = compressor.error_bound(X_train)
    np.testing.assert_allclose(compressor.state_error_bound_, bound.state.max(axis=0))
    np.testing.assert_allclose(compressor.output_error_bound_, bound.output.max(axis=0))
    # The bound is not vacuous: it certifies that most test rows keep their
    # class, as their margin exceeds the two largest output bounds.
    scores = np.sort(classifier.model_.predict(X_test, **TIGHT), axis=1)
    bounds = np.sort(compressor.error_bound(X_test).output, axis=1)
    certified = scores[:, -1] - scores[:, -2] > bounds[:, -1] + bounds[:, -2]
    assert certified.mean() > 0.9


def test_refit_scores_match_refits_without_each_state():
    """Check the state ranking against the output-layer fit redone per state."""
    rng = np.random.default_rng(3)
    H = np.maximum(rng.standard_normal((60, 7)), 0.0)
    H[:, 6] = 0.0  # a dead unit: nothing lost without it
    X, Y = rng.standard_normal((60, 4)), rng.standard_normal((60, 3))
    alpha = 0.1

    def objective(H):
        C, D, d = ridge_on_states(H, X, Y, alpha)
        residual = Y - H @ C.T - X @ D.T - d
        return 0.5 * (residual**2).sum() + 0.5 * alpha * ((C**2).sum() + (D**2).sum())

    full = objective(H)
    growth = [objective(np.delete(H, i, axis=1)) - full for i in range(7)]
    # The score is twice the growth of an objective with halves in it.
    np.testing.assert_allclose(
        _refit_scores(H, X, Y, alpha), np.multiply(growth, 2), rtol=1e-7, atol=1e-10
    )


def test_compressor_ranks_states_on_collinear_large_inputs(fitted):
    """Check that a duplicated input column of scale 1e9 does not break the refit.

    Neither the ranking nor the refitted output layer may suffer from the
    one huge column: the result scores as well as on the unscaled data.
    """
    classifier, X_train, X_test, _, y_test = fitted["breast_cancer"]
    plain = ImplicitCompressor(classifier, prefit=True, n_hidden=50).fit(X_train)
    classifier = copy.deepcopy(classifier)
    model = classifier.model_
    scale = np.r_[1e9, np.ones(29), 1e9]
    X = np.hstack([X_train, X_train[:, :1]]) * scale
    B, D = (
        np.hstack([model.B, np.zeros((100, 1))]),
        np.hstack([model.D, np.zeros((2, 1))]),
    )
    B[:, 0] /= 1e9
    D[:, 0] /= 1e9
    classifier.model_ = ImplicitModel(model.A, B, model.C, D, model.b, model.d)
    classifier.n_features_in_ = 31

    compressor = ImplicitCompressor(classifier, prefit=True, n_hidden=50).fit(X)

    assert compressor.n_hidden_ == 50
    assert np.isfinite(compressor.output_error_bound_).all()
    X_test_large = np.hstack([X_test, X_test[:, :1]]) * scale
    accuracy = compressor.estimator_.score(X_test_large, y_test)
    assert accuracy >= plain.estimator_.score(X_test, y_test) - 1 / y_test.size


def test_compressor_bound_holds_on_perturbed_inputs(fitted):
    """Check the bound on random and gradient-ascent inputs around the data."""
    classifier, X_train, _, _, _ = fitted["breast_cancer"]
    compressor = ImplicitCompressor(classifier, prefit=True, n_hidden=30, rank=10)
    compressor.fit(X_train)
    original, compressed = classifier.model_, compressor.estimator_.model_
    rng = np.random.default_rng(0)
    X = X_train[:40] + rng.normal(scale=0.5, size=(40, X_train.shape[1]))

    # Ascend the output change by finite-difference-free sign steps on the
    # gap between the change and its bound, for the first output.
    for _ in range(5):
        change = compressed.predict(X, **TIGHT) - original.predict(X, **TIGHT)
        bound = compressor.error_bound(X).output
        assert (np.abs(change) <= bound * (1 + 1e-9) + 1e-9).all()
        step = 1e-4
        gradient = np.empty_like(X)
        for j in range(X.shape[1]):
            shifted = X.copy()
            shifted[:, j] += step
            new = compressed.predict(shifted, **TIGHT) - original.predict(
                shifted, **TIGHT
            )
            gradient[:, j] = (np.abs(new[:, 0]) - np.abs(change[:, 0])) / step
        X = X + 0.3 * np.sign(gradient)


def test_compressor_removes_redundant_states_exactly():
    """Check the exact removal of states by row and column sparsity (5.2)."""
    rng = np.random.default_rng(5)
    A = rng.uniform(-1, 1, (6, 6))
    A *= 0.5 / np.abs(A).sum(axis=1).max()
    B, C = rng.standard_normal((6, 3)), rng.standard_normal((2, 6))
    # State 4 is constant (zero row of A and B); state 5 feeds nothing (zero
    # column of A and C); state 3 then feeds only state 5.
    A[4], B[4] = 0.0, 0.0
    A[:, 5], C[:, 5] = 0.0, 0.0
    A[:, 3], C[:, 3] = 0.0, 0.0
    A[5, 3] = 0.3
    model = ImplicitModel(
        A, B, C, np.zeros((2, 3)), rng.standard_normal(6), [1.0, -1.0]
    )
    regressor = ImplicitRegressor(n_hidden=6).fit(
        rng.standard_normal((20, 3)), rng.standard_normal((20, 2))
    )
    regressor.model_ = model
    X = rng.standard_normal((30, 3))

    compressor = ImplicitCompressor(regressor, prefit=True, fit_output=False).fit(X)

    np.testing.assert_array_equal(compressor.kept_states_, [0, 1, 2])
    compressed = compressor.estimator_.model_
    np.testing.assert_allclose(
        compressed.predict(X, **TIGHT), model.predict(X, **TIGHT), atol=1e-12
    )
    H = model.hidden_state(X, **TIGHT)[:, :3]
    np.testing.assert_allclose(compressed.hidden_state(X, **TIGHT), H, atol=1e-12)
    np.testing.assert_array_equal(compressor.state_error_bound_, 0.0)


def test_compressor_transform_and_feature_names(fitted):
    """Check transform's states and their names."""
    classifier, X_train, X_test, _, _ = fitted["digits"]
    compressor = ImplicitCompressor(classifier, prefit=True, n_hidden=10).fit(X_train)

    H = compressor.transform(X_test)
    assert H.shape == (X_test.shape[0], 10)
    expected = compressor.estimator_.model_.hidden_state(X_test, tol=1e-4)
    np.testing.assert_allclose(H, expected)
    names = compressor.get_feature_names_out()
    assert names[0] == "implicitcompressor0" and names[-1] == "implicitcompressor9"


def test_compressor_takes_sparse_inputs_as_their_dense_rows(fitted):
    """Check that a sparse X, which the estimators take, compresses as its
    dense rows do, in fit, transform and error_bound."""
    classifier, X_train, X_test, _, _ = fitted["breast_cancer"]
    dense = ImplicitCompressor(classifier, prefit=True, n_hidden=20).fit(X_train)
    compressor = ImplicitCompressor(classifier, prefit=True, n_hidden=20)
    compressor.fit(sparse.csr_matrix(X_train))

    np.testing.assert_array_equal(compressor.kept_states_, dense.kept_states_)
    np.testing.assert_array_equal(
        compressor.output_error_bound_, dense.output_error_bound_
    )
    for Z in (sparse.csr_array(X_test), sparse.csc_matrix(X_test)):
        np.testing.assert_array_equal(compressor.transform(Z), dense.transform(X_test))
        np.testing.assert_array_equal(
            compressor.error_bound(Z).output, dense.error_bound(X_test).output
        )


def test_compressor_fits_an_unfitted_estimator_and_leaves_inputs_alone(fitted):
    """Check fitting a clone, and that a prefit estimator is not modified."""
    classifier, X_train, X_test, y_train, y_test = fitted["breast_cancer"]
    A = classifier.model_.A.copy()
    ImplicitCompressor(classifier, prefit=True, n_hidden=20).fit(X_train)
    np.testing.assert_array_equal(classifier.model_.A, A)
    assert classifier.n_hidden == 100

    unfitted = ImplicitClassifier(n_hidden=20, random_state=0)
    compressor = ImplicitCompressor(unfitted, n_hidden=10).fit(X_train, y_train)
    assert not hasattr(unfitted, "model_")
    assert compressor.estimator_.model_.n_hidden == 10
    assert compressor.estimator_.n_hidden == 10
    assert compressor.estimator_.score(X_test, y_test) > 0.93
    proba = compressor.estimator_.predict_proba(X_test)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_compressed_estimator_refuses_to_continue_training(fitted):
    """Check that the compressed estimator_ cannot resume the lost training."""
    classifier, X_train, X_test, y_train, y_test = fitted["breast_cancer"]
    compressed = ImplicitCompressor(classifier, prefit=True, n_hidden=20).fit(X_train)
    estimator = compressed.estimator_
    score = estimator.score(X_test, y_test)

    with pytest.raises(ValueError, match="partial_fit has no training state"):
        estimator.partial_fit(X_train[:20], y_train[:20])
    with pytest.raises(ValueError, match="warm_start has no training state"):
        estimator.set_params(warm_start=True).fit(X_train, y_train)
    assert estimator.score(X_test, y_test) == score
    assert isinstance(estimator.model_, type(compressed.estimator_.model_))


def test_compressor_regressor_and_pickle():
    """Check a compressed regressor's score and the pickled compressor."""
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    regressor = ImplicitRegressor(n_hidden=40, random_state=0)
    compressor = ImplicitCompressor(regressor, n_hidden=20, rank=5).fit(X, y)

    original = clone(regressor).fit(X, y)
    assert compressor.estimator_.score(X, y) > original.score(X, y) - 0.02
    assert isinstance(compressor.estimator_.model_, LowRankImplicitModel)
    assert compressor.n_parameters_ == 2 * 20 * 5 + 20 * 10 + 20 + 10 + 20 + 1
    restored = pickle.loads(pickle.dumps(compressor))
    np.testing.assert_array_equal(restored.transform(X), compressor.transform(X))
    np.testing.assert_array_equal(
        restored.estimator_.predict(X), compressor.estimator_.predict(X)
    )


def test_compressor_errors(fitted):
    """Check the errors on bad settings and estimators."""
    classifier, X_train, _, y_train, _ = fitted["breast_cancer"]

    with pytest.raises(ValueError, match="n_hidden=101 must not exceed the 100"):
        ImplicitCompressor(classifier, prefit=True, n_hidden=101).fit(X_train)
    with pytest.raises(ValueError, match="rank=30 must not exceed the 20"):
        ImplicitCompressor(classifier, prefit=True, n_hidden=20, rank=30).fit(X_train)
    with pytest.raises(InvalidParameterError, match="'rank' parameter"):
        ImplicitCompressor(classifier, prefit=True, rank=0).fit(X_train)
    with pytest.raises(NotFittedError, match="With prefit=True, estimator must"):
        ImplicitCompressor(ImplicitClassifier(), prefit=True).fit(X_train)
    with pytest.raises(TypeError, match="got LogisticRegression"):
        ImplicitCompressor(LogisticRegression()).fit(X_train, y_train)
    with pytest.raises(ValueError, match="X has 5 features, but"):
        ImplicitCompressor(classifier, prefit=True).fit(X_train[:, :5])


def test_compressor_refuses_ill_posed_low_rank():
    """Check the error when the truncated A is not known to be well-posed."""
    # A strictly triangular A is well-posed at any size; its rank-1
    # truncation is not triangular and far too large.
    A = np.triu(np.full((4, 4), 3.0), k=1)
    model = ImplicitModel(A, np.ones((4, 2)), np.ones((1, 4)), np.zeros((1, 2)))
    regressor = ImplicitRegressor(n_hidden=4).fit(np.ones((5, 2)), np.arange(5.0))
    regressor.model_ = model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.raises(
            ValueError, match="rank-1 approximation of A .* increase rank"
        ):
            ImplicitCompressor(regressor, prefit=True, rank=1).fit(np.ones((5, 2)))


def test_compressor_refuses_a_model_without_useful_states():
    """Check the error when section 5.2 removes every state."""
    model = ImplicitModel(
        np.zeros((3, 3)), np.ones((3, 2)), np.zeros((1, 3)), np.ones((1, 2))
    )
    regressor = ImplicitRegressor(n_hidden=3).fit(np.ones((5, 2)), np.arange(5.0))
    regressor.model_ = model

    with pytest.raises(ValueError, match="do not depend on any of its hidden"):
        ImplicitCompressor(regressor, prefit=True).fit(np.ones((5, 2)))


def test_compressor_keeps_feature_names_of_the_estimator_it_fits():
    """Check that prefit=False fits the estimator on the user's data frame."""
    pd = pytest.importorskip("pandas")
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X = pd.DataFrame(StandardScaler().fit_transform(X), columns=X.columns)
    estimator = ImplicitClassifier(n_hidden=10, max_iter=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        compressor = ImplicitCompressor(estimator, n_hidden=5).fit(X, y)

    np.testing.assert_array_equal(compressor.estimator_.feature_names_in_, X.columns)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compressor.estimator_.predict(X)
