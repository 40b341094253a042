# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Tests of the LP and SDP relaxations of the worst-case hidden state.

The true worst case of a tiny ReLU model is found exactly by enumerating its
activation patterns. For a pattern ``P`` (a 0/1 diagonal, or 1/0.01 for the
leaky ReLU) the state is affine in the input, ``h = M_P (B u + b)`` with
``M_P = (I - P A)^{-1} P``, and it is the model's equilibrium on the
polyhedron where the pre-activations ``z = (A M_P + I)(B u + b)`` have the
pattern's signs. A linear objective is maximised on each polyhedron by
`scipy.optimize.linprog`. The squared discrepancy is convex, so its maximum
on each polyhedron sits at a vertex; every vertex solves ``p`` of the
equations ``z_i = 0`` (over all patterns) and box faces, so evaluating the
real model at all such solutions inside the box finds the exact maximum.
"""

import itertools
import subprocess
import sys
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy import linalg
from scipy.optimize import linprog
from sklearn.exceptions import ConvergenceWarning

from sklearn_implicit import ImplicitModel
from sklearn_implicit._kernels._projection import project_inf_ball
from sklearn_implicit.analysis import lp_relaxation, sdp_relaxation
from sklearn_implicit.analysis._bounds import state_radius
from sklearn_implicit.analysis._relaxations import (
    _lp_problem,
    _nominal_box,
    _sdp_problem,
)

pytest.importorskip("cvxpy")

SLOPES = {"relu": 0.0, "leaky_relu": 0.01}


def tiny_model(n, p, seed, activation="relu", kappa=0.8):
    rng = np.random.default_rng(seed)
    A = project_inf_ball(rng.standard_normal((n, n)), kappa)
    B = rng.standard_normal((n, p))
    b = 0.5 * rng.standard_normal(n)
    C, D = rng.standard_normal((2, n)), rng.standard_normal((2, p))
    return ImplicitModel(A, B, C, D, b, activation=activation)


def states(model, U):
    return model.hidden_state(np.atleast_2d(U), tol=1e-12, max_iter=10_000)


def pattern_maps(model):
    # (M_P, G_P, signs): h = M_P (B u + b), z = G_P (B u + b), and the sign
    # that each z_i has on the pattern's region.
    n = model.n_hidden
    slope = SLOPES[model.activation]
    for active in itertools.product([True, False], repeat=n):
        active = np.array(active)
        P = np.diag(np.where(active, 1.0, slope))
        M = linalg.solve(np.eye(n) - P @ model.A, P)
        yield M, model.A @ M + np.eye(n), np.where(active, 1.0, -1.0)


def true_linear_max(model, x, eps, c):
    """Exact max of c @ h over the box, one LP per activation pattern."""
    best = -np.inf
    for M, G, signs in pattern_maps(model):
        # signs * (G B u + G b) >= 0 on the region.
        A_ub = -signs[:, None] * (G @ model.B)
        b_ub = signs * (G @ model.b)
        gain = c @ M @ model.B
        bounds = list(zip(x - eps, x + eps))
        result = linprog(-gain, A_ub=A_ub, b_ub=b_ub, bounds=bounds, method="highs")
        if result.status == 0:
            best = max(best, -result.fun + c @ M @ model.b)
    return best


def vertex_candidates(model, x, eps, free):
    """Inputs solving len(free) region or box equations, inside the box.

    Only the features in ``free`` move; the others stay at ``x``.
    """
    free = list(free)
    planes = []  # rows (a, beta) of a @ u_free = beta
    for _, G, _ in pattern_maps(model):
        GB = G @ model.B
        offset = G @ model.b + GB @ np.where(np.isin(np.arange(x.size), free), 0, x)
        planes += [(row[free], -beta) for row, beta in zip(GB, offset)]
    for position, j in enumerate(free):
        unit = np.eye(len(free))[position]
        planes += [(unit, x[j] - eps[j]), (unit, x[j] + eps[j])]

    candidates = []
    for chosen in itertools.combinations(planes, len(free)):
        matrix = np.array([a for a, _ in chosen])
        if abs(np.linalg.det(matrix)) < 1e-12:
            continue
        solution = np.linalg.solve(matrix, [beta for _, beta in chosen])
        u = x.copy()
        u[free] = solution
        if np.all(np.abs(u - x) <= eps + 1e-12):
            candidates.append(np.clip(u, x - eps, x + eps))
    return np.array(candidates)


def true_discrepancy_max(model, x, eps, k=None):
    """Exact max of ||h - h0||^2 over the box, or over at most k changes."""
    p = x.size
    size = p if k is None else min(k, p)
    candidates = np.vstack(
        [
            vertex_candidates(model, x, eps, free)
            for free in itertools.combinations(range(p), size)
        ]
    )
    h0 = states(model, x)[0]
    return np.max(np.sum((states(model, candidates) - h0) ** 2, axis=1))


def box_bound(model, x, eps, k=None):
    # The closed-form bound: the largest (t - h0_i)^2 on the state box.
    h0 = states(model, x)[0]
    sigma = state_radius(model, np.full(x.size, eps), k)
    lower = np.maximum(h0 - sigma, 0)
    return np.sum(np.maximum((lower - h0) ** 2, sigma**2))


def assert_matches_reference(bound, reference):
    """Check an LP bound against the reference optimum: above it, by no more
    than the margin added for HiGHS's tolerances and rounding."""
    margin = 1e-7 * (1 + abs(reference))
    assert reference <= bound <= reference + 2 * margin


def reference_lp(model, x, eps, c=None):
    """The relaxation of Theorem 4.5 solved by scipy.optimize.linprog.

    Variables (h, u); maximises c @ h, or without c the chord of each
    (h_i - h0_i)^2 through its values at the ends of the state box. The state
    box of Theorem 4.1 is first narrowed by sweeps of interval arithmetic
    through relu(A h + B u + b), and h_i lies below the chord of relu over
    the interval of its pre-activation.
    """
    n, p = model.B.shape
    h0 = states(model, x)[0]
    sigma = state_radius(model, np.full(p, eps))
    lower, upper = np.maximum(h0 - sigma, 0), h0 + sigma
    z_low, z_high = np.empty(n), np.empty(n)
    for _ in range(200):
        for i in range(n):
            low_end = np.where(model.A[i] > 0, lower, upper)
            high_end = np.where(model.A[i] > 0, upper, lower)
            center = model.B[i] @ x + model.b[i]
            spread = eps * np.abs(model.B[i]).sum()
            z_low[i] = model.A[i] @ low_end + center - spread
            z_high[i] = model.A[i] @ high_end + center + spread
        lower, upper = np.maximum(z_low, 0), np.maximum(z_high, 0)

    constant = 0.0
    if c is None:
        width = np.where(upper > lower, upper - lower, 1.0)
        c = ((upper - h0) ** 2 - (lower - h0) ** 2) / width
        constant = np.sum((lower - h0) ** 2 - c * lower)

    # A h + B u + b <= h, with equality on the states whose box is positive,
    # and h_i <= chord_i(z_i) where the pre-activation may change sign.
    graph = np.hstack([model.A - np.eye(n), model.B])
    active = lower > 1e-9 * (1 + np.abs(h0).max())
    rows, limits = [graph[~active]], [-model.b[~active]]
    for i in np.flatnonzero((z_low < 0) & (z_high > 0)):
        slope = z_high[i] / (z_high[i] - z_low[i])
        row = -slope * np.concatenate([model.A[i], model.B[i]])
        row[i] += 1.0
        rows.append(row[None])
        limits.append([slope * (model.b[i] - z_low[i])])
    result = linprog(
        -np.concatenate([c, np.zeros(p)]),
        A_ub=np.vstack(rows),
        b_ub=np.concatenate(limits),
        A_eq=graph[active],
        b_eq=-model.b[active],
        bounds=list(zip(lower, upper)) + list(zip(x - eps, x + eps)),
        method="highs",
    )
    assert result.status == 0
    return -result.fun + constant


def pgd_discrepancy(model, x, eps, n_starts=5, n_steps=40, seed=0):
    """Largest discrepancy found by sign-gradient ascent inside the box."""
    rng = np.random.default_rng(seed)
    h0 = states(model, x)[0]
    slope = SLOPES[model.activation]
    best = 0.0
    for _ in range(n_starts):
        u = x + eps * rng.uniform(-1, 1, x.size)
        for step in np.geomspace(eps, eps / 50, n_steps):
            h = states(model, u)[0]
            best = max(best, np.sum((h - h0) ** 2))
            z = model.A @ h + model.B @ u + model.b
            P = np.diag(np.where(z > 0, 1.0, slope))
            jacobian = linalg.solve(np.eye(h.size) - P @ model.A, P @ model.B)
            u = np.clip(u + step * np.sign(2 * (h - h0) @ jacobian), x - eps, x + eps)
    return best


def assert_in_box(attack, x, eps, k=None):
    assert np.all(np.abs(attack - x) <= eps + 1e-15)
    if k is not None:
        assert np.count_nonzero(attack != x) <= k


CASES = [(2, 1, 0), (3, 2, 1), (4, 2, 2), (4, 1, 3), (3, 2, 4)]


@pytest.mark.parametrize("n, p, seed", CASES)
def test_lp_relaxation_bounds_enumerated_linear_max(n, p, seed):
    """Check the linear-objective LP bound against the enumerated worst case."""
    model = tiny_model(n, p, seed)
    rng = np.random.default_rng(seed + 100)
    x, c, eps = rng.standard_normal(p), rng.standard_normal(n), 0.4

    result = lp_relaxation(model, x, eps, objective=c)
    truth = true_linear_max(model, x, np.full(p, eps), c)
    candidates = vertex_candidates(model, x, np.full(p, eps), range(p))

    assert result.certified and result.status == "optimal"
    np.testing.assert_allclose(np.max(states(model, candidates) @ c), truth, atol=1e-9)
    assert result.bound >= truth
    assert_in_box(result.attack, x, eps)
    assert result.value == pytest.approx(c @ states(model, result.attack)[0])
    assert result.value <= truth + 1e-9
    assert_matches_reference(result.bound, reference_lp(model, x, eps, c))


def test_lp_relaxation_linear_objective_with_three_features():
    """Check the linear-objective bound with p=3, where only LPs enumerate."""
    model = tiny_model(3, 3, seed=5)
    x, c = np.array([0.3, -0.2, 0.5]), np.array([1.0, -2.0, 0.5])
    result = lp_relaxation(model, x, 0.25, objective=c)
    assert result.bound >= true_linear_max(model, x, np.full(3, 0.25), c)


@pytest.mark.parametrize("n, p, seed", CASES)
def test_lp_relaxation_bounds_enumerated_discrepancy(n, p, seed):
    """Check the discrepancy LP bound: above the truth, below the box bound."""
    model = tiny_model(n, p, seed)
    x = np.random.default_rng(seed + 200).standard_normal(p)
    eps = 0.3

    result = lp_relaxation(model, x, eps)
    truth = true_discrepancy_max(model, x, np.full(p, eps))

    assert result.certified
    assert truth <= result.bound <= box_bound(model, x, eps) * (1 + 2e-7) + 2e-7
    assert_in_box(result.attack, x, eps)
    h0 = states(model, x)[0]
    real = np.sum((states(model, result.attack)[0] - h0) ** 2)
    assert result.discrepancy == pytest.approx(real, rel=1e-12, abs=1e-15)
    assert result.discrepancy <= truth + 1e-9
    assert result.value == result.discrepancy
    assert_matches_reference(result.bound, reference_lp(model, x, eps))


def test_lp_relaxation_covers_search_on_a_larger_model():
    """Check the LP bound against random samples and gradient ascent."""
    model = tiny_model(8, 5, seed=7)
    rng = np.random.default_rng(8)
    x, eps = rng.standard_normal(5), 0.2
    h0 = states(model, x)[0]
    samples = x + eps * rng.choice([-1.0, 0.0, 1.0], size=(500, 5))
    samples = np.vstack([samples, x + eps * rng.uniform(-1, 1, (500, 5))])

    result = lp_relaxation(model, x, eps)

    sampled = np.max(np.sum((states(model, samples) - h0) ** 2, axis=1))
    searched = pgd_discrepancy(model, x, eps)
    assert max(sampled, searched) <= result.bound * (1 + 1e-9)
    assert result.discrepancy <= result.bound * (1 + 1e-9)
    assert result.bound <= box_bound(model, x, eps) * (1 + 1e-9)


@pytest.mark.parametrize("n, p, k, seed", [(3, 2, 1, 0), (4, 3, 1, 1), (3, 3, 2, 2)])
def test_lp_relaxation_sparse_attack(n, p, k, seed):
    """Check the k-sparse bound, the attack's cardinality and monotonicity."""
    model = tiny_model(n, p, seed)
    x, eps = np.random.default_rng(seed + 300).standard_normal(p), 0.5

    sparse = lp_relaxation(model, x, eps, k=k)
    dense = lp_relaxation(model, x, eps)

    truth = true_discrepancy_max(model, x, np.full(p, eps), k)
    assert sparse.certified
    assert truth <= sparse.bound <= dense.bound + 1e-9
    assert sparse.bound <= box_bound(model, x, eps, k) + 1e-9
    assert_in_box(sparse.attack, x, eps, k)
    assert sparse.discrepancy <= truth + 1e-9


def test_lp_relaxation_k_equal_to_p_equals_the_box():
    """Check that k = n_features leaves the box relaxation unchanged."""
    model = tiny_model(4, 2, seed=3)
    x = np.array([0.2, -0.4])
    dense = lp_relaxation(model, x, 0.3)
    assert lp_relaxation(model, x, 0.3, k=2).bound == pytest.approx(dense.bound)


def test_lp_relaxation_fixes_features_with_zero_radius():
    """Check that a feature with radius 0 is never moved, even with k."""
    model = tiny_model(3, 2, seed=4)
    x, eps = np.array([0.5, -0.1]), np.array([0.0, 0.4])
    for k in (None, 1):
        result = lp_relaxation(model, x, eps, k=k)
        assert result.attack[0] == x[0]
        assert_in_box(result.attack, x, eps, k)

    # With only the second feature free, the truth is the 1-d enumeration.
    truth = true_discrepancy_max(model, x, eps, k=1)
    assert result.bound >= truth


def test_lp_relaxation_attack_on_a_single_unit():
    """Check the bound and attack on a unit whose worst case is known."""
    # h = 2 relu(u1 - u2): from x = (0.1, 0), eps = 0.1, the state ranges
    # over [0, 0.6] around h0 = 0.2, the worst input being (0.2, -0.1).
    model = ImplicitModel([[0.5]], [[1.0, -1.0]], [[1.0]], [[0.0, 0.0]])
    result = lp_relaxation(model, np.array([[0.1, 0.0]]), 0.1)
    assert_matches_reference(result.bound, 0.16)
    np.testing.assert_allclose(result.attack, [0.2, -0.1], atol=1e-12)
    np.testing.assert_allclose(result.state, [0.6], atol=1e-9)
    assert result.discrepancy == pytest.approx(0.16, abs=1e-9)


def test_lp_relaxation_leaky_relu_covers_enumeration():
    """Check the leaky-ReLU LP bound against the enumerated worst case."""
    model = tiny_model(3, 2, seed=6, activation="leaky_relu")
    x, eps = np.array([0.3, -0.6]), 0.4
    result = lp_relaxation(model, x, eps)
    truth = true_discrepancy_max(model, x, np.full(2, eps))
    assert result.certified
    assert result.bound >= truth
    assert result.discrepancy <= truth + 1e-9
    c = np.array([1.0, -1.0, 2.0])
    linear = lp_relaxation(model, x, eps, objective=c)
    assert linear.bound >= true_linear_max(model, x, np.full(2, eps), c)


@pytest.mark.parametrize("n, p, seed", [(2, 1, 0), (3, 2, 1), (4, 2, 2)])
def test_sdp_relaxation_bounds_enumerated_discrepancy(n, p, seed):
    """Check the SDP bound: above the truth, below the LP bound."""
    model = tiny_model(n, p, seed)
    x, eps = np.random.default_rng(seed + 200).standard_normal(p), 0.3

    result = sdp_relaxation(model, x, eps)
    truth = true_discrepancy_max(model, x, np.full(p, eps))

    assert result.certified and result.solver == "CLARABEL"
    assert truth <= result.bound
    assert result.bound <= lp_relaxation(model, x, eps).bound + 1e-6
    assert_in_box(result.attack, x, eps)
    assert result.discrepancy <= truth + 1e-9


def test_sdp_relaxation_single_unit_is_exact():
    """Check the SDP on the one-unit model, where the relaxation is tight."""
    model = ImplicitModel([[0.5]], [[1.0, -1.0]], [[1.0]], [[0.0, 0.0]])
    result = sdp_relaxation(model, [0.1, 0.0], 0.1)
    assert_matches_reference(result.bound, 0.16)
    np.testing.assert_allclose(result.attack, [0.2, -0.1], atol=1e-6)


@pytest.mark.filterwarnings("ignore:Solution may be inaccurate")
def test_lp_relaxation_not_certified_warns():
    """Check that a solve stopped early warns and certifies nothing."""
    model = tiny_model(6, 3, seed=0)
    x = np.array([0.1, -0.2, 0.3])
    with pytest.warns(UserWarning, match="not certified: HIGHS returned status"):
        result = lp_relaxation(
            model,
            x,
            0.3,
            solver_options={"simplex_iteration_limit": 0, "presolve": "off"},
        )
    assert not result.certified
    assert result.status == "user_limit"
    assert result.bound == np.inf
    assert_in_box(result.attack, x, 0.3)


def test_inaccurate_lp_solve_gives_only_the_library_warning():
    """Check that cvxpy's own warning does not repeat the library's.

    SCS stopped after 20 iterations returns 'optimal_inaccurate', for which
    the attack is refined by a second solve.
    """
    model = tiny_model(6, 3, seed=0)
    x = np.array([0.1, -0.2, 0.3])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = lp_relaxation(
            model, x, 0.3, solver="SCS", solver_options={"max_iters": 20}
        )
    assert result.status == "optimal_inaccurate" and not result.certified
    messages = [str(warning.message) for warning in caught]
    assert len(messages) == 1
    assert messages[0].startswith("The LP relaxation is not certified: SCS")


def test_sdp_relaxation_falls_back_to_scs_uncertified():
    """Check the SCS fallback: a bound, a warning, and no certificate."""
    model = tiny_model(3, 2, seed=1)
    x = np.array([0.1, -0.2])
    certified = sdp_relaxation(model, x, 0.3)
    pattern = "CLARABEL returned status.*CLARABEL returned status.*SCS is a first"
    with pytest.warns(UserWarning, match=pattern):
        result = sdp_relaxation(model, x, 0.3, solver_options={"max_iter": 1})
    assert result.solver == "SCS" and not result.certified
    assert np.isfinite(result.bound)
    assert result.bound == pytest.approx(certified.bound, rel=1e-4)
    assert_in_box(result.attack, x, 0.3)


def test_sdp_relaxation_scs_never_certifies():
    """Check that an SCS result is reported with certified=False."""
    model = ImplicitModel([[0.5]], [[1.0, -1.0]], [[1.0]], [[0.0, 0.0]])
    with pytest.warns(UserWarning, match="SCS is a first-order solver"):
        result = sdp_relaxation(model, [0.1, 0.0], 0.1, solver="SCS")
    assert result.status == "optimal" and not result.certified


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_relaxations_refuse_smooth_activations(activation):
    """Check that the relaxations refuse activations they cannot describe."""
    model = tiny_model(3, 2, seed=0, activation=activation)
    with pytest.raises(ValueError, match=f"activation='{activation}'"):
        lp_relaxation(model, [0.0, 0.0], 0.1)
    with pytest.raises(ValueError, match=f"activation='{activation}'"):
        sdp_relaxation(model, [0.0, 0.0], 0.1)


def test_sdp_relaxation_refuses_leaky_relu():
    """Check that the SDP accepts the ReLU only."""
    model = tiny_model(3, 2, seed=0, activation="leaky_relu")
    with pytest.raises(ValueError, match="SDP relaxation.*'leaky_relu'"):
        sdp_relaxation(model, [0.0, 0.0], 0.1)


def test_relaxations_validate_arguments():
    """Check the errors for bad rows, k and objectives."""
    model = tiny_model(3, 2, seed=0)
    with pytest.raises(ValueError, match="x must be a single input row"):
        lp_relaxation(model, np.zeros((2, 2)), 0.1)
    with pytest.raises(ValueError, match="x has 3 features"):
        sdp_relaxation(model, np.zeros(3), 0.1)
    with pytest.raises(ValueError, match="eps must be finite and non-negative"):
        lp_relaxation(model, np.zeros(2), -0.1)
    with pytest.raises(ValueError, match="solver='HIGH' is not an installed"):
        lp_relaxation(model, np.zeros(2), 0.1, solver="HIGH")
    sparse_row = lp_relaxation(model, sp.csr_array(np.zeros((1, 2))), 0.1)
    assert sparse_row.bound == lp_relaxation(model, np.zeros(2), 0.1).bound
    for k in (0, 3, 1.5, True):
        with pytest.raises(ValueError, match=r"k must be None or an int in \[1, 2\]"):
            lp_relaxation(model, np.zeros(2), 0.1, k=k)
    with pytest.raises(ValueError, match="objective must be 'discrepancy'"):
        lp_relaxation(model, np.zeros(2), 0.1, objective="l1")
    with pytest.raises(ValueError, match=r"shape \(3,\), got shape \(2,\)"):
        lp_relaxation(model, np.zeros(2), 0.1, objective=[1.0, 2.0])


def test_relaxations_leave_inputs_unchanged():
    """Check that x and eps are not modified."""
    model = tiny_model(3, 2, seed=0)
    x, eps = np.array([0.3, -0.1]), np.array([0.2, 0.1])
    lp_relaxation(model, x, eps, k=1)
    sdp_relaxation(model, x, eps)
    np.testing.assert_array_equal(x, [0.3, -0.1])
    np.testing.assert_array_equal(eps, [0.2, 0.1])


def _problem_sizes(n, p):
    model = tiny_model(n, p, seed=0, kappa=0.5)
    x, radius = np.zeros(p), np.full(p, 0.1)
    h0, lower, upper, chord = _nominal_box(model, x, radius, 1)
    weights = (np.ones(n), 0.0)
    lp = _lp_problem(model, x, radius, 1, weights, h0, lower, upper, chord)[0]
    sdp = _sdp_problem(model, x, radius, h0, lower, upper, chord)[0]
    return len(lp.constraints), len(sdp.constraints)


def test_relaxations_are_vectorised():
    """Check that the number of constraint objects does not grow with n."""
    assert _problem_sizes(3, 2) == _problem_sizes(40, 10)


def test_analysis_import_does_not_load_cvxpy():
    """Check that importing the analysis package leaves cvxpy unloaded."""
    code = (
        "import sys, sklearn_implicit.analysis; "
        "assert 'cvxpy' not in sys.modules, 'cvxpy was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_relaxations_accept_a_row_of_shape_one_by_p():
    """Check that a (1, p) row gives the same result as a 1-d row."""
    model = tiny_model(3, 2, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        flat = lp_relaxation(model, [0.2, 0.1], 0.2)
        row = lp_relaxation(model, [[0.2, 0.1]], 0.2)
    assert flat.bound == row.bound
    np.testing.assert_array_equal(flat.attack, row.attack)


def test_lp_relaxation_covers_the_error_of_an_unsettled_nominal_state():
    """Check the LP bound when the nominal solve runs out (A = 0.999).

    The exact states over x in [0.9, 1.1] are 1000 x, while the nominal state
    h0 at x = 1 stops near 999.955: the largest discrepancy is (1100 - h0)^2,
    which a box h0 +/- 100 of Theorem 4.1 alone would cut off.
    """
    model = ImplicitModel([[0.999]], [[1.0]], [[1.0]], [[0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        h0 = model.hidden_state([[1.0]], tol=1e-12, max_iter=10_000)[0, 0]
    assert 999.9 < h0 < 999.99

    with pytest.warns(ConvergenceWarning, match="bounds remain valid"):
        result = lp_relaxation(model, [1.0], 0.1)
    assert result.bound >= (1100.0 - h0) ** 2 > 100.0**2
