# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Closed-form robustness bounds of an implicit model (paper, section 4)."""

import warnings

import numpy as np
from scipy import linalg
from scipy.special import logsumexp
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import Bunch

from sklearn_implicit._activations import apply_activation
from sklearn_implicit._model import check_outputs, perron_frobenius
from sklearn_implicit.analysis._validation import (
    check_blocks,
    check_inputs,
    check_k,
    check_loss,
    check_model,
    check_radius,
    check_targets,
    lipschitz_constant,
)

_DUAL = {1: np.inf, 2: 2, np.inf: 1}

# Settings of the nominal equilibrium solves: the bounds are centred on these
# states, so they are solved far below any radius of interest. What error
# remains is bounded by `nominal_states` and added to the bounds.
_SOLVE = {"tol": 1e-12, "max_iter": 10_000}

# Largest number of sweeps of the interval iteration of `state_bounds`, which
# also stops once no bound moves by more than _SWEEP_TOL times the largest
# Theorem 4.1 half-width. Every sweep gives a valid box; more only tighten it.
_MAX_SWEEPS = 100
_SWEEP_TOL = 1e-9


def _induced_norm(M, norm):
    # ||M||_{norm -> norm}, the operator norm between equal l_p spaces.
    if M.size == 0:
        return 0.0
    if norm == 1:
        return float(np.abs(M).sum(axis=0).max())
    if norm == np.inf:
        return float(np.abs(M).sum(axis=1).max())
    return float(linalg.norm(M, 2))


def norm_matrices(model, blocks=None, norm=2):
    """Block norm matrices ``N(A)``, ``N(B)``, ``N(C)`` of eq. (2.5)-(4.6).

    Parameters
    ----------
    model : ImplicitModel
    blocks : None or array-like of int, default=None
        Sizes of consecutive blocks of hidden states; None means one block per
        state, where every norm matrix is the elementwise absolute value.
    norm : {1, 2, inf}, default=2
        The l_p norm measuring every block of states.

    Returns
    -------
    N_A : ndarray of shape (n_blocks, n_blocks)
        Induced ``norm -> norm`` norms of the blocks of ``A``.
    N_B : ndarray of shape (n_blocks, n_features)
        ``norm``-norms of each block of each column of ``B``.
    N_C : ndarray of shape (n_outputs, n_blocks)
        Dual norms of each block of each row of ``C``.
    """
    if norm not in _DUAL:
        raise ValueError(f"norm must be 1, 2 or inf, got {norm!r}.")
    if blocks is None:
        return np.abs(model.A), np.abs(model.B), np.abs(model.C)
    slices = check_blocks(blocks, model.n_hidden)
    N_A = np.array(
        [[_induced_norm(model.A[r, c], norm) for c in slices] for r in slices]
    )
    N_B = np.array([np.linalg.norm(model.B[r], ord=norm, axis=0) for r in slices])
    N_C = np.column_stack(
        [np.linalg.norm(model.C[:, c], ord=_DUAL[norm], axis=1) for c in slices]
    )
    return N_A, N_B.reshape(len(slices), -1), N_C.reshape(model.n_outputs, -1)


def contraction_gap(M, name="gamma |A|"):
    """Check that a non-negative matrix has ``lambda_pf(M) < 1``.

    Tries the cheap sufficient tests first (max row sum below 1, strict
    triangularity) before computing the eigenvalue.

    Parameters
    ----------
    M : ndarray of shape (n, n)
        Non-negative matrix, such as ``gamma |A|`` or ``Gamma N(A)``.
    name : str, default="gamma |A|"
        How the error message names ``M``.

    Raises
    ------
    ValueError
        If ``lambda_pf(M) >= 1``: the bounds of section 4 do not exist then.
    """
    if M.size == 0 or M.sum(axis=1).max() < 1:
        return
    if not np.triu(M).any() or not np.tril(M).any():
        return
    eigenvalue = perron_frobenius(M)
    if eigenvalue >= 1:
        raise ValueError(
            f"The bound needs lambda_pf({name}) < 1, but it is {eigenvalue:.6g} "
            "for this model."
        )


def sensitivity_matrix(model, *, blocks=None, norm=2):
    """Bound how far each input can move each output.

    For any two inputs ``x`` and ``x0``, the outputs satisfy
    ``|f(x) - f(x0)| <= S |x - x0|`` elementwise, where ``S`` is the
    sensitivity matrix returned here: ``|C| (I - gamma |A|)^{-1} gamma |B| +
    |D|`` for a componentwise activation with Lipschitz constant ``gamma``
    (Theorem 4.3 of the reference), or the block version
    ``N(C) (I - gamma N(A))^{-1} gamma N(B) + |D|`` of Theorem 4.4 when the
    hidden states are grouped into blocks. The matrix does not depend on any
    data: large entries mark the inputs through which an output can be moved
    most.

    Parameters
    ----------
    model : ImplicitModel or fitted estimator
        The implicit model, or a fitted implicit estimator.
    blocks : None or array-like of int, default=None
        Sizes of consecutive blocks of hidden states, for Theorem 4.4; None
        treats every state as its own block (Theorem 4.3).
    norm : {1, 2, inf}, default=2
        The l_p norm measuring each block of states; used only with
        ``blocks``.

    Returns
    -------
    S : ndarray of shape (n_outputs, n_features)
        Non-negative sensitivity matrix.

    Examples
    --------
    >>> from sklearn_implicit import ImplicitModel
    >>> from sklearn_implicit.analysis import sensitivity_matrix
    >>> model = ImplicitModel(A=[[0.5]], B=[[1.0, -2.0]], C=[[3.0]], D=[[0.0, 1.0]])
    >>> sensitivity_matrix(model)
    array([[ 6., 13.]])
    """
    model = check_model(model)
    gamma = lipschitz_constant(model)
    N_A, N_B, N_C = norm_matrices(model, blocks, norm)
    contraction_gap(gamma * N_A, "gamma |A|" if blocks is None else "gamma N(A)")

    identity = np.eye(N_A.shape[0])
    with np.errstate(over="ignore", invalid="ignore"):
        gain = linalg.solve(identity - gamma * N_A, gamma * N_B)
        S = N_C @ gain + np.abs(model.D)
    if not np.all(np.isfinite(S)):
        raise ValueError(
            "The sensitivity matrix overflows float64 for this model: the "
            "feedback through |A| amplifies the inputs beyond 1.8e308, so "
            "every bound built on it would be infinite."
        )
    return S


def _top_k_sum(M, k):
    # Sum of the k largest entries of every row of a non-negative matrix.
    if k >= M.shape[1]:
        return M.sum(axis=1)
    return np.partition(M, M.shape[1] - k, axis=1)[:, M.shape[1] - k :].sum(axis=1)


def state_radius(model, radius, k=None):
    """Half-widths of the box that holds every perturbed hidden state.

    For inputs within ``radius`` of a nominal input in every feature, and, if
    ``k`` is given, differing from it in at most ``k`` features, every state
    satisfies ``|h - h0| <= sigma`` elementwise, with
    ``sigma = (I - gamma |A|)^{-1} gamma t`` (Theorem 4.1 of the reference).
    Here ``t = |B| radius``, or, with ``k``, the sum of the ``k`` largest
    entries of every row of ``|B| diag(radius)``, as in eq. (4.4).

    Parameters
    ----------
    model : ImplicitModel
    radius : ndarray of shape (n_features,)
        Non-negative half-widths of the input box, as from ``check_radius``.
    k : int, default=None
        Largest number of perturbed features; None for no limit.

    Returns
    -------
    sigma : ndarray of shape (n_hidden,)
        Non-negative half-widths of the state box; the same for every
        nominal input.
    """
    gamma = lipschitz_constant(model)
    N_A = np.abs(model.A)
    contraction_gap(gamma * N_A)

    drive = drive_radius(model, radius, k)
    sigma = linalg.solve(np.eye(model.n_hidden) - gamma * N_A, gamma * drive)
    _check_finite(sigma)
    return sigma


def _check_finite(radius):
    # Half-widths that overflowed float64 bound nothing.
    if not np.all(np.isfinite(radius)):
        raise ValueError(
            "eps is too large for this model: the bounds overflow float64."
        )


def drive_radius(model, radius, k):
    """Largest change of every entry of ``B x`` over the input set.

    That is ``|B| radius``, or with ``k`` the sum of the ``k`` largest entries
    of each row of ``|B| diag(radius)``.
    """
    with np.errstate(over="ignore"):
        weighted = np.abs(model.B) * radius
        drive = weighted.sum(axis=1) if k is None else _top_k_sum(weighted, k)
    _check_finite(drive)
    return drive


def _inf_norm(M):
    # ||M||_inf, the largest absolute row sum.
    return _induced_norm(M, np.inf)


def state_bounds(model, X, eps, *, k=None):
    """Bound the hidden states reached from a box around every input.

    For every row ``x0`` of ``X`` and every input ``x`` with
    ``|x - x0| <= eps`` elementwise (and, if ``k`` is given, ``x`` differing
    from ``x0`` in at most ``k`` features), the state ``h`` of ``x`` lies
    between ``lower`` and ``upper``. The box starts from the componentwise
    bound of Theorem 4.1 of the reference, ``|h - h0| <= radius``, and is
    then tightened by an interval iteration of the equilibrium equation (see
    Notes).

    Parameters
    ----------
    model : ImplicitModel or fitted estimator
        The implicit model, or a fitted implicit estimator.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Nominal inputs, one per row.
    eps : float or array-like of shape (n_features,)
        Half-width of the input box: one value for every feature, or one per
        feature. Must be finite and non-negative.
    k : int, default=None
        Largest number of features that may change (the set of eq. (4.2));
        None lets every feature change (the box of eq. (4.1)).

    Returns
    -------
    bounds : Bunch
        ``lower``, ``upper`` : ndarray of shape (n_samples, n_hidden)
            Elementwise bounds on the perturbed states, within the range of
            the activation (``[0, inf)`` for relu, ``[-1, 1]`` for tanh,
            ``[0, 1]`` for the sigmoid) and within ``h0 -/+ radius``.
        ``radius`` : ndarray of shape (n_hidden,)
            The half-widths of Theorem 4.1, ``(I - gamma |A|)^{-1} gamma t``,
            with ``gamma`` the Lipschitz constant of the activation (1, or
            1/4 for the sigmoid) and ``t = |B| eps`` (or its top-``k`` form,
            as in eq. (4.4)). The same for every row.
        ``norm_bound`` : float
            Bound on ``||h - h0||_inf`` by eq. (4.3), or eq. (4.4) with
            ``k``: ``gamma ||t||_inf / (1 - gamma ||A||_inf)``. It applies
            only when ``gamma ||A||_inf < 1``; otherwise it is ``inf``.
            Never smaller than ``radius.max()``.

    See Also
    --------
    output_bounds : The corresponding bounds on the outputs.
    sensitivity_matrix : The matrix behind the output bounds.

    Notes
    -----
    Let ``[L, U]`` hold every perturbed state. Each such state solves
    ``h = phi(A h + B x + b)``, and for ``h`` in ``[L, U]`` the
    pre-activation lies in ``[A+ L + A- U + B x0 + b - t, A+ U + A- L +
    B x0 + b + t]``, where ``A+`` and ``A-`` hold the positive and negative
    entries of ``A``. As ``phi`` is increasing, ``phi`` of that interval
    holds every perturbed state as well. Starting from the box of Theorem
    4.1, which this map sends into itself (it is a fixed point of the
    Lipschitz estimate), the iteration therefore produces nested boxes that
    all contain the perturbed states. It runs for at most 100 sweeps.

    The bounds hold for the exact equilibria. They are centred on the
    nominal states solved to a relative tolerance of ``1e-12`` and widened by
    a bound on the error left in those. A fitted estimator's ``predict``
    solves to its own ``fixed_point_tol``, so its states can lie outside
    by about that tolerance relative to their size.

    Examples
    --------
    >>> from sklearn_implicit import ImplicitModel
    >>> from sklearn_implicit.analysis import state_bounds
    >>> model = ImplicitModel(A=[[0.5]], B=[[1.0, -1.0]], C=[[1.0]], D=[[0.0, 0.0]])
    >>> bounds = state_bounds(model, [[2.0, 0.0], [0.0, 1.0]], eps=0.25)
    >>> bounds.lower
    array([[3.],
           [0.]])
    >>> bounds.upper
    array([[5.],
           [0.]])
    >>> bounds.radius, bounds.norm_bound
    (array([1.]), 1.0)
    """
    estimator, model = model, check_model(model)
    X = check_inputs(model, X, estimator=estimator)
    radius = check_radius(eps, model.n_features_in)
    k = check_k(k, model.n_features_in)

    gamma = lipschitz_constant(model)
    state_half_width = state_radius(model, radius, k)
    spread = drive_radius(model, radius, k)
    contraction = gamma * _inf_norm(model.A)
    norm_bound = (
        gamma * float(spread.max(initial=0.0)) / (1.0 - contraction)
        if contraction < 1
        else np.inf
    )

    H0, error = nominal_states(model, X)
    lower, upper = interval_iteration(
        model, X, H0 - state_half_width - error, H0 + state_half_width + error, spread
    )
    return Bunch(
        lower=lower, upper=upper, radius=state_half_width, norm_bound=norm_bound
    )


def nominal_states(model, X):
    """Equilibrium states of the nominal inputs, with a bound on their error.

    The states are solved to a relative tolerance of ``1e-12`` in at most
    10,000 iterations. Their error is then bounded from their residual
    ``e = phi(A h + B x + b) - h``: the exact state ``h*`` satisfies
    ``|h* - h| <= gamma |A| |h* - h| + |e|``, hence
    ``|h* - h| <= (I - gamma |A|)^{-1} |e|``, a non-negative matrix when the
    model is well-posed.

    Parameters
    ----------
    model : ImplicitModel
    X : ndarray of shape (n_samples, n_features)

    Returns
    -------
    H : ndarray of shape (n_samples, n_hidden)
        The solved states.
    error : ndarray of shape (n_samples, n_hidden)
        Elementwise bound on ``|h* - h|``; about ``1e-12`` times the states
        unless the iteration ran out.

    Warns
    -----
    ConvergenceWarning
        When some state did not settle within the 10,000 iterations; the
        bounds built on it stay valid, widened by ``error``.
    """
    with warnings.catch_warnings():
        # Its advice, to raise max_iter, names no parameter of the caller.
        warnings.simplefilter("ignore", ConvergenceWarning)
        H, n_iter = model.hidden_state(X, **_SOLVE, return_n_iter=True)

    gamma = lipschitz_constant(model)
    N_A = np.abs(model.A)
    contraction_gap(gamma * N_A)
    drive = X @ model.B.T + model.b
    residual = np.abs(apply_activation(H @ model.A.T + drive, model.activation) - H)
    with np.errstate(over="ignore"):
        error = linalg.solve(np.eye(model.n_hidden) - gamma * N_A, residual.T).T
    if not np.all(np.isfinite(error)):
        raise ValueError(
            "The error bound of the nominal states overflows float64: the "
            "feedback through |A| amplifies their residual beyond 1.8e308."
        )

    if np.any(n_iter >= _SOLVE["max_iter"]):
        warnings.warn(
            f"The nominal states did not settle within {_SOLVE['max_iter']} "
            "iterations, which happens when the model is close to the limit "
            "of well-posedness. The bounds remain valid: they are widened by "
            f"the states' remaining error, at most {error.max():.3g}.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return H, error


def _nominal_outputs(model, X):
    # The outputs of the nominal states, and |C| times the bound on their
    # error: how far each exact output may lie from them.
    H0, error = nominal_states(model, X)
    with np.errstate(over="ignore", invalid="ignore"):
        Y0 = H0 @ model.C.T + X @ model.D.T + model.d
    return check_outputs(Y0), error @ np.abs(model.C).T


def preactivation_interval(model, X, lower, upper, drive_radius):
    """Interval of every pre-activation over a state box and an input box.

    For states ``h`` in ``[lower, upper]`` and inputs within ``drive_radius``
    of ``X`` in the sense ``|B (x - x0)| <= drive_radius``, the pre-activation
    ``A h + B x + b`` lies in ``[A+ lower + A- upper + B x0 + b - t,
    A+ upper + A- lower + B x0 + b + t]``, with ``A+`` and ``A-`` the
    positive and negative entries of ``A`` and ``t = drive_radius``.

    Parameters
    ----------
    model : ImplicitModel
    X : ndarray of shape (n_samples, n_features)
    lower, upper : ndarray of shape (n_samples, n_hidden)
    drive_radius : ndarray of shape (n_hidden,)

    Returns
    -------
    Z_low, Z_high : ndarray of shape (n_samples, n_hidden)
    """
    A_pos, A_neg = np.maximum(model.A, 0.0), np.minimum(model.A, 0.0)
    drive = X @ model.B.T + model.b
    Z_low = lower @ A_pos.T + upper @ A_neg.T + drive - drive_radius
    Z_high = upper @ A_pos.T + lower @ A_neg.T + drive + drive_radius
    return Z_low, Z_high


def interval_iteration(model, X, lower, upper, drive_radius):
    """Narrow a box of states by sweeps ``[L, U] <- phi(interval of z)``.

    See the Notes of `state_bounds` for why every sweep keeps the perturbed
    states inside; it stops after 100 sweeps or once no bound moves.

    Parameters
    ----------
    model : ImplicitModel
    X : ndarray of shape (n_samples, n_features)
    lower, upper : ndarray of shape (n_samples, n_hidden)
        A box holding every perturbed state, such as Theorem 4.1's.
    drive_radius : ndarray of shape (n_hidden,)

    Returns
    -------
    lower, upper : ndarray of shape (n_samples, n_hidden)
    """
    stop = _SWEEP_TOL * float(np.max(upper - lower, initial=0.0))
    for _ in range(_MAX_SWEEPS):
        Z_low, Z_high = preactivation_interval(model, X, lower, upper, drive_radius)
        new_lower = apply_activation(Z_low, model.activation)
        new_upper = apply_activation(Z_high, model.activation)
        moved = max(
            float(np.max(np.abs(new_lower - lower))),
            float(np.max(np.abs(new_upper - upper))),
        )
        lower, upper = new_lower, new_upper
        if moved <= stop:
            break
    return lower, upper


def _output_radius(model, radius, k):
    # Half-widths of the output box: S radius, or with k the sum of the k
    # largest entries of every row of S diag(radius).
    with np.errstate(over="ignore"):
        weighted = sensitivity_matrix(model) * radius
        sigma = weighted.sum(axis=1) if k is None else _top_k_sum(weighted, k)
    _check_finite(sigma)
    return sigma


def output_bounds(model, X, eps, *, k=None):
    """Bound the outputs reached from a box around every input.

    For every row ``x0`` of ``X`` and every input ``x`` with
    ``|x - x0| <= eps`` elementwise (and, if ``k`` is given, differing from
    ``x0`` in at most ``k`` features), the output ``y`` of ``x`` satisfies
    ``|y - y0| <= radius``, where ``radius = S eps`` and ``S`` is the
    sensitivity matrix of Theorem 4.3 of the reference. With ``k``, output
    ``j`` gets the sum of the ``k`` largest entries of ``S[j] * eps``.

    Parameters
    ----------
    model : ImplicitModel or fitted estimator
        The implicit model, or a fitted implicit estimator. For a fitted
        regressor the outputs are in the units of the targets; for a
        classifier they are the class scores (logits).
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Nominal inputs, one per row.
    eps : float or array-like of shape (n_features,)
        Half-width of the input box: one value for every feature, or one per
        feature. Must be finite and non-negative.
    k : int, default=None
        Largest number of features that may change (the set of eq. (4.2));
        None lets every feature change.

    Returns
    -------
    bounds : Bunch
        ``lower``, ``upper`` : ndarray of shape (n_samples, n_outputs)
            ``y0 - radius`` and ``y0 + radius``, with ``y0`` the nominal
            outputs, each widened by ``|C|`` times the bound on the error of
            the nominal states (see Notes).
        ``radius`` : ndarray of shape (n_outputs,)
            Half-widths of the output box; the same for every row.

    See Also
    --------
    sensitivity_matrix : The matrix ``S``.
    state_bounds : The corresponding bounds on the hidden states.
    worst_case_loss : The largest loss over the same box.

    Notes
    -----
    With ``k``, a perturbation ``delta`` with at most ``k`` non-zero entries
    gives ``|y - y0| <= S |delta|``, and row ``j`` of the right-hand side sums
    at most ``k`` entries of ``S[j] * eps``. Another valid bound combines the
    state radius of eq. (4.4), ``|C| sigma_k``, with the ``k`` largest entries
    of ``|D[j]| * eps``; it is never smaller, because the sum of the ``k``
    largest entries is subadditive and positively homogeneous, so taking it
    once per output, after the non-negative combination, costs least.

    The bounds hold for the exact outputs. The nominal states are solved to a
    relative tolerance of ``1e-12``, and ``lower`` and ``upper`` are widened
    by ``|C|`` times a bound on the error left in them, negligible unless
    their solve ran out of iterations. A fitted estimator's ``predict``
    solves to its own ``fixed_point_tol``, so its outputs can lie outside by
    about ``|C|`` times that tolerance relative to the states' size.

    Examples
    --------
    >>> from sklearn_implicit import ImplicitModel
    >>> from sklearn_implicit.analysis import output_bounds
    >>> model = ImplicitModel(A=[[0.5]], B=[[1.0, -1.0]], C=[[2.0]], D=[[0.0, 1.0]])
    >>> bounds = output_bounds(model, [[2.0, 0.0]], eps=0.25)
    >>> bounds.lower, bounds.upper
    (array([[5.75]]), array([[10.25]]))
    >>> output_bounds(model, [[2.0, 0.0]], eps=0.25, k=1).radius
    array([1.25])
    """
    estimator, model = model, check_model(model)
    X = check_inputs(model, X, estimator=estimator)
    radius = check_radius(eps, model.n_features_in)
    k = check_k(k, model.n_features_in)

    output_radius = _output_radius(model, radius, k)
    Y0, error = _nominal_outputs(model, X)
    half_width = output_radius + error
    return Bunch(lower=Y0 - half_width, upper=Y0 + half_width, radius=output_radius)


def lipschitz_bound(model):
    """Bound the Lipschitz constant of the model in the max-norm.

    Returns ``kappa = gamma ||B||_inf ||C||_inf / (1 - gamma ||A||_inf) +
    ||D||_inf`` (eq. (4.8) of the reference, with ``gamma`` the Lipschitz
    constant of the activation: 1, or 1/4 for the sigmoid), which satisfies
    ``||f(x) - f(x0)||_inf <= kappa ||x - x0||_inf`` for all inputs.

    Parameters
    ----------
    model : ImplicitModel or fitted estimator
        The implicit model, or a fitted implicit estimator.

    Returns
    -------
    kappa : float
        Upper bound on the Lipschitz constant of ``x -> f(x)`` from the
        max-norm to the max-norm.

    Raises
    ------
    ValueError
        If ``gamma ||A||_inf >= 1``, where the bound does not exist.

    See Also
    --------
    sensitivity_matrix : Gives the tighter constant ``||S||_inf``.

    Notes
    -----
    The max-norm of the sensitivity matrix ``S`` of Theorem 4.3 (its largest
    row sum) is also a Lipschitz constant in the max-norm, and it is never
    larger than ``kappa``: ``(I - gamma |A|)^{-1}`` has max-norm at most
    ``1 / (1 - gamma ||A||_inf)``.

    Examples
    --------
    >>> from sklearn_implicit import ImplicitModel
    >>> from sklearn_implicit.analysis import lipschitz_bound
    >>> model = ImplicitModel(A=[[0.5]], B=[[1.0, -2.0]], C=[[3.0]], D=[[0.0, 1.0]])
    >>> lipschitz_bound(model)
    19.0
    """
    model = check_model(model)
    gamma = lipschitz_constant(model)

    contraction = gamma * _inf_norm(model.A)
    if contraction >= 1:
        raise ValueError(
            "lipschitz_bound needs gamma * ||A||_inf < 1, but it is "
            f"{contraction:.6g} for this model (activation={model.activation!r}, "
            f"gamma={gamma:g}). For relu or leaky_relu, "
            "sklearn_implicit.analysis.rescale gives an equivalent model with "
            "a smaller ||A||_inf when lambda_pf(gamma |A|) < 1."
        )
    gain = gamma * _inf_norm(model.B) * _inf_norm(model.C) / (1.0 - contraction)
    return gain + _inf_norm(model.D)


def worst_case_loss(model, X, y, eps, *, loss="auto", k=None):
    """Largest loss over a box around every input (section 4.4).

    For every row ``x0`` of ``X``, bounds the loss of the model's output on
    every input ``x`` with ``|x - x0| <= eps`` (and at most ``k`` changed
    features if ``k`` is given). The bound is the exact largest loss over the
    output box ``|y - y0| <= sigma`` of `output_bounds`, which holds every
    such output.

    Parameters
    ----------
    model : ImplicitModel or fitted estimator
        The implicit model, or a fitted implicit estimator. For a fitted
        regressor the outputs are in the units of the targets.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Nominal inputs, one per row.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets. For ``"squared_error"``, real values. For ``"log_loss"``,
        one class label per row: a label of ``classes_`` for a fitted
        classifier, an output index in ``0 .. n_outputs - 1`` for an
        `ImplicitModel`.
    eps : float or array-like of shape (n_features,)
        Half-width of the input box: one value for every feature, or one per
        feature. Must be finite and non-negative.
    loss : {"auto", "squared_error", "log_loss"}, default="auto"
        ``"squared_error"`` is the squared error summed over outputs,
        ``||y - f(x)||_2^2``; ``"log_loss"`` is the softmax cross-entropy
        (natural logarithm) of the outputs taken as logits. ``"auto"`` takes
        the log loss for a classifier and the squared error for a regressor;
        for an `ImplicitModel`, the log loss if it has several outputs, else
        the squared error.
    k : int, default=None
        Largest number of features that may change; None lets every feature
        change.

    Returns
    -------
    losses : Bunch
        ``nominal`` : ndarray of shape (n_samples,)
            The loss at every nominal input.
        ``upper`` : ndarray of shape (n_samples,)
            Upper bound on the loss over the box around every input.

    See Also
    --------
    output_bounds : The output box the bound is taken over.

    Notes
    -----
    For the squared error, every output is moved away from its target:
    ``sum_j (|y_j - y0_j| + sigma_j)^2``. For the cross-entropy of class
    ``c``, ``logsumexp(z) - z_c`` increases with every other logit and
    decreases with ``z_c`` (its derivatives are ``softmax(z)_i`` and
    ``softmax(z)_c - 1``), so its maximum over the box is taken at
    ``z = y0 + sigma``, except ``z_c = y0_c - sigma_c``. This is never larger
    than the bound of section 4.4, ``logsumexp(y0 + sigma) - y0_c +
    sigma_c``.

    As in `output_bounds`, ``sigma`` includes the bound on the error of the
    nominal states, which are solved to a relative tolerance of ``1e-12``;
    ``nominal`` is the loss of the outputs so solved.

    Examples
    --------
    >>> from sklearn_implicit import ImplicitModel
    >>> from sklearn_implicit.analysis import worst_case_loss
    >>> model = ImplicitModel(A=[[0.5]], B=[[1.0, -1.0]], C=[[2.0]], D=[[0.0, 1.0]])
    >>> losses = worst_case_loss(model, [[2.0, 0.0]], [8.5], eps=0.25)
    >>> losses.nominal, losses.upper
    (array([0.25]), array([7.5625]))
    """
    estimator, model = model, check_model(model)
    X = check_inputs(model, X, estimator=estimator)
    radius = check_radius(eps, model.n_features_in)
    k = check_k(k, model.n_features_in)
    loss = check_loss(estimator, model, loss)
    Y = check_targets(estimator, model, y, X.shape[0], loss)

    output_radius = _output_radius(model, radius, k)
    Y0, error = _nominal_outputs(model, X)
    sigma = output_radius + error

    if loss == "squared_error":
        gap = np.abs(Y - Y0)
        return Bunch(
            nominal=(gap**2).sum(axis=1), upper=((gap + sigma) ** 2).sum(axis=1)
        )

    labels = Y.argmax(axis=1)
    rows = np.arange(Y0.shape[0])
    worst = Y0 + sigma
    worst[rows, labels] = Y0[rows, labels] - sigma[rows, labels]
    return Bunch(
        nominal=logsumexp(Y0, axis=1) - Y0[rows, labels],
        upper=logsumexp(worst, axis=1) - worst[rows, labels],
    )
