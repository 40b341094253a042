# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Input checks shared by the analysis functions."""

from numbers import Integral

import numpy as np
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted, column_or_1d

from sklearn_implicit._activations import ACTIVATIONS
from sklearn_implicit._model import ImplicitModel


def check_model(model):
    """Return the `ImplicitModel` behind a model or a fitted estimator.

    Parameters
    ----------
    model : ImplicitModel or fitted estimator
        An `ImplicitModel`, or an estimator whose fitted ``model_`` is one,
        such as a fitted `ImplicitClassifier` or `ImplicitRegressor`.

    Returns
    -------
    model : ImplicitModel
    """
    if isinstance(model, ImplicitModel):
        return model
    if not hasattr(model, "fit") or not hasattr(model, "get_params"):
        raise TypeError(
            "model must be an ImplicitModel or a fitted implicit estimator, got "
            f"{type(model).__name__}."
        )
    check_is_fitted(model, "model_")
    if not isinstance(model.model_, ImplicitModel):
        raise TypeError(
            f"{type(model).__name__}.model_ must be an ImplicitModel, got "
            f"{type(model.model_).__name__}."
        )
    return model.model_


def check_inputs(model, X, name="X"):
    """Validate a batch of input rows against the model's number of features.

    Returns a float64 C-contiguous copy of ``X`` of shape (n_samples,
    n_features); a single row given as a 1-d array is refused, as
    scikit-learn refuses it.
    """
    X = check_array(X, dtype=np.float64, order="C", copy=True, input_name=name)
    if X.shape[1] != model.n_features_in:
        raise ValueError(
            f"{name} has {X.shape[1]} features, but the model expects "
            f"{model.n_features_in} features as input."
        )
    return X


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

    indices = np.minimum(np.searchsorted(classes, y), classes.size - 1)
    unknown = classes[indices] != y
    if unknown.any():
        raise ValueError(
            f"y holds labels the model does not predict, such as "
            f"{y[unknown][0].tolist()!r}; expected one of {classes.tolist()!r}."
        )
    return indices


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
    radius = np.array(eps, dtype=np.float64)
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
