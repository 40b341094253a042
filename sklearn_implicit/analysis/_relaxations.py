# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""LP and SDP relaxations of the worst-case hidden state (paper, 4.5-4.6).

Both relaxations bound how far an input perturbation inside a box can push
the equilibrium state of a ReLU model, and their optimal points suggest an
attack. cvxpy is imported inside the functions only, so that importing the
analysis package stays cheap.

Both problems are written with whole-vector constraints: their number of
cvxpy constraint objects does not depend on the sizes of the model.
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import Bunch

from sklearn_implicit._kernels._equilibrium import LEAKY_SLOPE
from sklearn_implicit.analysis._bounds import (
    drive_radius,
    interval_iteration,
    nominal_states,
    preactivation_interval,
    state_radius,
)
from sklearn_implicit.analysis._validation import (
    check_inputs,
    check_k,
    check_model,
    check_radius,
)

# Slope of the activation below zero, for the activations whose graph the
# LP relaxation describes exactly by two linear inequalities.
_NEGATIVE_SLOPE = {"relu": 0.0, "leaky_relu": LEAKY_SLOPE}

# A state whose lower bound exceeds this multiple of the nominal state's
# scale is taken as certainly active; the margin absorbs the rounding of the
# nominal equilibrium.
_SIGN_MARGIN = 1e-9

# The solves tried in turn, as (solver, options). Clarabel first with a gap
# of 1e-7 (on breast-cancer models it stalled at 1e-8 and 1e-9 but reached
# this), then, as that is not always reachable either, with a gap of 1e-6 and
# feasibility to 1e-7; its duality-gap tolerance is added to the bound (see
# `_gap_margin`). SCS, a first-order method, comes last: it gives a value
# where Clarabel fails, never a certificate, so it is not run for long.
_LP_ATTEMPTS = [("HIGHS", {})]
# Added to a HiGHS optimum, relative to 1 + |optimum|: the default primal
# and dual feasibility tolerances of its simplex (see `_gap_margin`).
_HIGHS_MARGIN = 1e-7
_SDP_ATTEMPTS = [
    ("CLARABEL", {"tol_gap_abs": 1e-7, "tol_gap_rel": 1e-7}),
    ("CLARABEL", {"tol_gap_abs": 1e-6, "tol_gap_rel": 1e-6, "tol_feas": 1e-7}),
    ("SCS", {"eps_abs": 1e-7, "eps_rel": 1e-7, "max_iters": 20_000}),
]


def _check_row(model, x, estimator):
    # One input row, given as a 1-d array or a pandas Series, or as a
    # single-row 2-d array or data frame.
    if hasattr(x, "to_frame"):
        x = x.to_frame().T
    elif not hasattr(x, "toarray") and np.ndim(x) == 1:
        x = np.reshape(x, (1, -1))
    row = check_inputs(model, x, name="x", estimator=estimator)
    if row.shape[0] != 1:
        raise ValueError(
            f"x must be a single input row of shape ({model.n_features_in},) or "
            f"(1, {model.n_features_in}), got shape {np.shape(x)}."
        )
    return row[0]


def _check_activation(model, allowed, method):
    if model.activation not in allowed:
        raise ValueError(
            f"The {method} relaxation supports activation in {sorted(allowed)}, "
            f"but the model uses activation={model.activation!r}. The "
            "closed-form bounds (state_bounds, output_bounds) cover every "
            "activation."
        )


def _nominal_box(model, x, radius, k):
    # The nominal state h0, the box [lower, upper] that holds every state
    # reachable from the perturbation set (Theorem 4.1 narrowed by interval
    # iteration, as in `state_bounds`), and the chord above the activation
    # on the interval of each pre-activation, as (slope, intercept).
    X = x.reshape(1, -1)
    H0, error = nominal_states(model, X)
    h0, sigma = H0[0], state_radius(model, radius, k) + error[0]
    spread = drive_radius(model, radius, k)
    lower, upper = interval_iteration(
        model, X, (h0 - sigma)[None], (h0 + sigma)[None], spread
    )
    z_lower, z_upper = preactivation_interval(model, X, lower, upper, spread)
    slope = _NEGATIVE_SLOPE[model.activation]
    return h0, lower[0], upper[0], _upper_chord(z_lower[0], z_upper[0], slope)


def _upper_chord(z_lower, z_upper, slope):
    # phi(z) <= chord_slope * z + intercept on [z_lower, z_upper], for the
    # convex phi(z) = max(z, slope * z): the line through both ends, or phi's
    # own piece where the interval does not straddle 0.
    chord_slope = np.where(z_lower >= 0, 1.0, slope)
    straddles = (z_lower < 0) & (z_upper > 0)
    width = np.where(straddles, z_upper - z_lower, 1.0)
    chord_slope = np.where(straddles, (z_upper - slope * z_lower) / width, chord_slope)
    intercept = np.where(straddles, (slope - chord_slope) * z_lower, 0.0)
    return chord_slope, intercept


def _known_signs(h0, lower, upper):
    # Masks of states that are positive (resp. negative) for every input of
    # the perturbation set: on them the activation is linear.
    margin = _SIGN_MARGIN * (1.0 + np.abs(h0).max(initial=0.0))
    return (lower > margin).astype(float), (upper < -margin).astype(float)


def _chord(h0, lower, upper):
    # Slope and intercept of the chord of t -> (t - h0)^2 between lower and
    # upper, the concave envelope of that convex function on the interval.
    slope = lower + upper - 2 * h0
    intercept = (lower - h0) ** 2 - slope * lower
    return slope, intercept


def _lp_problem(model, x, radius, k, weights, h0, lower, upper, chord):
    # The bidual of Theorem 4.5: a linear objective over the relaxed graph of
    # the activation, the state box and the perturbation set, with
    # u = x + radius * v and |v| <= 1 (and ||v||_1 <= k).
    import cvxpy as cp

    n_hidden, n_features = model.B.shape
    h = cp.Variable(n_hidden, name="h")
    v = cp.Variable(n_features, name="v")
    z = model.A @ h + (model.B * radius) @ v + (model.B @ x + model.b)
    slope = _NEGATIVE_SLOPE[model.activation]
    positive, negative = _known_signs(h0, lower, upper)

    constraints = [
        h >= z,
        h >= slope * z,
        cp.multiply(positive, h - z) + cp.multiply(negative, h - slope * z) <= 0,
        h <= cp.multiply(chord[0], z) + chord[1],
        h >= lower,
        h <= upper,
        cp.abs(v) <= 1,
    ]
    if k is not None:
        constraints.append(cp.norm1(v) <= k)
    problem = cp.Problem(cp.Maximize(weights[0] @ h + weights[1]), constraints)
    return problem, h, v, cp.sum(h - z)


def _optimal_points(problem, slack, h, v, solver, solver_options):
    # The relaxed optimum is rarely unique: a state may sit above its
    # pre-activation, with the input left anywhere. Besides the solver's
    # optimum, return the optimal point of least total slack sum(h - z),
    # whose input drives the state as the real model would, if it solves.
    import cvxpy as cp

    points = [(np.asarray(v.value), np.asarray(h.value))]
    target = problem.value - 1e-7 * (1.0 + abs(problem.value))
    refined = cp.Problem(
        cp.Minimize(slack), problem.constraints + [problem.objective.expr >= target]
    )
    try:
        with warnings.catch_warnings():
            # Only an optimal refined point is used; an inaccurate one is
            # dropped below, so cvxpy's warning about it says nothing.
            warnings.filterwarnings("ignore", "Solution may be inaccurate")
            refined.solve(solver=solver, **(solver_options or {}))
    except (cp.SolverError, ValueError):
        return points
    if refined.status == cp.OPTIMAL:
        points.append((np.asarray(v.value), np.asarray(h.value)))
    return points


def _sdp_problem(model, x, radius, h0, lower, upper, chord):
    # The rank relaxation (4.19) of the quadratic program (4.18), with the
    # bias in z = A h + B u + b. One PSD matrix holds [h; u; 1][h; u; 1]^T.
    import cvxpy as cp

    n_hidden, n_features = model.B.shape
    size = n_hidden + n_features + 1
    Z = cp.Variable((size, size), symmetric=True, name="Z")
    hs, us = slice(0, n_hidden), slice(n_hidden, size - 1)
    h, u = Z[hs, -1], Z[us, -1]
    HH, HU, UU = Z[hs, hs], Z[hs, us], Z[us, us]
    z = model.A @ h + model.B @ u + model.b
    positive, _ = _known_signs(h0, lower, upper)

    # diag(h z^T) = diag(A HH) + diag(B HU^T) + b * h, entrywise sums.
    h_times_z = (
        cp.sum(cp.multiply(model.A, HH), axis=1)
        + cp.sum(cp.multiply(model.B, HU), axis=1)
        + cp.multiply(model.b, h)
    )
    constraints = [
        Z >> 0,
        Z[-1, -1] == 1,
        h >= 0,
        h >= z,
        cp.multiply(positive, h - z) <= 0,
        cp.diag(HH) <= h_times_z,
        cp.diag(HH) <= cp.multiply(lower + upper, h) - lower * upper,
        cp.diag(UU) <= cp.multiply(2 * x, u) - (x - radius) * (x + radius),
        h <= cp.multiply(chord[0], z) + chord[1],
        h >= lower,
        h <= upper,
        cp.abs(u - x) <= radius,
    ]
    objective = cp.trace(HH) - 2 * h0 @ h + h0 @ h0
    return cp.Problem(cp.Maximize(objective), constraints), h, u


def _solve(problem, attempts, solver_options):
    # Try the attempts in turn until one reports "optimal"; the user's
    # options go to every attempt with the first attempt's solver. cvxpy's
    # own warning about an inaccurate solution is left out: the notes
    # returned with the last solver and its options say what fell short.
    import cvxpy as cp

    notes = []
    for solver, defaults in attempts:
        options = dict(defaults)
        if solver == attempts[0][0]:
            options.update(solver_options or {})
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "Solution may be inaccurate")
                # Afresh: the solver cvxpy keeps for a warm start carried
                # the first attempt's failure into the next.
                problem.solve(solver=solver, warm_start=False, **options)
        except (cp.SolverError, ValueError) as exc:
            # cvxpy raises ValueError when a solver returns no usable point,
            # as SCS or HiGHS do on badly scaled data.
            notes.append(f"{solver} failed ({exc})")
            continue
        if problem.status == cp.OPTIMAL:
            break
        notes.append(f"{solver} returned status {problem.status!r}")
    return solver, options, notes


def _attempts(solver, defaults):
    # The user's solver alone, with the house options when it has some.
    import cvxpy as cp

    if solver is None:
        return defaults
    installed = cp.installed_solvers()
    if solver not in installed:
        raise ValueError(
            f"solver={solver!r} is not an installed cvxpy solver; installed: "
            f"{sorted(installed)}."
        )
    return [(solver, next((o for s, o in defaults if s == solver), {}))]


def _status(problem):
    # The cvxpy status, or "solver_error" when the last solve raised.
    return problem.status if problem.status is not None else "solver_error"


def _gap_margin(solver, options, value):
    # Clarabel stops once the primal and dual objectives are within
    # tol_gap_abs + tol_gap_rel * |objective|; the dual objective bounds the
    # optimum from above, so adding that gap keeps the bound sound. HiGHS's
    # simplex ends at a vertex feasible to 1e-7 in primal and dual, whose
    # objective can fall short of the optimum by as much relative to it.
    if solver == "HIGHS":
        return _HIGHS_MARGIN * (1.0 + abs(value))
    if solver != "CLARABEL":
        return 0.0
    absolute = options.get("tol_gap_abs", 1e-8)
    relative = options.get("tol_gap_rel", 1e-8)
    return absolute + relative * abs(value)


def _certify(problem, solver, options, notes, name):
    # The bound, and whether it certifies; warns when it does not. A value
    # that is not finite, or comes from a status without a solution, gives
    # the trivial bound inf.
    status = _status(problem)
    value = problem.value if status in ("optimal", "optimal_inaccurate") else None
    has_value = value is not None and bool(np.isfinite(value))
    if status == "optimal" and solver == "SCS":
        notes.append(
            "SCS is a first-order solver whose optimum is exact only up to its "
            "tolerance, so its bound is not reported as certified"
        )
    certified = status == "optimal" and has_value and solver != "SCS"
    if not certified:
        warnings.warn(
            f"The {name} relaxation is not certified: {'; '.join(notes)}. The "
            f"bound is reported as {'its value' if has_value else 'inf'} and "
            "the attack is only a heuristic. Try another solver= or adjust "
            "solver_options.",
            UserWarning,
            stacklevel=3,
        )
    if not has_value:
        return np.inf, certified
    return float(value + _gap_margin(solver, options, value)), certified


def _best_attack(model, x, radius, k, weights, h0, points):
    # Each optimal point (step, state) gives two feasible attacks, its input
    # and that input pushed out to the corner of the box in the direction it
    # leans. Both are measured on the real model and the one with the largest
    # real objective is kept. Without any point, the attack is x and the
    # state h0.
    best = {"attack": x.copy(), "state": h0.copy(), "discrepancy": 0.0}
    best["value"] = 0.0 if weights is None else float(weights @ h0)
    first = True
    for step, state in points:
        for candidate in (step, np.sign(_keep_top_k(step, k))):
            attack = _attack(x, radius, candidate, k)
            with warnings.catch_warnings():
                # An attack's state is measured, not bounded: a solve that
                # runs out only makes the attack's reported value approximate.
                warnings.simplefilter("ignore", ConvergenceWarning)
                real = model.hidden_state(
                    attack.reshape(1, -1), tol=1e-12, max_iter=10_000
                )[0]
            discrepancy = float(np.sum((real - h0) ** 2))
            value = discrepancy if weights is None else float(weights @ real)
            if first or value > best["value"]:
                best = {
                    "attack": attack,
                    "state": np.array(state, dtype=np.float64),
                    "discrepancy": discrepancy,
                    "value": value,
                }
            first = False
    return best


def _keep_top_k(step, k):
    # Keep the k entries of largest magnitude of a step in [-1, 1]^p.
    if k is None or k >= step.size:
        return step
    kept = np.zeros_like(step)
    top = np.argsort(-np.abs(step), kind="stable")[:k]
    kept[top] = step[top]
    return kept


def _attack(x, radius, step, k):
    # A feasible input from the relaxed optimum: v clipped into [-1, 1],
    # zero where the radius is zero, cut to k entries with k. The final clip
    # keeps x + radius * v inside [x - radius, x + radius] after rounding.
    step = np.where(radius > 0, np.clip(step, -1.0, 1.0), 0.0)
    return np.clip(x + radius * _keep_top_k(step, k), x - radius, x + radius)


def _check_objective(objective, n_hidden):
    if isinstance(objective, str):
        if objective != "discrepancy":
            raise ValueError(
                "objective must be 'discrepancy' or an array of shape "
                f"({n_hidden},), got {objective!r}."
            )
        return None
    weights = np.array(objective, dtype=np.float64)
    if weights.shape != (n_hidden,) or not np.all(np.isfinite(weights)):
        raise ValueError(
            f"objective given as weights must be a finite array of shape "
            f"({n_hidden},), got shape {weights.shape}."
        )
    return weights


def lp_relaxation(
    model, x, eps, *, k=None, objective="discrepancy", solver=None, solver_options=None
):
    """Bound the worst-case hidden state of a ReLU model by a linear program.

    For inputs ``u`` with ``|u - x| <= eps`` (and, with ``k``, perturbing at
    most ``k`` features), this maximises a function of the equilibrium state
    ``h = relu(A h + B u + b)`` over the convex relaxation of Theorem 4.5 of
    the reference: ``h >= 0``, ``h >= A h + B u + b``, ``h`` inside the box
    ``|h - h0| <= sigma`` of Theorem 4.1 around the nominal state ``h0``
    (widened by the bound on ``h0``'s own error, as in `state_bounds`), and
    ``u`` in the convex hull of the perturbation set. Every true state is
    feasible, so the optimum bounds the true worst case from above, and the
    optimal ``u`` suggests an attack (section 7.3.2).

    Parameters
    ----------
    model : ImplicitModel or fitted estimator
        The implicit model, with activation ``"relu"`` or ``"leaky_relu"``.
    x : array-like of shape (n_features,) or (1, n_features)
        The nominal input row.
    eps : float or array-like of shape (n_features,)
        Half-widths of the input box; features with radius 0 stay fixed.
    k : int, default=None
        Largest number of perturbed features (the set of eq. (4.2)); None
        allows all of them. The relaxation uses the convex hull of that set,
        ``|u - x| <= eps`` with ``sum(|u - x| / eps) <= k``.
    objective : "discrepancy" or array-like of shape (n_hidden,), \
            default="discrepancy"
        What to maximise. ``"discrepancy"`` is the squared distance
        ``||h - h0||^2``; as it is convex, the program maximises its concave
        envelope over the state box, which is, for every state, the chord of
        ``(t - h0_i)^2`` between the box ends. An array ``c`` maximises the
        linear function ``c @ h``.
    solver : str, default=None
        Name of a cvxpy solver; None uses HiGHS.
    solver_options : dict, default=None
        Keyword arguments passed to the solver.

    Returns
    -------
    result : Bunch
        With keys:

        - ``bound`` (float): the optimal value, an upper bound on the
          objective over the perturbation set when ``certified``; ``inf``
          when the solver gave no usable value.
        - ``attack`` (ndarray of shape (n_features,)): an optimal input,
          clipped into the box and, with ``k``, reduced to its ``k`` largest
          scaled changes, so that it belongs to the perturbation set (see
          Notes for which optimal input).
        - ``state`` (ndarray of shape (n_hidden,)): the relaxed state at the
          optimum.
        - ``status`` (str): the cvxpy status of the solve.
        - ``solver`` (str): the solver that produced the result.
        - ``certified`` (bool): True only when the status is ``"optimal"``
          and the bound is finite (and the solver is not SCS, see
          `sdp_relaxation`).
        - ``discrepancy`` (float): ``||h(attack) - h0||^2`` for the real
          equilibrium at the attack.
        - ``value`` (float): the objective at the real equilibrium of the
          attack, a lower bound on the true worst case.

    Warns
    -----
    UserWarning
        When the result is not certified, saying what the solver returned.

    See Also
    --------
    sdp_relaxation : A semidefinite relaxation of the squared discrepancy.

    Notes
    -----
    For ``f_i(t) = (t - h0_i)^2`` the conjugate construction of Theorem 4.5
    replaces ``f_i`` by the least concave function above it on the state
    interval, which is its chord; the resulting bound never exceeds the sum
    over states of the largest ``f_i`` on the box. States whose lower bound
    is positive are active for every input of the set, so for them the
    program also imposes ``h_i = (A h + B u + b)_i``; this keeps the
    complementarity that the paper's worked example drops and only tightens
    the bound. Likewise, interval arithmetic over both boxes gives every
    pre-activation ``z_i`` an interval; the state box is narrowed to the
    image of that interval, and ``h_i`` is kept below the chord of the
    activation across it. This is Theorem 4.5 with the domain of each ``g_i``
    restricted to that interval: still sound, and much tighter than the
    state box alone. For the leaky ReLU, whose graph is the intersection of
    ``h >= z`` and ``h >= 0.01 z``, the same construction applies.

    The optimum is rarely unique, since a relaxed state may sit above its
    pre-activation whatever the input. A second LP picks, among the optimal
    points, one of least total slack ``sum(h - A h - B u - b)``. Each of the
    two optimal inputs is also rounded to the corner of the box it leans
    towards; of these four inputs, the attack is the one whose real
    equilibrium scores highest. HiGHS solves the LP to feasibility
    tolerances of 1e-7, so ``1e-7 (1 + |optimum|)`` is added to the bound.

    Examples
    --------
    >>> from sklearn_implicit import ImplicitModel
    >>> from sklearn_implicit.analysis import lp_relaxation
    >>> model = ImplicitModel(A=[[0.5]], B=[[1.0, -1.0]], C=[[1.0]], D=[[0.0, 0.0]])

    The state ``h = 2 relu(x1 - x2)`` ranges over ``[0, 0.6]`` around
    ``h0 = 0.2``; the bound is the squared distance to the far end, which the
    attack reaches:

    >>> result = lp_relaxation(model, [0.1, 0.0], eps=0.1)
    >>> round(result.bound, 6), result.certified
    (0.16, True)
    >>> result.attack
    array([ 0.2, -0.1])
    >>> round(result.discrepancy, 6)
    0.16
    """
    estimator, model = model, check_model(model)
    _check_activation(model, _NEGATIVE_SLOPE, "LP")
    x = _check_row(model, x, estimator)
    radius = check_radius(eps, model.n_features_in)
    k = check_k(k, model.n_features_in)
    weights = _check_objective(objective, model.n_hidden)

    h0, lower, upper, chord = _nominal_box(model, x, radius, k)
    if weights is None:
        slope, intercept = _chord(h0, lower, upper)
        linear = (slope, float(intercept.sum()))
    else:
        linear = (weights, 0.0)
    problem, h, v, slack = _lp_problem(
        model, x, radius, k, linear, h0, lower, upper, chord
    )

    attempts = _attempts(solver, _LP_ATTEMPTS)
    used, options, notes = _solve(problem, attempts, solver_options)
    bound, certified = _certify(problem, used, options, notes, "LP")
    points = []
    if _status(problem) in ("optimal", "optimal_inaccurate"):
        points = _optimal_points(problem, slack, h, v, used, solver_options)
    attack = _best_attack(model, x, radius, k, weights, h0, points)
    return Bunch(
        bound=bound, status=_status(problem), solver=used, certified=certified, **attack
    )


def sdp_relaxation(model, x, eps, *, solver=None, solver_options=None):
    """Bound the largest state discrepancy of a ReLU model by an SDP.

    For inputs ``u`` with ``|u - x| <= eps``, this bounds the largest squared
    distance ``||h - h0||^2`` between the equilibrium ``h = relu(A h + B u +
    b)`` and the nominal state ``h0``. The ReLU equation is written as the
    quadratic constraints ``h >= 0``, ``h >= z``, ``h * h <= h * z`` with
    ``z = A h + B u + b`` (eq. (4.15)), the state and input boxes as
    quadratic inequalities (eqs. (4.16)-(4.17)), and the product of
    ``[h; u; 1]`` with itself is relaxed to a positive semidefinite matrix
    (eq. (4.19) of the reference, here with the bias ``b``).

    Parameters
    ----------
    model : ImplicitModel or fitted estimator
        The implicit model, with activation ``"relu"``.
    x : array-like of shape (n_features,) or (1, n_features)
        The nominal input row.
    eps : float or array-like of shape (n_features,)
        Half-widths of the input box; features with radius 0 stay fixed.
    solver : str, default=None
        Name of a cvxpy solver; None tries Clarabel with a duality-gap
        tolerance of 1e-7, then of 1e-6 (with feasibility to 1e-7), then
        SCS, until one reports an optimal status.
    solver_options : dict, default=None
        Keyword arguments passed to the solver, or to both Clarabel attempts
        when ``solver`` is None.

    Returns
    -------
    result : Bunch
        With keys:

        - ``bound`` (float): the optimal value, an upper bound on the
          squared discrepancy over the box when ``certified``; ``inf`` when
          the solver gave no usable value.
        - ``attack`` (ndarray of shape (n_features,)): the input part of the
          optimal point, clipped into the box, or its rounding to the
          nearest corner of the box, whichever moves the real state more.
        - ``state`` (ndarray of shape (n_hidden,)): the state part of the
          optimal point.
        - ``status`` (str): the cvxpy status of the solve.
        - ``solver`` (str): the solver that produced the result.
        - ``certified`` (bool): True only when an interior-point solver
          reports ``"optimal"`` with a finite bound; results of SCS, a
          first-order method accurate only to its tolerance, are never
          certified.
        - ``discrepancy`` (float): ``||h(attack) - h0||^2`` for the real
          equilibrium at the attack.
        - ``value`` (float): the same as ``discrepancy``, a lower bound on
          the true worst case.

    Warns
    -----
    UserWarning
        When the result is not certified, saying what the solvers returned.

    See Also
    --------
    lp_relaxation : The LP relaxation of Theorem 4.5, with sparse attacks.

    Notes
    -----
    The program also keeps the linear constraints of the LP relaxation, and
    its objective is at most the chord objective of `lp_relaxation` at the
    same state, so its bound never exceeds the LP bound with ``k=None``.
    Clarabel stops when its primal and dual objectives agree to its gap
    tolerance; that tolerance is added to the reported bound, which keeps it
    above the relaxation's optimum. The matrix variable has size
    ``n_hidden + n_features + 1``, which limits the SDP to small models.

    Examples
    --------
    >>> from sklearn_implicit import ImplicitModel
    >>> from sklearn_implicit.analysis import sdp_relaxation
    >>> model = ImplicitModel(A=[[0.5]], B=[[1.0, -1.0]], C=[[1.0]], D=[[0.0, 0.0]])
    >>> result = sdp_relaxation(model, [0.1, 0.0], eps=0.1)
    >>> round(result.bound, 6), result.certified
    (0.16, True)
    >>> result.attack.round(6)
    array([ 0.2, -0.1])
    """
    estimator, model = model, check_model(model)
    _check_activation(model, ["relu"], "SDP")
    x = _check_row(model, x, estimator)
    radius = check_radius(eps, model.n_features_in)

    h0, lower, upper, chord = _nominal_box(model, x, radius, None)
    with np.errstate(over="ignore"):
        products = np.concatenate([lower * upper, (x - radius) * (x + radius)])
    if not np.all(np.isfinite(products)):
        raise ValueError(
            "eps is too large for the SDP relaxation: its quadratic constraints "
            "overflow float64."
        )
    problem, h, u = _sdp_problem(model, x, radius, h0, lower, upper, chord)

    attempts = _attempts(solver, _SDP_ATTEMPTS)
    used, options, notes = _solve(problem, attempts, solver_options)
    bound, certified = _certify(problem, used, options, notes, "SDP")
    points = []
    if u.value is not None and h.value is not None:
        step = np.divide(u.value - x, radius, out=np.zeros_like(x), where=radius > 0)
        points.append((step, h.value))
    attack = _best_attack(model, x, radius, None, None, h0, points)
    return Bunch(
        bound=bound, status=_status(problem), solver=used, certified=certified, **attack
    )
