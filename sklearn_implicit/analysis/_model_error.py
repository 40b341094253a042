# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""How far a change of the model matrices moves states and outputs (section 5.4)."""

from numbers import Integral, Real

import numpy as np
from scipy import linalg
from sklearn.utils import Bunch, check_scalar

from sklearn_implicit.analysis._bounds import contraction_gap
from sklearn_implicit.analysis._validation import (
    check_inputs,
    check_model,
    lipschitz_constant,
)


def _check_error(error, n_hidden):
    E = np.array(error, dtype=np.float64)
    if E.ndim == 0:
        E = np.full((n_hidden, n_hidden), float(E))
    if E.shape != (n_hidden, n_hidden):
        raise ValueError(
            f"error must be a scalar or have shape ({n_hidden}, {n_hidden}), got "
            f"shape {E.shape}."
        )
    if not np.all(np.isfinite(E)) or np.any(E < 0):
        raise ValueError("error must be finite and non-negative.")
    return E


def _check_perturbed(model, perturbed):
    perturbed = check_model(perturbed)
    shapes = (model.n_hidden, model.n_features_in, model.n_outputs)
    perturbed_shapes = (
        perturbed.n_hidden,
        perturbed.n_features_in,
        perturbed.n_outputs,
    )
    if perturbed_shapes != shapes:
        raise ValueError(
            "perturbed_model must have the model's (n_hidden, n_features_in, "
            f"n_outputs) = {shapes}, got {perturbed_shapes}."
        )
    if perturbed.activation != model.activation:
        raise ValueError(
            f"perturbed_model must use the model's activation {model.activation!r}, "
            f"got {perturbed.activation!r}."
        )
    return perturbed


def model_error_bound(
    model, X, perturbed_model=None, *, error=None, tol=1e-10, max_iter=10_000
):
    """Bound how far a change of the matrices moves states and outputs.

    Given the states ``h`` of ``model`` on the rows of ``X``, this bounds,
    elementwise, the change ``|h' - h|`` of the states and ``|y' - y|`` of
    the outputs when the model is replaced by a perturbed one, such as a
    compressed model with a low-rank or sparse ``A`` (Theorem 5.1 of the
    reference, extended to changes of every matrix). The perturbed model is
    either given, or known only through an elementwise bound on the change of
    ``A``, the other matrices staying the same. The perturbed states are not
    computed.

    Parameters
    ----------
    model : ImplicitModel or fitted estimator
        The reference model, or a fitted implicit estimator.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Input rows.
    perturbed_model : ImplicitModel or fitted estimator, default=None
        The changed model, with the same sizes and activation as ``model``.
        Exactly one of ``perturbed_model`` and ``error`` must be given.
    error : float or array-like of shape (n_hidden, n_hidden), default=None
        Non-negative elementwise bound ``E`` on ``|A' - A|`` for an unknown
        ``A'``, with ``B``, ``b``, ``C``, ``D``, ``d`` unchanged.
    tol : float, default=1e-10
        Tolerance of the equilibrium solve for the states of ``model``, see
        `ImplicitModel.hidden_state`.
    max_iter : int, default=10_000
        Largest number of fixed-point iterations for one row.

    Returns
    -------
    result : Bunch
        With the following entries:

        state : ndarray of shape (n_samples, n_hidden)
            Non-negative bound on ``|h' - h|`` for every row.
        output : ndarray of shape (n_samples, n_outputs)
            Non-negative bound on ``|y' - y|`` for every row.

    Raises
    ------
    ValueError
        If both or neither of ``perturbed_model`` and ``error`` are given,
        if the shapes or the activations differ, or if the contraction
        condition below fails.

    See Also
    --------
    sensitivity_matrix : Bound how far a change of the input moves outputs.

    Notes
    -----
    With ``gamma`` the Lipschitz constant of the componentwise activation,
    ``h = phi(A h + B x + b)`` and ``h' = phi(A' h' + B' x + b')`` give

    ``|h' - h| <= gamma |A' (h' - h) + (A' - A) h + (B' - B) x + (b' - b)|``,

    hence ``delta <= gamma |A'| delta + gamma r`` for ``delta = |h' - h|`` and
    ``r = |(A' - A) h + (B' - B) x + (b' - b)|``, which is known: it involves
    only the computed state ``h``. When
    ``lambda_pf(gamma |A'|) < 1``, the matrix ``(I - gamma |A'|)^{-1}`` is the
    sum of the non-negative powers of ``gamma |A'|``; iterating the
    inequality then gives

    ``|h' - h| <= (I - gamma |A'|)^{-1} gamma r``.

    When only ``|A' - A| <= E`` is known, ``|A'| <= |A| + E`` and
    ``r <= E |h|``, so that, if ``lambda_pf(gamma (|A| + E)) < 1``,

    ``|h' - h| <= (I - gamma (|A| + E))^{-1} gamma E |h|``,

    which is Theorem 5.1 for ``gamma = 1``; the condition also makes every
    such ``A'`` well-posed. The outputs satisfy
    ``|y' - y| <= |C'| |h' - h| + |(C' - C) h + (D' - D) x + (d' - d)|``,
    that is ``|C| |h' - h|`` when only ``A`` changes. The matrix
    ``I - gamma |A'|`` is factorised once and the factors serve every row.
    For a ReLU model with ``A >= 0``, ``A' - A = E >= 0``, ``B' = B``,
    ``b' = b`` and ``B x + b > 0``, all states are positive and every
    inequality above is an equality: both state bounds are attained.

    The bound compares exact equilibria. It is built from the states of
    ``model`` computed to the relative tolerance ``tol``, so it holds up to
    that accuracy; predictions solved to a looser tolerance, such as an
    estimator's ``fixed_point_tol``, may differ from the exact equilibria by
    about that tolerance on top of the bound.

    Examples
    --------
    A one-state ReLU model ``h = relu(0.5 h + x)`` whose ``A`` grows to 0.6:
    for ``x = 1``, ``h = 2`` and ``h' = 2.5``.

    >>> from sklearn_implicit import ImplicitModel
    >>> from sklearn_implicit.analysis import model_error_bound
    >>> model = ImplicitModel(A=[[0.5]], B=[[1.0]], C=[[2.0]], D=[[0.0]])
    >>> bound = model_error_bound(model, [[1.0]], error=0.1)
    >>> bound.state.round(12), bound.output.round(12)
    (array([[0.5]]), array([[1.]]))
    """
    estimator, model = model, check_model(model)
    if (perturbed_model is None) == (error is None):
        raise ValueError("Give exactly one of perturbed_model and error.")
    X = check_inputs(model, X, estimator=estimator)
    check_scalar(tol, "tol", Real, min_val=0, include_boundaries="neither")
    check_scalar(max_iter, "max_iter", Integral, min_val=1)

    if perturbed_model is not None:
        perturbed = _check_perturbed(model, perturbed_model)
        H = model.hidden_state(X, tol=tol, max_iter=max_iter)
        return perturbed_model_bound(model, perturbed, X, H)

    gamma = lipschitz_constant(model)
    E = _check_error(error, model.n_hidden)
    M = gamma * (np.abs(model.A) + E)
    contraction_gap(M, "gamma (|A| + error)")
    H = model.hidden_state(X, tol=tol, max_iter=max_iter)
    state = _propagate(M, gamma * (np.abs(H) @ E.T))
    return Bunch(state=state, output=state @ np.abs(model.C).T)


def _propagate(M, drive):
    # The smallest delta >= 0 with delta >= M delta + drive, row by row:
    # (I - M)^{-1} drive, with I - M factorised once for every row.
    factors = linalg.lu_factor(np.eye(M.shape[0]) - M)
    return np.maximum(linalg.lu_solve(factors, drive.T).T, 0)


def perturbed_model_bound(model, perturbed, X, H):
    """`model_error_bound` against a perturbed model, from known states.

    Parameters
    ----------
    model, perturbed : ImplicitModel
        The reference model and a model of the same shapes and activation.
    X : ndarray of shape (n_samples, n_features)
        Validated input rows.
    H : ndarray of shape (n_samples, n_hidden)
        The states of ``model`` on ``X``, solved tightly.

    Returns
    -------
    bound : Bunch
        ``state`` and ``output``, as in `model_error_bound`.
    """
    gamma = lipschitz_constant(model)
    M = gamma * np.abs(perturbed.A)
    contraction_gap(M, "gamma |A'|")
    drive = np.abs(
        H @ (perturbed.A - model.A).T
        + X @ (perturbed.B - model.B).T
        + (perturbed.b - model.b)
    )
    state = _propagate(M, gamma * drive)
    output = state @ np.abs(perturbed.C).T + np.abs(
        H @ (perturbed.C - model.C).T
        + X @ (perturbed.D - model.D).T
        + (perturbed.d - model.d)
    )
    return Bunch(state=state, output=output)
