# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Input checks shared by the analysis functions."""

from numbers import Integral

import numpy as np
from scipy import sparse
from sklearn.base import is_classifier
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from sklearn_implicit._activations import ACTIVATIONS
from sklearn_implicit._base import _BaseImplicit
from sklearn_implicit._model import ImplicitModel


def check_model(model):
    """Return the `ImplicitModel` behind a model or a fitted estimator.

    Parameters
    ----------
    model : ImplicitModel or fitted estimator
        An `ImplicitModel`, or a fitted `ImplicitClassifier` or
        `ImplicitRegressor`, whose ``model_`` is one.

    Returns
    -------
    model : ImplicitModel
    """
    if isinstance(model, ImplicitModel):
        return model
    if isinstance(model, _BaseImplicit):
        check_is_fitted(model, "model_")
        return model.model_
    hint = ""
    if hasattr(model, "steps"):
        hint = (
            " For a pipeline, pass its last step, pipe[-1], and inputs "
            "transformed by the steps before it, pipe[:-1].transform(X)."
        )
    elif hasattr(model, "best_estimator_"):
        hint = " For a search, pass its best_estimator_."
    raise TypeError(
        "model must be an ImplicitModel or a fitted ImplicitClassifier or "
        f"ImplicitRegressor, got {type(model).__name__}.{hint}"
    )


def check_inputs(model, X, name="X", estimator=None):
    """Validate a batch of input rows against the model.

    Parameters
    ----------
    model : ImplicitModel
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    name : str, default="X"
        Name used in error messages.
    estimator : ImplicitModel or fitted estimator, default=None
        What the user passed as the model. A fitted estimator also checks
        the feature names of ``X`` against those it was fitted with, as its
        ``predict`` does.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        A dense float64 C-contiguous copy; a single row given as a 1-d array is
        refused, as scikit-learn refuses it.
    """
    if isinstance(X, ImplicitModel) or hasattr(X, "get_params"):
        raise TypeError(
            f"{name} must be an array of input rows, not {type(X).__name__}."
        )
    rows = check_array(
        X,
        accept_sparse=["csr", "csc"],
        dtype=np.float64,
        order="C",
        copy=True,
        input_name=name,
    )
    if sparse.issparse(rows):
        # The bounds and attacks are dense whatever the input.
        rows = rows.toarray()
    if rows.shape[1] != model.n_features_in:
        raise ValueError(
            f"{name} has {rows.shape[1]} features, but the model expects "
            f"{model.n_features_in} features as input."
        )
    if estimator is not None and not isinstance(estimator, ImplicitModel):
        validate_data(estimator, X, reset=False, skip_check_array=True)
    return rows


def check_k(k, n_features, name="k"):
    """Return a limit on the number of perturbed features, or None.

    Parameters
    ----------
    k : int or None
        Must be an integer between 1 and ``n_features``; booleans are
        refused.
    n_features : int
    name : str, default="k"
        Name used in error messages.

    Returns
    -------
    k : int or None
    """
    if k is None:
        return None
    if isinstance(k, Integral) and not isinstance(k, bool) and 1 <= k <= n_features:
        return int(k)
    raise ValueError(f"{name} must be None or an int in [1, {n_features}], got {k!r}.")


def check_labels(estimator, y, n_samples, n_outputs):
    """Return the output index of every class label.

    Labels go through ``classes_`` for a fitted classifier; for an
    `ImplicitModel`, which has no classes, a label is its output index.

    Parameters
    ----------
    estimator : ImplicitModel or fitted estimator
        What the user passed as the model.
    y : array-like of shape (n_samples,)
    n_samples : int
        Number of input rows the labels must match.
    n_outputs : int

    Returns
    -------
    indices : ndarray of shape (n_samples,)
    """
    y = column_or_1d(y)
    if y.shape[0] != n_samples:
        raise ValueError(f"y has {y.shape[0]} labels, but X has {n_samples} rows.")
    classes = getattr(estimator, "classes_", None)
    if classes is None:
        classes = np.arange(n_outputs)

    # A lookup rather than a sorted search: a label of another type than the
    # classes, such as None among strings, is then unknown, not unorderable.
    position = {label: index for index, label in enumerate(classes.tolist())}
    indices = np.array([position.get(label, -1) for label in y.tolist()], dtype=int)
    unknown = indices < 0
    if unknown.any():
        raise ValueError(
            f"y holds labels the model does not predict, such as "
            f"{y[unknown][:1].tolist()[0]!r}; expected one of {classes.tolist()!r}."
        )
    return indices


def check_loss(estimator, model, loss):
    """Resolve ``loss="auto"`` and check that the model can take the loss.

    "auto" is the log loss for a fitted classifier, the squared error for a
    fitted regressor, and for an `ImplicitModel`, which does not say what
    its outputs are, the log loss when it has several outputs and the
    squared error when it has one. The log loss needs one output per class.
    """
    if loss not in ("auto", "squared_error", "log_loss"):
        raise ValueError(
            f"loss must be 'auto', 'squared_error' or 'log_loss', got {loss!r}."
        )
    if loss == "auto":
        if estimator is model:
            classifier = model.n_outputs > 1
        else:
            classifier = is_classifier(estimator)
        loss = "log_loss" if classifier else "squared_error"
    if loss == "log_loss" and model.n_outputs < 2:
        raise ValueError(
            "loss='log_loss' needs a model with one output per class, but this "
            "model has a single output. Use loss='squared_error'."
        )
    return loss


def check_targets(estimator, model, y, n_samples, loss):
    """Return the targets of a loss as an array of the model's outputs' shape.

    Parameters
    ----------
    estimator : ImplicitModel or fitted estimator
        What the user passed as the model.
    model : ImplicitModel
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Real targets for the squared error; class labels for the log loss.
    n_samples : int
    loss : {"squared_error", "log_loss"}

    Returns
    -------
    Y : ndarray of shape (n_samples, n_outputs)
        The targets, or one-hot rows of the labels for the log loss.
    """
    n_outputs = model.n_outputs
    if loss == "log_loss":
        if np.ndim(y) == 2 and np.shape(y)[1] > 1:
            raise ValueError(
                f"y has shape {np.shape(y)}, but loss='log_loss' (what "
                "loss='auto' takes for an ImplicitModel with several outputs) "
                "needs one class label per row; for real targets pass "
                "loss='squared_error'."
            )
        Y = np.zeros((n_samples, n_outputs))
        Y[np.arange(n_samples), check_labels(estimator, y, n_samples, n_outputs)] = 1
        return Y

    try:
        Y = check_array(y, dtype=np.float64, ensure_2d=False, input_name="y")
    except ValueError as exc:
        if "convert" not in str(exc):
            raise
        raise ValueError(
            "y must hold real targets for loss='squared_error'; for class "
            "labels use loss='log_loss'."
        ) from exc
    if Y.ndim == 1:
        Y = Y[:, None]
    if Y.shape != (n_samples, n_outputs):
        expected = f"({n_samples}, {n_outputs})"
        if n_outputs == 1:
            expected = f"({n_samples},) or {expected}"
        raise ValueError(
            f"y must have shape {expected} for loss='squared_error', got {np.shape(y)}."
        )
    return Y


def check_radius(eps, n_features, name="eps"):
    """Return the per-feature radius of an input box as a vector.

    Parameters
    ----------
    eps : float or array-like of shape (n_features,)
        Half-width of the box around each input: one value for every
        feature, or one per feature. Must be finite and non-negative.
    n_features : int
    name : str, default="eps"
        Name used in error messages.

    Returns
    -------
    radius : ndarray of shape (n_features,)
    """
    radius = np.asarray(eps)
    if radius.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be a number or an array of numbers, got {eps!r}.")
    radius = radius.astype(np.float64)
    if radius.ndim == 0:
        radius = np.full(n_features, float(radius))
    if radius.shape != (n_features,):
        raise ValueError(
            f"{name} must be a scalar or have shape ({n_features},), got shape "
            f"{radius.shape}."
        )
    if not np.all(np.isfinite(radius)) or np.any(radius < 0):
        raise ValueError(f"{name} must be finite and non-negative.")
    return radius


def check_blocks(blocks, n_hidden):
    """Return the slices of a partition of the hidden states into blocks.

    Parameters
    ----------
    blocks : None or array-like of int
        Sizes of consecutive blocks of states, summing to ``n_hidden``; None
        means one block per state.
    n_hidden : int

    Returns
    -------
    slices : list of slice
    """
    if blocks is None:
        return [slice(i, i + 1) for i in range(n_hidden)]
    sizes = np.asarray(blocks)
    if (
        sizes.ndim != 1
        or sizes.size == 0
        or not all(isinstance(s, Integral) for s in sizes.tolist())
        or np.any(sizes < 1)
        or sizes.sum() != n_hidden
    ):
        raise ValueError(
            "blocks must be a sequence of positive integers summing to "
            f"n_hidden={n_hidden}, got {blocks!r}."
        )
    ends = np.cumsum(sizes)
    return [slice(int(e - s), int(e)) for s, e in zip(sizes, ends)]


def lipschitz_constant(model):
    """Lipschitz constant of the model's componentwise activation."""
    return ACTIVATIONS[model.activation].lipschitz
