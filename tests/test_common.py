# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""scikit-learn's estimator checks, run on every public estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_implicit import (
    ImplicitClassifier,
    ImplicitCompressor,
    ImplicitFeatureSelector,
    ImplicitRegressor,
)

ESTIMATORS = [
    ImplicitRegressor(),
    ImplicitClassifier(),
    ImplicitClassifier(
        n_hidden=20,
        learning_rate_init=0.01,
        alpha_l1=0.1,
        alpha_features=1.0,
        alpha_states=1.0,
    ),
    ImplicitFeatureSelector(),
    ImplicitCompressor(ImplicitClassifier(n_hidden=8, random_state=0), n_hidden=4),
    ImplicitCompressor(ImplicitClassifier(n_hidden=8, random_state=0), rank=2),
]


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=lambda estimator: {})
def test_sklearn_compatible_estimator(estimator, check):
    """Check that each estimator passes scikit-learn's common checks."""
    check(estimator)
