# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Deep feature selection with the group penalty of an implicit model."""

from copy import deepcopy
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.feature_selection import SelectorMixin
from sklearn.utils import get_tags
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from sklearn_implicit._implicit import ImplicitClassifier, ImplicitRegressor
from sklearn_implicit.analysis import sensitivity_matrix
from sklearn_implicit.utils._compat import (
    HasMethods,
    Interval,
    StrOptions,
    _fit_context,
    _num_samples,
)
from sklearn_implicit.utils._validation import check_prefit_feature_names

# Settings of the default estimator: full-batch proximal steps without
# momentum. Mini-batch noise and Adam's momentum keep pushing the groups of
# useless features off zero; without them those groups settle at (or very
# near) zero, far below the groups of useful features.
_DEFAULT_SETTINGS = dict(
    n_hidden=20, alpha_features=30.0, learning_rate_init=0.01, beta_1=0.0
)


def _parse_threshold(threshold, scores):
    # SelectFromModel's vocabulary: a number, "mean", "median", or a scaled
    # reference such as "1.5*mean".
    if not isinstance(threshold, str):
        return float(threshold)
    factor, _, reference = threshold.replace(" ", "").rpartition("*")
    references = {"mean": np.mean, "median": np.median}
    if reference not in references:
        raise ValueError(
            f"threshold={threshold!r} is not understood: expected a number, "
            "'mean', 'median', or a scaled one such as '1.5*mean'."
        )
    try:
        scale = float(factor) if "*" in threshold else 1.0
    except ValueError:
        scale = np.nan
    if not np.isfinite(scale):
        raise ValueError(
            f"threshold={threshold!r} has a factor {factor!r} that is not a "
            "finite number."
        )
    return scale * float(references[reference](scores))


class ImplicitFeatureSelector(MetaEstimatorMixin, SelectorMixin, BaseEstimator):
    """Select the input features an implicit model needs.

    Fits an implicit estimator trained with the group penalty of the
    reference's eq. (5.1), which pushes whole columns of the stacked
    ``(B; D)`` to zero (deep feature selection, section 5.1), scores every
    input feature, and keeps the features whose score reaches
    ``threshold``, at most ``max_features`` of them. The vocabulary is that
    of `sklearn.feature_selection.SelectFromModel`.

    Parameters
    ----------
    estimator : ImplicitClassifier, ImplicitRegressor or None, default=None
        The implicit estimator to fit (or, with ``prefit=True``, the fitted
        one to read). Any estimator whose fitted ``model_`` is an
        `ImplicitModel` works. None fits ``ImplicitClassifier`` for binary
        targets and for multiclass targets that are not floating-point
        numbers, and ``ImplicitRegressor`` otherwise (whole numbers stored
        as floats are taken for a regression target), with
        ``n_hidden=20, alpha_features=30.0, learning_rate_init=0.01,
        beta_1=0.0`` and the whole training set as one batch: proximal
        gradient steps without momentum or mini-batch noise, under which the
        groups of useless features settle at or near zero.
    threshold : str, float or None, default=None
        Features whose score is at least the threshold are kept: a number,
        "mean" or "median" of the scores, or a scaled one such as
        "1.5*mean". None means "mean", or no threshold when
        ``max_features`` is set. A feature of score 0, which the model does
        not use, is never kept.
    max_features : int or None, default=None
        Largest number of features to keep, those of highest score among
        the ones that reach the threshold.
    prefit : bool, default=False
        Whether ``estimator`` is already fitted; ``fit`` then only copies
        and scores it.
    importance : {"norm", "sensitivity"}, default="norm"
        Score of feature ``j``: "norm" is the Euclidean norm of column ``j``
        of ``(B; D)``, zero exactly when the model ignores the feature;
        "sensitivity" is the sum of column ``j`` of the sensitivity matrix
        of Theorem 4.3 (`sklearn_implicit.analysis.sensitivity_matrix`), a
        bound on how far the feature can move all outputs together.
    random_state : int, RandomState instance or None, default=None
        Seeds the default estimator; unused when ``estimator`` is given.

    Attributes
    ----------
    estimator_ : estimator
        The fitted implicit estimator.
    scores_ : ndarray of shape (`n_features_in_`,)
        Score of every input feature.
    threshold_ : float
        The threshold applied to ``scores_``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column
        names.

    See Also
    --------
    sklearn.feature_selection.SelectFromModel : Selection by the weights of
        any model.
    ImplicitClassifier : The implicit estimator, with ``alpha_features``.

    References
    ----------
    L. El Ghaoui, F. Gu, B. Travacca, A. Askari and A. Y. Tsai, "Implicit Deep
    Learning", SIAM Journal on Mathematics of Data Science 3(3), 2021.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn_implicit import ImplicitFeatureSelector
    >>> X, y = make_classification(
    ...     n_samples=300, n_features=10, n_informative=3, n_redundant=0,
    ...     shuffle=False, random_state=0)
    >>> selector = ImplicitFeatureSelector(random_state=0).fit(X, y)
    >>> selector.get_support(indices=True)
    array([0, 1, 2])
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit"]), None],
        "threshold": [Interval(Real, None, None, closed="both"), str, None],
        "max_features": [Interval(Integral, 0, None, closed="left"), None],
        "prefit": ["boolean"],
        "importance": [StrOptions({"norm", "sensitivity"})],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator=None,
        *,
        threshold=None,
        max_features=None,
        prefit=False,
        importance="norm",
        random_state=None,
    ):
        self.estimator = estimator
        self.threshold = threshold
        self.max_features = max_features
        self.prefit = prefit
        self.importance = importance
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        if self.estimator is None:
            tags.input_tags.sparse = True
        else:
            tags.input_tags.sparse = get_tags(self.estimator).input_tags.sparse
        return tags

    def _default_estimator(self, X, y):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target "
                "y is None."
            )
        # Whole numbers stored as floats (counts, prices) are regression
        # targets that type_of_target calls multiclass.
        kind = type_of_target(y)
        classification = kind == "binary" or (
            kind == "multiclass" and np.asarray(y).dtype.kind != "f"
        )
        Estimator = ImplicitClassifier if classification else ImplicitRegressor
        return Estimator(
            **_DEFAULT_SETTINGS,
            batch_size=max(_num_samples(X), 1),
            random_state=self.random_state,
        )

    def _scores(self, estimator):
        model = getattr(estimator, "model_", None)
        if model is None:
            raise TypeError(
                f"estimator={estimator!r} has no fitted attribute model_ holding "
                "an ImplicitModel; pass an implicit estimator such as "
                "ImplicitClassifier or ImplicitRegressor."
            )
        if self.importance == "sensitivity":
            return sensitivity_matrix(model).sum(axis=0)
        return np.sqrt((model.B**2).sum(axis=0) + (model.D**2).sum(axis=0))

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, **fit_params):
        """Fit the estimator (unless prefit) and score the features.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        **fit_params : dict
            Passed to the estimator's ``fit``.

        Returns
        -------
        self : object
            The fitted selector.
        """
        validate_data(self, X, skip_check_array=True)
        if self.prefit:
            try:
                check_is_fitted(self.estimator)
            except NotFittedError as exc:
                raise NotFittedError(
                    "When prefit=True, estimator is expected to be a fitted estimator."
                ) from exc
            check_prefit_feature_names(self, self.estimator)
            self.estimator_ = deepcopy(self.estimator)
        else:
            if self.estimator is None:
                self.estimator_ = self._default_estimator(X, y)
            else:
                self.estimator_ = clone(self.estimator)
            self.estimator_.fit(X, y, **fit_params)

        scores = self._scores(self.estimator_)
        if scores.shape[0] != self.n_features_in_:
            raise ValueError(
                f"The estimator scores {scores.shape[0]} features, but X has "
                f"{self.n_features_in_}."
            )
        if self.max_features is not None and self.max_features > scores.shape[0]:
            raise ValueError(
                f"max_features={self.max_features} exceeds the "
                f"{scores.shape[0]} features of X."
            )
        self.scores_ = scores
        if self.threshold is None:
            threshold = "mean" if self.max_features is None else -np.inf
        else:
            threshold = self.threshold
        self.threshold_ = _parse_threshold(threshold, scores)
        return self

    def _get_support_mask(self):
        check_is_fitted(self)
        # A feature of score 0 plays no role in the model: never keep it.
        mask = (self.scores_ >= self.threshold_) & (self.scores_ > 0)
        if self.max_features is not None:
            ranked = np.argsort(-self.scores_, kind="stable")
            top = np.zeros_like(mask)
            top[ranked[: self.max_features]] = True
            mask &= top
        return mask
