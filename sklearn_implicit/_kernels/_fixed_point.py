# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Row-batched fixed-point iterations: the equilibrium and its adjoint.

The forward solve finds ``H = phi(H A^T + drive)``. The adjoint solve finds
``V = Psi * (V A + G C)`` (paper, eq. (G.4), written in rows), the gradient of
a loss with respect to the pre-activations, where ``Psi = phi'(Z)`` at the
equilibrium and ``G`` holds the gradients with respect to the outputs. Both
are the same iteration with a different row map, so they share one compiled
loop; the helpers live in this file because numba's cache does not notice
edits to other files.

Activation codes (mirrored by ``sklearn_implicit._activations``): 0 relu,
1 leaky_relu (slope 0.01 below zero), 2 tanh, 3 sigmoid. Code 4 is the
adjoint's linear map ``v -> psi * v``.
"""

import numpy as np
from numba import njit

LEAKY_SLOPE = 0.01
_ADJOINT = 4


@njit(cache=True)
def _map_row(row, drive, weights, activation):
    # row <- phi(row + drive), in place. One loop per map, so that the choice
    # is made once per row and the cheap loops vectorise.
    n = row.shape[0]
    if activation == 0:
        for j in range(n):
            z = row[j] + drive[j]
            row[j] = z if z > 0.0 else 0.0
    elif activation == 1:
        for j in range(n):
            z = row[j] + drive[j]
            row[j] = z if z > 0.0 else LEAKY_SLOPE * z
    elif activation == 2:
        for j in range(n):
            row[j] = np.tanh(row[j] + drive[j])
    elif activation == 3:
        for j in range(n):
            row[j] = 1.0 / (1.0 + np.exp(-(row[j] + drive[j])))
    else:
        for j in range(n):
            row[j] = weights[j] * (row[j] + drive[j])


@njit(cache=True)
def _count_unsettled(new, old, tol, floor):
    # Entries that moved by more than tol * max(|h_j|, floor). `not (a <= b)`
    # also counts NaN. An integer sum is the only reduction: it vectorises.
    unsettled = 0
    for j in range(new.shape[0]):
        unsettled += not (abs(new[j] - old[j]) <= tol * max(abs(new[j]), floor))
    return unsettled


@njit(cache=True)
def _max_abs(row):
    size = 0.0
    for x in row:
        size = max(size, abs(x))
    return size


@njit(cache=True)
def _relative_change(new, old, floor):
    change = 0.0
    for j in range(new.shape[0]):
        change = max(change, abs(new[j] - old[j]))
    size = max(_max_abs(new), floor)
    return change / size if size > 0.0 else change


@njit(cache=True)
def _iterate(M, drive, weights, H0, activation, tol, max_iter, scale):
    # Iterate rows of S <- map(S M + drive) until each settles; see
    # `solve_fixed_point` for the contract. `weights` has a row per sample for
    # the adjoint map and a single unused row otherwise.
    m, n = drive.shape
    H = np.empty((m, n))
    n_iter = np.zeros(m, dtype=np.int64)
    residual = np.zeros(m)
    floor = np.zeros(m)

    # `old` holds the active rows' states, compacted; the product lands in
    # `new`, which the pass turns into the next states in place. The two
    # buffers swap roles after every iteration.
    cold = H0.shape[0] == 0
    old = np.zeros((m, n)) if cold else H0.copy()
    new = np.zeros((m, n))
    rows = np.arange(m)

    active = m
    for it in range(max_iter):
        if it > 0 or not cold:
            np.dot(old[:active], M, new[:active])

        last = it == max_iter - 1
        kept = 0
        for r in range(active):
            i = rows[r]
            _map_row(new[r], drive[i], weights[i % weights.shape[0]], activation)
            if it == 0:
                floor[i] = max(_max_abs(new[r]), scale)
            n_iter[i] = it + 1

            if _count_unsettled(new[r], old[r], tol, floor[i]) == 0 or last:
                residual[i] = _relative_change(new[r], old[r], floor[i])
                H[i] = new[r]
            else:
                if kept < r:
                    new[kept] = new[r]
                rows[kept] = i
                kept += 1

        active = kept
        if active == 0:
            break
        old, new = new, old

    return H, n_iter, residual


@njit(cache=True)
def solve_fixed_point(A, drive, H0, activation, tol, max_iter):
    """Solve ``H = phi(H A^T + drive)`` row by row.

    Each iteration is one BLAS-3 product of the still-active rows with ``A^T``
    followed by one pass that adds the drive, applies the activation, tests
    each entry's change and compacts the rows that remain active. A row stops,
    and is never touched again, once every entry moved by at most
    ``tol * max(|h_j|, s)``, where ``s`` is the max-norm of the row's first
    iterate; its result thus does not depend on the other rows of the batch.

    Parameters
    ----------
    A : ndarray of shape (n_hidden, n_hidden)
    drive : ndarray of shape (n_samples, n_hidden)
        The constant part of the pre-activation, ``X B^T + b``.
    H0 : ndarray of shape (n_samples, n_hidden) or (0, n_hidden)
        Starting states. With zero rows the iteration starts from ``H = 0``,
        whose first step ``phi(drive)`` needs no product.
    activation : int
        Activation code, 0 to 3; see the module docstring.
    tol : float
        Relative tolerance on the change of each entry.
    max_iter : int
        Largest number of applications of the map to one row, at least 1.

    Returns
    -------
    H : ndarray of shape (n_samples, n_hidden)
    n_iter : ndarray of shape (n_samples,)
        Applications of the map that each row received.
    residual : ndarray of shape (n_samples,)
        Each row's last change in max-norm, relative to the larger of
        ``||h||_inf`` and ``s``. When ``||A||_inf <= 1`` it bounds the
        relative equilibrium residual ``||h - phi(A h + B x + b)||_inf``.
    """
    no_weights = np.ones((1, drive.shape[1]))
    AT = np.ascontiguousarray(A.T)
    return _iterate(AT, drive, no_weights, H0, activation, tol, max_iter, 0.0)


@njit(cache=True)
def solve_adjoint(A, Psi, GC, V0, tol, max_iter, scale):
    """Solve ``V = Psi * (V A + GC)`` row by row.

    The same batched iteration as `solve_fixed_point`, with the product taken
    with ``A`` and the activation replaced by the scaling with ``Psi``. A row
    stops once every entry moved by at most ``tol * max(|v_j|, s, scale)``,
    where ``s`` is the max-norm of the row's first iterate.

    Parameters
    ----------
    A : ndarray of shape (n_hidden, n_hidden)
    Psi : ndarray of shape (n_samples, n_hidden)
        Activation derivatives at the equilibrium, from
        `activation_derivative`.
    GC : ndarray of shape (n_samples, n_hidden)
        Output gradients mapped back through ``C``: ``G C``.
    V0 : ndarray of shape (n_samples, n_hidden) or (0, n_hidden)
        Starting point; with zero rows, ``V = 0``, whose first step
        ``Psi * GC`` needs no product.
    tol : float
    max_iter : int
    scale : float
        Smallest size against which changes are measured; 0 makes each row's
        test depend on that row alone.

    Returns
    -------
    V : ndarray of shape (n_samples, n_hidden)
        Gradients of the loss with respect to the pre-activations.
    n_iter : ndarray of shape (n_samples,)
    residual : ndarray of shape (n_samples,)
    """
    return _iterate(A, GC, Psi, V0, _ADJOINT, tol, max_iter, scale)


@njit(cache=True)
def activation_derivative(H, activation):
    """Return ``phi'(Z)`` computed from the equilibrium states ``H = phi(Z)``.

    At the kink of the (leaky) ReLU, ``h = 0``, the slope of the inactive side
    is used, as in scikit-learn's MLP.
    """
    m, n = H.shape
    Psi = np.empty((m, n))
    for i in range(m):
        for j in range(n):
            h = H[i, j]
            if activation == 0:
                Psi[i, j] = 1.0 if h > 0.0 else 0.0
            elif activation == 1:
                Psi[i, j] = 1.0 if h > 0.0 else LEAKY_SLOPE
            elif activation == 2:
                Psi[i, j] = 1.0 - h * h
            else:
                Psi[i, j] = h * (1.0 - h)
    return Psi
