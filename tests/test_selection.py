# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""ImplicitFeatureSelector: scores, thresholds, prefit and output."""

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline

from sklearn_implicit import (
    ImplicitClassifier,
    ImplicitCompressor,
    ImplicitFeatureSelector,
    ImplicitRegressor,
)
from sklearn_implicit.analysis import sensitivity_matrix

X_SMALL, Y_SMALL = make_classification(
    n_samples=300,
    n_features=10,
    n_informative=3,
    n_redundant=0,
    shuffle=False,
    random_state=0,
)


@pytest.fixture(scope="module")
def fitted():
    return ImplicitFeatureSelector(random_state=0).fit(X_SMALL, Y_SMALL)


def test_selector_keeps_the_informative_features_of_the_issue():
    """Check the issue's test: 5 informative features kept, at most 2 others."""
    X, y = make_classification(
        n_samples=1000,
        n_features=50,
        n_informative=5,
        n_redundant=0,
        shuffle=False,
        random_state=0,
    )
    support = ImplicitFeatureSelector(random_state=0).fit(X, y).get_support()
    assert support[:5].all()
    assert support[5:].sum() <= 2


def test_default_estimator_follows_the_target(fitted):
    """Check that None fits a classifier for labels, a regressor otherwise."""
    assert isinstance(fitted.estimator_, ImplicitClassifier)
    assert fitted.estimator_.alpha_features > 0
    assert fitted.estimator_.batch_size == X_SMALL.shape[0]

    X, y = make_regression(n_samples=150, n_features=6, n_informative=2, random_state=0)
    selector = ImplicitFeatureSelector(random_state=0).fit(X, y)
    assert isinstance(selector.estimator_, ImplicitRegressor)

    # Whole numbers stored as floats are a regression target, which keeps
    # the informative features; integer labels of three classes are classes.
    X, y = make_regression(
        300, 8, n_informative=2, shuffle=False, noise=1.0, random_state=0
    )
    selector = ImplicitFeatureSelector(random_state=0).fit(X, y.round())
    assert isinstance(selector.estimator_, ImplicitRegressor)
    assert set(selector.get_support(indices=True)) <= {0, 1}
    selector = ImplicitFeatureSelector(max_features=2, random_state=0)
    selector.fit(X, np.digitize(y, [-50, 50]))
    assert isinstance(selector.estimator_, ImplicitClassifier)
    assert selector.estimator_.classes_.size == 3


def test_prefit_refuses_reordered_columns():
    """Check that prefit compares X's column names with the estimator's, and
    warns as scikit-learn does when only one side has names."""
    pd = pytest.importorskip("pandas")
    X, y = make_classification(n_samples=60, n_features=4, random_state=0)
    df = pd.DataFrame(X, columns=list("abcd"))
    named = ImplicitClassifier(n_hidden=5, max_iter=5).fit(df, y)
    unnamed = ImplicitClassifier(n_hidden=5, max_iter=5).fit(X, y)
    for Meta, options in [
        (ImplicitFeatureSelector, {}),
        (ImplicitCompressor, {"n_hidden": 3}),
    ]:
        meta = Meta(named, prefit=True, **options)
        with pytest.raises(ValueError, match="column names"):
            meta.fit(df[list("dcba")], y)
        meta.fit(df, y)
        with pytest.warns(UserWarning, match="X does not have valid feature names"):
            meta.fit(X, y)
        meta = Meta(unnamed, prefit=True, **options)
        with pytest.warns(UserWarning, match="X has feature names, but the prefit"):
            meta.fit(df, y)


def test_scores_are_column_norms_and_mean_threshold(fitted):
    """Check scores_, the default threshold and the mask against the model."""
    model = fitted.estimator_.model_
    norms = np.sqrt((model.B**2).sum(0) + (model.D**2).sum(0))
    np.testing.assert_array_equal(fitted.scores_, norms)
    assert fitted.threshold_ == pytest.approx(norms.mean())
    np.testing.assert_array_equal(fitted.get_support(), norms >= norms.mean())
    np.testing.assert_array_equal(fitted.get_support(indices=True), [0, 1, 2])
    np.testing.assert_array_equal(fitted.transform(X_SMALL), X_SMALL[:, :3])


def test_sensitivity_importance_and_prefit(fitted):
    """Check prefit copies the estimator and scores by sensitivity sums."""
    estimator = fitted.estimator_
    selector = ImplicitFeatureSelector(
        estimator, prefit=True, importance="sensitivity"
    ).fit(X_SMALL, Y_SMALL)
    assert selector.estimator_ is not estimator
    np.testing.assert_allclose(
        selector.scores_, sensitivity_matrix(estimator.model_).sum(0), rtol=1e-12
    )
    # A column of (B; D) is zero exactly when its sensitivity column is.
    np.testing.assert_array_equal(selector.scores_ == 0, fitted.scores_ == 0)

    with pytest.raises(NotFittedError, match="prefit=True"):
        ImplicitFeatureSelector(ImplicitClassifier(), prefit=True).fit(X_SMALL, Y_SMALL)


@pytest.mark.parametrize(
    "threshold, expected",
    [(0.0, None), ("median", 5), ("0.5*mean", None), (np.inf, 0)],
)
def test_thresholds_in_select_from_model_vocabulary(fitted, threshold, expected):
    """Check numbers, "median" and scaled references as thresholds."""
    selector = ImplicitFeatureSelector(
        fitted.estimator_, prefit=True, threshold=threshold
    )
    selector.fit(X_SMALL, Y_SMALL)
    kept = selector.get_support().sum()
    if threshold == "0.5*mean":
        assert selector.threshold_ == pytest.approx(0.5 * fitted.scores_.mean())
        expected = np.sum(fitted.scores_ >= selector.threshold_)
    if threshold == 0.0:
        expected = np.sum(fitted.scores_ > 0)
    assert kept == expected


def test_max_features_keeps_the_highest_scores(fitted):
    """Check that max_features alone keeps the top-scoring features."""
    selector = ImplicitFeatureSelector(
        fitted.estimator_, prefit=True, max_features=2
    ).fit(X_SMALL, Y_SMALL)
    top = np.argsort(-fitted.scores_)[:2]
    np.testing.assert_array_equal(selector.get_support(indices=True), np.sort(top))
    assert selector.threshold_ == -np.inf


def test_pandas_output_and_feature_names(fitted):
    """Check get_feature_names_out and set_output(transform="pandas")."""
    pd = pytest.importorskip("pandas")
    columns = [f"f{j}" for j in range(10)]
    frame = pd.DataFrame(X_SMALL, columns=columns)
    selector = ImplicitFeatureSelector(random_state=0).set_output(transform="pandas")
    out = selector.fit(frame, Y_SMALL).transform(frame)
    assert list(out.columns) == ["f0", "f1", "f2"]
    np.testing.assert_array_equal(selector.get_feature_names_out(), ["f0", "f1", "f2"])
    np.testing.assert_array_equal(selector.feature_names_in_, columns)


def test_selector_in_a_pipeline():
    """Check the selector in front of a classifier."""
    pipeline = make_pipeline(
        ImplicitFeatureSelector(random_state=0),
        ImplicitClassifier(n_hidden=10, learning_rate_init=0.01, random_state=0),
    )
    assert pipeline.fit(X_SMALL, Y_SMALL).score(X_SMALL, Y_SMALL) > 0.85
    assert pipeline[-1].n_features_in_ == 3


@pytest.mark.parametrize(
    "params, error, message",
    [
        ({"threshold": "twice"}, ValueError, "threshold='twice' is not understood"),
        ({"threshold": "x*mean"}, ValueError, "factor 'x' that is not a finite number"),
        ({"max_features": 11}, ValueError, "max_features=11 exceeds the 10"),
        ({"importance": "gain"}, ValueError, "'importance' parameter"),
    ],
)
def test_bad_parameters_get_clear_errors(fitted, params, error, message):
    """Check the errors for bad thresholds and feature counts."""
    selector = ImplicitFeatureSelector(fitted.estimator_, prefit=True, **params)
    with pytest.raises(error, match=message):
        selector.fit(X_SMALL, Y_SMALL)


def test_estimator_without_an_implicit_model_is_refused():
    """Check the error for an estimator that has no model_."""
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(TypeError, match="no fitted attribute model_"):
        ImplicitFeatureSelector(LogisticRegression()).fit(X_SMALL, Y_SMALL)


def test_selector_never_keeps_features_of_score_zero():
    """Check that a threshold at or below 0 still drops unused features."""
    selector = ImplicitFeatureSelector(random_state=0, threshold=0.0)
    selector.fit(X_SMALL, Y_SMALL)
    assert np.any(selector.scores_ == 0)
    np.testing.assert_array_equal(selector.get_support(), selector.scores_ > 0)


@pytest.mark.parametrize("threshold", ["nan*mean", "inf*median", "x*mean"])
def test_selector_refuses_a_bad_threshold_factor(threshold):
    """Check that a scaled threshold needs a finite number as its factor."""
    selector = ImplicitFeatureSelector(threshold=threshold, random_state=0)
    with pytest.raises(ValueError, match="not a finite number"):
        selector.fit(X_SMALL, Y_SMALL)
