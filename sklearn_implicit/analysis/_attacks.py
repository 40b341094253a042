# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Adversarial attacks from the sensitivity, the gradient or a relaxation.

The ranked attacks of section 7.3.1 pick, for every input row, the features
that a ranking marks as the most influential and replace each of them with a
random value from its allowed interval: the box ``[x - eps, x + eps]``, cut
down to ``feature_range`` when one is given. They differ only in the
ranking. `relaxation_attack` instead takes, for every row, the optimal input
of the LP or SDP relaxation of section 7.3.2. The effect of any attack is
measured by running the model on the returned inputs, with
`attack_success_rate`.
"""

import math
import sys
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import is_classifier
from sklearn.utils import check_random_state

from sklearn_implicit._solvers._gradient import model_gradients
from sklearn_implicit.analysis._bounds import sensitivity_matrix
from sklearn_implicit.analysis._relaxations import lp_relaxation, sdp_relaxation
from sklearn_implicit.analysis._validation import (
    check_inputs,
    check_labels,
    check_loss,
    check_model,
    check_radius,
    check_targets,
)


def _check_n_features(n_features, p):
    # An int is a count in [1, p]; a float is a fraction in (0, 1], rounded
    # up so that at least that share of the features is perturbed.
    if isinstance(n_features, Integral) and not isinstance(n_features, bool):
        if 1 <= n_features <= p:
            return int(n_features)
    elif isinstance(n_features, Real) and not isinstance(n_features, bool):
        if 0 < n_features <= 1:
            return max(1, math.ceil(n_features * p - 1e-9))
    raise ValueError(
        f"n_features must be an int in [1, {p}] or a float in (0, 1], got "
        f"{n_features!r}."
    )


def _check_feature_range(feature_range, X):
    # Returns the lower and upper limits of every feature, infinite if None.
    if feature_range is None:
        return -np.inf, np.inf
    try:
        low, high = (float(v) for v in feature_range)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"feature_range must be None or a pair (min, max), got {feature_range!r}."
        ) from exc
    if not low <= high or np.isnan([low, high]).any():
        raise ValueError(
            f"feature_range must satisfy min <= max, got {feature_range!r}."
        )
    if X.size and (X.min() < low or X.max() > high):
        raise ValueError(
            f"X has values outside feature_range={feature_range!r}: "
            f"[{X.min():.6g}, {X.max():.6g}]."
        )
    return low, high


def _like_input(X_adv, X):
    # The attack in the container the user passed: a pandas DataFrame keeps
    # its index and columns, so that the estimator sees its feature names.
    pandas = sys.modules.get("pandas")
    if pandas is not None and isinstance(X, pandas.DataFrame):
        return pandas.DataFrame(X_adv, index=X.index, columns=X.columns)
    return X_adv


def _perturb(X, scores, k, eps, feature_range, random_state):
    # Replace the k top-scored features of every row by uniform draws from
    # their interval. Features whose interval is a single point cannot move,
    # so they are ranked after every feature that can.
    radius = check_radius(eps, X.shape[1])
    low, high = _check_feature_range(feature_range, X)
    rng = check_random_state(random_state)

    lower = np.maximum(X - radius, low)
    upper = np.minimum(X + radius, high)
    scores = np.where(upper > lower, scores, -1.0)
    chosen = np.argsort(-scores, axis=1, kind="stable")[:, :k]

    rows = np.arange(X.shape[0])[:, None]
    lo, hi = lower[rows, chosen], upper[rows, chosen]
    values = lo + (hi - lo) * rng.uniform(size=chosen.shape)
    X_adv = X.copy()
    X_adv[rows, chosen] = np.clip(values, lo, hi)
    return X_adv


def sensitivity_attack(
    model,
    X,
    *,
    eps,
    n_features=0.1,
    feature_range=None,
    target="predicted",
    random_state=None,
):
    """Perturb the inputs that the sensitivity matrix ranks highest.

    The sensitivity matrix ``S`` of the model (`sensitivity_matrix`,
    Theorem 4.3 of the reference) bounds how far each output can move per
    unit change of each input; it depends on the model only, not on data.
    Following section 7.3.1 of the reference, the attack ranks the inputs by
    ``S`` and sets the ``n_features`` highest-ranked inputs of every row to
    random values: each is drawn uniformly from its interval
    ``[x - eps, x + eps]``, intersected with ``feature_range``. All other
    inputs are left as they are.

    Parameters
    ----------
    model : ImplicitModel or fitted estimator
        The implicit model, or a fitted implicit estimator.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Inputs to attack, in the model's own input space.
    eps : float or array-like of shape (n_features,)
        Largest change of every input, one value for all or one per feature;
        finite and non-negative. A feature with ``eps = 0`` is never changed.
    n_features : int or float, default=0.1
        How many inputs to perturb per row: a count between 1 and the number
        of features, or a fraction in ``(0, 1]`` of the features, rounded up.
    feature_range : tuple (min, max), default=None
        Limits that every input must respect, such as ``(0, 1)`` for pixel
        intensities; ``X`` must lie inside them. None for no limits.
    target : {"predicted", "total"}, default="predicted"
        Which ranking to use. "predicted" ranks the inputs of each row by the
        row of ``S`` for the output the model predicts largest on that row
        (the predicted class, as in Figure 15 of the reference); "total"
        ranks them by the column sums of ``S``, the same ranking for every
        row, which needs no evaluation of the model at all.
    random_state : int, RandomState instance or None, default=None
        Seeds the random values.

    Returns
    -------
    X_adv : ndarray or DataFrame of shape (n_samples, n_features)
        The perturbed inputs, as a DataFrame with the index and columns of
        ``X`` when ``X`` is one. Each row differs from ``X`` in at most
        ``n_features`` entries and lies inside the box and ``feature_range``.

    See Also
    --------
    gradient_attack : The same attack ranked by the gradient of the loss.
    attack_success_rate : How often an attack changes a correct prediction.
    sensitivity_matrix : The ranking used here.

    Notes
    -----
    The "predicted" ranking is the default because the untargeted attack
    aims at the output the model currently favours; ranking by the column
    sums spreads the budget over inputs that move any output. When several
    features have the same score the lower index comes first, and features
    whose interval is a single point (``eps = 0``) come last, so the budget
    is spent on features that can move.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_implicit import ImplicitModel
    >>> from sklearn_implicit.analysis import sensitivity_attack
    >>> model = ImplicitModel(A=[[0.0]], B=[[1.0, 0.0, 3.0]], C=[[1.0]],
    ...                       D=[[0.0, 2.0, 0.0]])
    >>> X = np.zeros((1, 3))
    >>> sensitivity_attack(model, X, eps=0.5, n_features=1, random_state=0)
    array([[0.       , 0.       , 0.0488135]])
    """
    estimator, model = model, check_model(model)
    given, X = X, check_inputs(model, X, estimator=estimator)
    k = _check_n_features(n_features, X.shape[1])
    if target not in ("predicted", "total"):
        raise ValueError(f"target must be 'predicted' or 'total', got {target!r}.")

    S = sensitivity_matrix(model)
    if target == "total":
        scores = np.broadcast_to(S.sum(axis=0), X.shape)
    else:
        scores = S[model.predict(X).argmax(axis=1)]
    X_adv = _perturb(X, scores, k, eps, feature_range, random_state)
    return _like_input(X_adv, given)


def gradient_attack(
    model,
    X,
    y,
    *,
    eps,
    n_features=0.1,
    feature_range=None,
    loss="auto",
    random_state=None,
):
    """Perturb the inputs with the largest loss gradient, row by row.

    The gradient-based attack that section 7.3.1 of the reference compares
    with `sensitivity_attack`: for every row, the inputs are ranked by the
    absolute value of the gradient of the loss at ``(x, y)`` with respect to
    ``x`` (a local, data-dependent counterpart of the sensitivity matrix),
    and the ``n_features`` highest-ranked are set to random values drawn
    uniformly from ``[x - eps, x + eps]``, intersected with
    ``feature_range``. The gradient is computed through the equilibrium
    equation by implicit differentiation (appendix G of the reference).

    Parameters
    ----------
    model : ImplicitModel or fitted estimator
        The implicit model, or a fitted implicit estimator.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Inputs to attack, in the model's own input space.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        True targets of ``X``: class labels for the log loss (labels in
        ``classes_`` for a fitted classifier, output indices for an
        `ImplicitModel`), target values for the squared error.
    eps : float or array-like of shape (n_features,)
        Largest change of every input, one value for all or one per feature;
        finite and non-negative. A feature with ``eps = 0`` is never changed.
    n_features : int or float, default=0.1
        How many inputs to perturb per row: a count between 1 and the number
        of features, or a fraction in ``(0, 1]`` of the features, rounded up.
    feature_range : tuple (min, max), default=None
        Limits that every input must respect, such as ``(0, 1)`` for pixel
        intensities; ``X`` must lie inside them. None for no limits.
    loss : {"auto", "log_loss", "squared_error"}, default="auto"
        The loss to differentiate: the softmax cross-entropy of the outputs,
        or half the squared error. "auto" takes the log loss for a classifier
        and the squared error for a regressor; for an `ImplicitModel`, the
        log loss if it has several outputs, else the squared error.
    random_state : int, RandomState instance or None, default=None
        Seeds the random values.

    Returns
    -------
    X_adv : ndarray or DataFrame of shape (n_samples, n_features)
        The perturbed inputs, as a DataFrame with the index and columns of
        ``X`` when ``X`` is one. Each row differs from ``X`` in at most
        ``n_features`` entries and lies inside the box and ``feature_range``.

    See Also
    --------
    sensitivity_attack : The same attack ranked by the sensitivity matrix.
    attack_success_rate : How often an attack changes a correct prediction.

    Notes
    -----
    Only the magnitude of the gradient is used, so the ranking does not
    depend on its sign nor on whether the loss is averaged or summed over
    rows. Ties are broken and point intervals handled as in
    `sensitivity_attack`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_implicit import ImplicitModel
    >>> from sklearn_implicit.analysis import gradient_attack
    >>> model = ImplicitModel(A=[[0.0]], B=[[1.0, 0.0, 3.0]],
    ...                       C=[[1.0], [-1.0]], D=[[0.0, 2.0, 0.0]] * 2)
    >>> X = np.array([[1.0, 1.0, 1.0]])
    >>> gradient_attack(model, X, [0], eps=0.5, n_features=1, random_state=0)
    array([[1.       , 1.       , 1.0488135]])
    """
    estimator, model = model, check_model(model)
    given, X = X, check_inputs(model, X, estimator=estimator)
    k = _check_n_features(n_features, X.shape[1])
    loss = check_loss(estimator, model, loss)
    Y = check_targets(estimator, model, y, X.shape[0], loss)

    scores = np.abs(model_gradients(model, X, Y, loss).X)
    X_adv = _perturb(X, scores, k, eps, feature_range, random_state)
    return _like_input(X_adv, given)


def relaxation_attack(
    model,
    X,
    *,
    eps,
    n_features=None,
    method="lp",
    feature_range=None,
    solver=None,
    solver_options=None,
):
    """Attack every row with the optimal input of a convex relaxation.

    For every row ``x`` of ``X``, solves `lp_relaxation` (or
    `sdp_relaxation`) of the largest squared state discrepancy
    ``||h - h0||^2`` over the box ``[x - eps, x + eps]`` and returns the
    attack it extracts from its optimal point (section 7.3.2 of the
    reference). Unlike the ranked attacks, the perturbation is chosen for
    the row at hand, in size and direction. With ``n_features`` the LP's
    input set also limits the number of perturbed features, which gives a
    sparse attack.

    Parameters
    ----------
    model : ImplicitModel or fitted estimator
        The implicit model, or a fitted implicit estimator, with a ReLU
        activation (the LP also accepts the leaky ReLU).
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Inputs to attack, in the model's own input space.
    eps : float or array-like of shape (n_features,)
        Largest change of every input, one value for all or one per feature;
        finite and non-negative.
    n_features : int or float, default=None
        Largest number of perturbed inputs per row: a count between 1 and the
        number of features, or a fraction in ``(0, 1]`` of the features,
        rounded up. None lets every input move. Only the LP supports it.
    method : {"lp", "sdp"}, default="lp"
        The relaxation to solve. The SDP bound is tighter, but its size
        grows with ``(n_hidden + n_features) ** 2``: keep it to small models.
    feature_range : tuple (min, max), default=None
        Limits that every input must respect, such as ``(0, 1)`` for pixel
        intensities; ``X`` must lie inside them. The relaxation itself does
        not see them: its attack is clipped into them, which keeps it inside
        the box and the budget.
    solver : str, default=None
        Name of the cvxpy solver passed to the relaxation; None keeps its
        default.
    solver_options : dict, default=None
        Keyword arguments passed to the solver.

    Returns
    -------
    X_adv : ndarray or DataFrame of shape (n_samples, n_features)
        The perturbed inputs, each inside the box, ``feature_range`` and the
        ``n_features`` budget; a DataFrame with the index and columns of
        ``X`` when ``X`` is one.

    Warns
    -----
    UserWarning
        Once, when the solver gave no optimal point for some rows; those rows
        are returned unchanged.

    See Also
    --------
    lp_relaxation : The LP, its certified bound and its attack for one row.
    sdp_relaxation : The SDP, likewise.
    attack_success_rate : How often an attack changes a correct prediction.

    Notes
    -----
    The attacks need no certificate, so the relaxations' own warnings about
    uncertified bounds are not shown; a row counts as failed only when the
    solver returned no point at all. The attacks are deterministic: no
    random state is involved.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_implicit import ImplicitModel
    >>> from sklearn_implicit.analysis import relaxation_attack
    >>> model = ImplicitModel(A=[[0.5]], B=[[1.0, -1.0]], C=[[1.0]], D=[[0.0, 0.0]])
    >>> relaxation_attack(model, np.array([[0.1, 0.0]]), eps=0.1)
    array([[ 0.2, -0.1]])
    """
    estimator, model = model, check_model(model)
    given, X = X, check_inputs(model, X, estimator=estimator)
    if method not in ("lp", "sdp"):
        raise ValueError(f"method must be 'lp' or 'sdp', got {method!r}.")
    k = None
    if n_features is not None:
        if method == "sdp":
            raise ValueError(
                "n_features limits the attack only with method='lp'; the SDP "
                "relaxation covers the whole box. Use n_features=None."
            )
        k = _check_n_features(n_features, X.shape[1])
    check_radius(eps, X.shape[1])
    low, high = _check_feature_range(feature_range, X)

    X_adv = X.copy()
    failed = 0
    for i, x in enumerate(X):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            if method == "lp":
                result = lp_relaxation(
                    model, x, eps, k=k, solver=solver, solver_options=solver_options
                )
            else:
                result = sdp_relaxation(
                    model, x, eps, solver=solver, solver_options=solver_options
                )
        if result.status not in ("optimal", "optimal_inaccurate"):
            failed += 1
        X_adv[i] = np.clip(result.attack, low, high)

    if failed:
        warnings.warn(
            f"The {method.upper()} relaxation gave no optimal point for {failed} "
            f"of {X.shape[0]} rows, which are returned unchanged. Try another "
            "solver= or adjust solver_options.",
            UserWarning,
            stacklevel=2,
        )
    return _like_input(X_adv, given)


def _predicted_outputs(estimator, model, X):
    # Index of the largest output of every row: the class that the
    # estimator's predict returns, solved with the estimator's own
    # tolerances, or the output index for an ImplicitModel.
    if estimator is model:
        return model.predict(X).argmax(axis=1)
    tol, max_iter = estimator.fixed_point_tol, estimator.fixed_point_max_iter
    return model.predict(X, tol=tol, max_iter=max_iter).argmax(axis=1)


def attack_success_rate(model, X, y, X_adv):
    """Fraction of correctly classified rows that an attack misclassifies.

    The model is run on both ``X`` and ``X_adv``. Among the rows of ``X``
    whose prediction equals ``y``, the success rate is the fraction whose
    perturbed row ``X_adv`` gets a different prediction: the measure of
    Table 1 of the reference.

    Parameters
    ----------
    model : ImplicitModel or fitted classifier
        A classifier: a fitted implicit classifier, whose ``predict`` is
        used, or an `ImplicitModel` with at least two outputs, whose
        prediction is the index of the largest output.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Clean inputs.
    y : array-like of shape (n_samples,)
        True labels of ``X``: labels in ``classes_`` for a fitted classifier,
        output indices for an `ImplicitModel`.
    X_adv : {array-like, sparse matrix} of shape (n_samples, n_features)
        Perturbed inputs, row by row matching ``X``.

    Returns
    -------
    rate : float
        Success rate in ``[0, 1]``.

    Raises
    ------
    ValueError
        For a regressor or a one-output model, or when no row of ``X`` is
        classified correctly, where the rate is undefined.

    See Also
    --------
    sensitivity_attack : Attack ranked by the sensitivity matrix.
    gradient_attack : Attack ranked by the gradient of the loss.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_implicit import ImplicitModel
    >>> from sklearn_implicit.analysis import attack_success_rate
    >>> model = ImplicitModel(A=[[0.0]], B=[[0.0]], C=[[0.0], [0.0]],
    ...                       D=[[1.0], [-1.0]])
    >>> X = np.array([[1.0], [2.0], [-1.0]])
    >>> X_adv = np.array([[-1.0], [2.0], [-2.0]])
    >>> attack_success_rate(model, X, [0, 0, 0], X_adv)
    0.5
    """
    estimator = model
    model = check_model(model)
    if estimator is not model and not is_classifier(estimator):
        raise ValueError(
            f"attack_success_rate needs a classifier, got {type(estimator).__name__}."
        )
    if model.n_outputs < 2:
        raise ValueError(
            "attack_success_rate needs a model with one output per class, "
            "but this model has a single output."
        )
    X = check_inputs(model, X, estimator=estimator)
    X_adv = check_inputs(model, X_adv, name="X_adv", estimator=estimator)
    if X_adv.shape != X.shape:
        raise ValueError(
            f"X_adv must have the shape of X, {X.shape}, got {X_adv.shape}."
        )
    labels = check_labels(estimator, y, X.shape[0], model.n_outputs)

    correct = _predicted_outputs(estimator, model, X) == labels
    if not correct.any():
        raise ValueError(
            "No row of X is classified correctly, so the success rate is undefined."
        )
    fooled = _predicted_outputs(estimator, model, X_adv[correct]) != labels[correct]
    return float(fooled.mean())
