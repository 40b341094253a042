# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Tests of the input checks that every analysis function shares."""

import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_implicit import ImplicitClassifier, ImplicitModel
from sklearn_implicit.analysis import (
    attack_success_rate,
    gradient_attack,
    lp_relaxation,
    output_bounds,
    sdp_relaxation,
    sensitivity_attack,
    sensitivity_matrix,
    state_bounds,
    worst_case_loss,
)

pd = pytest.importorskip("pandas")


@pytest.fixture(scope="module")
def iris_frame():
    X, y = load_iris(return_X_y=True, as_frame=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = ImplicitClassifier(n_hidden=10, max_iter=50, random_state=0).fit(X, y)
    return clf, X, y


def test_analysis_checks_feature_names(iris_frame):
    """Check that reordered columns are refused as predict refuses them."""
    clf, X, y = iris_frame
    reordered = X[X.columns[::-1]]

    with pytest.raises(ValueError, match="same order as they were in fit"):
        clf.predict(reordered)
    with pytest.raises(ValueError, match="same order as they were in fit"):
        output_bounds(clf, reordered, eps=0.1)
    with pytest.raises(ValueError, match="same order as they were in fit"):
        sensitivity_attack(clf, reordered, eps=0.1)
    with pytest.raises(ValueError, match="same order as they were in fit"):
        lp_relaxation(clf, reordered.iloc[[0]], eps=0.1)

    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        unnamed = output_bounds(clf, X.to_numpy(), eps=0.1)
    np.testing.assert_array_equal(output_bounds(clf, X, eps=0.1).upper, unnamed.upper)


def test_analysis_refuses_a_single_1d_row(iris_frame):
    """Check that a 1-d row gets scikit-learn's reshape advice, not a count."""
    clf, X, y = iris_frame
    row = X.to_numpy()[0]
    for function in (output_bounds, state_bounds, sensitivity_attack):
        with pytest.raises(
            ValueError, match=r"(?s)Expected 2D array.*reshape\(1, -1\)"
        ):
            function(clf, row, eps=0.1)
    with pytest.raises(ValueError, match="x has 3 features, but the model expects 4"):
        lp_relaxation(clf, row[:3], eps=0.1)


def test_attack_success_rate_on_frames_does_not_warn(iris_frame):
    """Check that named columns pass through without feature-name warnings."""
    clf, X, y = iris_frame
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert attack_success_rate(clf, X, y, X) == 0.0


def test_lp_relaxation_takes_a_series_row(iris_frame):
    """Check that a row given as a pandas Series is one input row."""
    clf, X, _ = iris_frame
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        from_series = lp_relaxation(clf, X.iloc[0], eps=0.1)
        from_array = lp_relaxation(clf, X.to_numpy()[0], eps=0.1)
    assert from_series.bound == from_array.bound


def test_analysis_refuses_other_estimators_with_a_hint():
    """Check that a pipeline, a search or another model gets a TypeError."""
    X, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe = make_pipeline(StandardScaler(), ImplicitClassifier(5, max_iter=5))
        pipe.fit(X, y)
        search = GridSearchCV(ImplicitClassifier(5, max_iter=5), {"kappa": [0.5]})
        search.fit(X, y)
        logistic = LogisticRegression().fit(X, y)

    with pytest.raises(TypeError, match=r"pass its last step, pipe\[-1\]"):
        sensitivity_matrix(pipe)
    with pytest.raises(TypeError, match="pass its best_estimator_"):
        sensitivity_matrix(search)
    with pytest.raises(TypeError, match="got LogisticRegression"):
        state_bounds(logistic, X, eps=0.1)
    assert sensitivity_matrix(pipe[-1]).shape == (3, 4)


def test_analysis_refuses_eps_that_overflows():
    """Check that a finite eps too large for float64 gets a clear error."""
    model = ImplicitModel([[0.5]], [[2.0, -1.0]], [[1.0], [-1.0]], np.zeros((2, 2)))
    X = np.ones((1, 2))
    with pytest.raises(ValueError, match="eps is too large for this model"):
        state_bounds(model, X, eps=1.7e308)
    with pytest.raises(ValueError, match="eps is too large for this model"):
        output_bounds(model, X, eps=1.7e308)
    with pytest.raises(ValueError, match="eps is too large for the SDP"):
        sdp_relaxation(model, X, eps=1e300)


def test_relaxations_name_the_supported_activations():
    """Check the message for an activation a relaxation does not support."""
    model = ImplicitModel([[0.5]], [[1.0]], [[1.0]], [[0.0]], activation="leaky_relu")
    with pytest.raises(ValueError, match=r"supports activation in \['relu'\]"):
        sdp_relaxation(model, [0.0], eps=0.1)


def test_analysis_takes_sparse_inputs_as_their_dense_rows():
    """Check that a sparse X, which the estimators take, gives the results of
    its dense rows, as one-hot pipelines produce it."""
    X, y = load_iris(return_X_y=True)
    X = np.where(X > np.median(X, axis=0), X, 0.0)
    X_sparse = sparse.csr_matrix(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = ImplicitClassifier(n_hidden=8, max_iter=30, random_state=0)
        clf.fit(X_sparse, y)
    rows = slice(0, 150, 30)

    for function, extra in [
        (state_bounds, ()),
        (output_bounds, ()),
        (worst_case_loss, (y[rows],)),
    ]:
        dense = function(clf, X[rows], *extra, eps=0.1)
        for Z in (X_sparse[rows], sparse.csc_array(X[rows])):
            result = function(clf, Z, *extra, eps=0.1)
            for key in dense:
                np.testing.assert_array_equal(result[key], dense[key])

    X_adv = gradient_attack(clf, X_sparse, y, eps=0.2, random_state=0)
    assert isinstance(X_adv, np.ndarray)
    np.testing.assert_array_equal(
        X_adv, gradient_attack(clf, X, y, eps=0.2, random_state=0)
    )
    assert attack_success_rate(clf, X_sparse, y, sparse.csr_matrix(X_adv)) == (
        attack_success_rate(clf, X, y, X_adv)
    )
    assert lp_relaxation(clf.model_, X_sparse[3], 0.1).bound == pytest.approx(
        lp_relaxation(clf.model_, X[3], 0.1).bound, rel=1e-9
    )
