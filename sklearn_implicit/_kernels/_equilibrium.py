# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""The equilibrium, its adjoint, and the batch loss gradient through them.

The forward solve finds ``H = phi(H A^T + X B^T + b)``. The adjoint solve
finds ``V = Psi * (V A + G C)`` (paper, eq. (G.4), written in rows): the
gradient of a loss with respect to the pre-activations, where
``Psi = phi'(Z)`` at the equilibrium and ``G`` holds the gradients with
respect to the outputs. Both are the same row-batched iteration with a
different row map, so they share one compiled loop.

Every matrix product of a prediction or of a training step is taken here,
so that all of them run on the BLAS that numba links (SciPy's). Mixing it
with NumPy's BLAS, whose idle threads keep spinning, oversubscribes the
cores. The helpers stay in this file because numba's cache does not notice
edits to other files.

Activation codes (mirrored by ``sklearn_implicit._activations``): 0 relu,
1 leaky_relu (slope 0.01 below zero), 2 tanh, 3 sigmoid. Loss codes: 0 half
squared error, 1 softmax cross-entropy.
"""

import numpy as np
from numba import njit

LEAKY_SLOPE = 0.01
_ADJOINT = 4  # the adjoint's linear row map v -> psi * v, as an activation


_INF_BITS = 0x7FF0000000000000  # the bit pattern of inf, as an int64

# The helpers below index whole blocks in two dimensions: a row view, or a
# call per row, costs reference counting that outweighs a 100-entry loop.


@njit(cache=True)
def _bits(x):
    # The bit pattern of |x|. Magnitudes order as their bit patterns do, NaN
    # above inf, and an integer maximum vectorises where a floating-point
    # one does not.
    return np.float64(abs(x)).view(np.int64)


@njit(cache=True)
def _magnitude(bits):
    # The magnitude whose pattern `_bits` gave; inf for inf and NaN.
    return np.inf if bits >= _INF_BITS else np.int64(bits).view(np.float64)


@njit(cache=True)
def _advance_rows(
    S, drive, weights, rows, active, activation, from_zero, old, sizes, changes
):
    # S[r] <- phi(S[r] + drive[rows[r]]) for the first `active` rows, in
    # place; from zero, S[r] <- phi(drive[rows[r]]) without reading S.
    # sizes[r] receives `_bits` of the row's largest entry and, given `old`,
    # the previous states, changes[r] that of its largest change. The map is
    # chosen per row, outside the loop over its entries, so that this loop
    # vectorises (integer maxima are its only reductions); `weights` is read
    # by the adjoint map only.
    n = S.shape[1]
    for r in range(active):
        i = rows[r]
        size = 0
        change = 0
        if activation == 0:
            for j in range(n):
                z = drive[i, j] if from_zero else S[r, j] + drive[i, j]
                h = z if z > 0.0 else 0.0
                S[r, j] = h
                size = max(size, _bits(h))
                if old is not None:
                    change = max(change, _bits(h - old[r, j]))
        elif activation == 1:
            for j in range(n):
                z = drive[i, j] if from_zero else S[r, j] + drive[i, j]
                h = z if z > 0.0 else LEAKY_SLOPE * z
                S[r, j] = h
                size = max(size, _bits(h))
                if old is not None:
                    change = max(change, _bits(h - old[r, j]))
        elif activation == 2:
            for j in range(n):
                z = drive[i, j] if from_zero else S[r, j] + drive[i, j]
                h = np.tanh(z)
                S[r, j] = h
                size = max(size, _bits(h))
                if old is not None:
                    change = max(change, _bits(h - old[r, j]))
        elif activation == 3:
            for j in range(n):
                z = drive[i, j] if from_zero else S[r, j] + drive[i, j]
                h = 1.0 / (1.0 + np.exp(-z))
                S[r, j] = h
                size = max(size, _bits(h))
                if old is not None:
                    change = max(change, _bits(h - old[r, j]))
        else:
            for j in range(n):
                z = drive[i, j] if from_zero else S[r, j] + drive[i, j]
                h = weights[i, j] * z
                S[r, j] = h
                size = max(size, _bits(h))
                if old is not None:
                    change = max(change, _bits(h - old[r, j]))
        sizes[r] = size
        if old is not None:
            changes[r] = change


@njit(cache=True)
def _relative_change(change, size, floor):
    # change / max(size, floor) for the patterns `_bits` gave of a row's
    # largest change and largest entry; inf when either is not finite, or
    # when the row moved while its scale is zero.
    scale = max(_magnitude(size), floor)
    step = _magnitude(change)
    if step == np.inf or scale == np.inf:
        return np.inf
    if scale > 0.0:
        return step / scale
    return 0.0 if step == 0.0 else np.inf


@njit(cache=True)
def _max_abs(S, r, old):
    # max_j |S[r, j] - old[r, j]|, or max_j |S[r, j]| with `old` None; inf
    # when an entry is not finite.
    top = 0
    for j in range(S.shape[1]):
        top = max(top, _bits(S[r, j] if old is None else S[r, j] - old[r, j]))
    return _magnitude(top)


@njit(cache=True)
def _copy_row(target, i, source, r):
    # target[i] <- source[r]. Written inline in `_iterate`, this loop was
    # vectorised into gathers and scatters, several times slower.
    for j in range(target.shape[1]):
        target[i, j] = source[r, j]


@njit(cache=True)
def _iterate(M, drive, weights, H0, activation, tol, max_iter, scale):
    # Iterate the rows of S <- map(S M + drive) until each settles; see
    # `solve_fixed_point` for the contract. `weights` is read by the adjoint
    # map only.
    m, n = drive.shape
    H = np.empty((m, n))
    n_iter = np.empty(m, dtype=np.int64)
    residual = np.empty(m)
    floor = np.empty(m)
    sizes = np.empty(m, dtype=np.int64)
    changes = np.empty(m, dtype=np.int64)
    rows = np.arange(m)

    # `old` holds the active rows' states, compacted in an order that `rows`
    # maps to the batch; the product lands in `new`, which the pass turns
    # into the next states in place. The two buffers swap roles after every
    # iteration. From zero, the first iteration needs no product and reads
    # neither buffer, so neither is cleared, and each row's change is its
    # size.
    cold = H0.shape[0] == 0
    old = np.empty((m, n)) if cold else H0.copy()
    new = np.empty((m, n)) if cold else np.dot(old, M)

    active = m
    for it in range(max_iter):
        if it == 0 and cold:
            _advance_rows(
                new, drive, weights, rows, m, activation, True, None, sizes, sizes
            )
        else:
            if it > 0:
                np.dot(old[:active], M, new[:active])
            _advance_rows(
                new,
                drive,
                weights,
                rows,
                active,
                activation,
                False,
                old,
                sizes,
                changes,
            )
        if it == 0:
            # Here rows[r] == r.
            for r in range(m):
                floor[r] = max(_magnitude(sizes[r]), scale)

        last = it == max_iter - 1
        # From the last row down: a settled row's place goes to the last
        # kept row, already examined, so at most one row moves per row that
        # settles.
        end = active
        for r in range(active - 1, -1, -1):
            i = rows[r]
            change = sizes[r] if it == 0 and cold else changes[r]
            relative = _relative_change(change, sizes[r], floor[i])
            if relative <= tol or last:
                n_iter[i] = it + 1
                residual[i] = relative
                _copy_row(H, i, new, r)
                end -= 1
                if r < end:
                    _copy_row(new, r, new, end)
                    rows[r] = rows[end]

        active = end
        if active == 0:
            break
        old, new = new, old

    return H, n_iter, residual


@njit(cache=True)
def solve_fixed_point(A, drive, H0, activation, tol, max_iter):
    """Solve ``H = phi(H A^T + drive)`` row by row.

    Each iteration is one BLAS-3 product of the still-active rows with ``A^T``
    followed by one pass that adds the drive, applies the activation and
    takes each row's largest entry and largest change; the rows that remain
    active are then compacted. A row stops, and is never touched again, once
    ``||h_t - h_{t-1}||_inf <= tol * max(||h_t||_inf, s)``, where ``s`` is the
    max-norm of the row's first iterate; its result thus does not depend on
    the other rows of the batch.

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
        Relative tolerance on the change of a row, as above.
    max_iter : int
        Largest number of applications of the map to one row, at least 1.

    Returns
    -------
    H : ndarray of shape (n_samples, n_hidden)
    n_iter : ndarray of shape (n_samples,)
        Applications of the map that each row received.
    residual : ndarray of shape (n_samples,)
        Each row's last change in max-norm, relative to the larger of
        ``||h||_inf`` and ``s``: at most ``tol`` for the rows that stopped
        before ``max_iter``. When ``||A||_inf <= 1`` it bounds the
        relative equilibrium residual ``||h - phi(A h + B x + b)||_inf``.
    """
    AT = np.ascontiguousarray(A.T)
    return _iterate(AT, drive, drive, H0, activation, tol, max_iter, 0.0)


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


@njit(cache=True)
def _affine(X, W, bias):
    # X W^T + bias
    out = np.dot(X, W.T)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] += bias[j]
    return out


@njit(cache=True)
def predict(A, B, C, D, b, d, X, H0, activation, tol, max_iter):
    """Equilibrium states and outputs of the model for the rows of ``X``.

    Parameters
    ----------
    A, B, C, D, b, d : ndarray
        Model parameters, C-contiguous.
    X : ndarray of shape (n_samples, n_features)
    H0, activation, tol, max_iter
        As in `solve_fixed_point`.

    Returns
    -------
    H : ndarray of shape (n_samples, n_hidden)
    out : ndarray of shape (n_samples, n_outputs)
        ``H C^T + X D^T + d``.
    n_iter, residual : ndarray of shape (n_samples,)
        As in `solve_fixed_point`.
    """
    drive = _affine(X, B, b)
    H, n_iter, residual = solve_fixed_point(A, drive, H0, activation, tol, max_iter)
    out = _affine(X, D, d)
    out += np.dot(H, C.T)
    return H, out, n_iter, residual


@njit(cache=True)
def _loss(Y, out, loss):
    # Mean loss over rows and its gradient G with respect to `out`.
    m, q = out.shape
    G = np.empty((m, q))
    total = 0.0
    if loss == 0:
        for i in range(m):
            for k in range(q):
                G[i, k] = (out[i, k] - Y[i, k]) / m
                total += 0.5 * (out[i, k] - Y[i, k]) ** 2
        return total / m, G

    for i in range(m):
        top = out[i, 0]
        for k in range(1, q):
            top = max(top, out[i, k])
        norm = 0.0
        for k in range(q):
            G[i, k] = np.exp(out[i, k] - top)
            norm += G[i, k]
        total += np.log(norm) + top
        for k in range(q):
            total -= Y[i, k] * out[i, k]
            G[i, k] = (G[i, k] / norm - Y[i, k]) / m
    return total / m, G


@njit(cache=True)
def loss_gradient(
    coef, grad, shape, X, Y, loss, activation, l2, tol, max_iter, H0, V0, batch_tol
):
    """Mean loss of a batch and its gradient with respect to the parameters.

    ``coef`` holds, flattened in this order, ``A (n, n)``, ``B (n, p)``,
    ``C (q, n)``, ``D (q, p)``, ``b (n,)`` and ``d (q,)``, where
    ``(n, p, q) = shape``; ``grad`` receives the gradient in the same layout.
    After the forward solve, the adjoint ``V = Psi * (V A + G C)`` gives the
    gradient with respect to the pre-activations; the parameter gradients
    are then ``V^T H``, ``V^T X``, ``G^T H``, ``G^T X`` and the column sums
    of ``V`` and ``G`` (paper, appendix G). The penalty
    ``0.5 * l2 * ||weights||^2`` acts on ``A, B, C, D``.

    Parameters
    ----------
    coef, grad : ndarray of shape (n_parameters,)
    shape : tuple of int
        ``(n_hidden, n_features, n_outputs)``.
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
        Targets; one-hot for the cross-entropy.
    loss, activation : int
        Codes, see the module docstring.
    l2, tol : float
    max_iter : int
    H0, V0 : ndarray of shape (n_samples, n_hidden) or (0, n_hidden)
        Starting points of the forward and adjoint solves.
    batch_tol : bool
        Whether adjoint rows are solved to ``tol`` relative to the largest
        row of the batch rather than to their own size. The parameter
        gradients sum over rows, so this is all their accuracy needs, and it
        spares iterations on rows whose gradient is small.

    Returns
    -------
    value : float
        Mean loss plus penalty.
    H, V, G : ndarray
        States, pre-activation gradients and output gradients.
    forward_n_iter, forward_residual, adjoint_n_iter, adjoint_residual : ndarray
        Per-row results of the two solves, as in `solve_fixed_point`.
    """
    n, p, q = shape
    ends = np.cumsum(np.array([n * n, n * p, q * n, q * p, n, q]))
    A = coef[: ends[0]].reshape((n, n))
    B = coef[ends[0] : ends[1]].reshape((n, p))
    C = coef[ends[1] : ends[2]].reshape((q, n))
    D = coef[ends[2] : ends[3]].reshape((q, p))
    b = coef[ends[3] : ends[4]]
    d = coef[ends[4] :]

    H, out, forward_n_iter, forward_residual = predict(
        A, B, C, D, b, d, X, H0, activation, tol, max_iter
    )
    value, G = _loss(Y, out, loss)

    Psi = activation_derivative(H, activation)
    GC = np.dot(G, C)
    scale = 0.0
    if batch_tol:
        for i in range(GC.shape[0]):
            for j in range(n):
                scale = max(scale, abs(Psi[i, j] * GC[i, j]))
    V, adjoint_n_iter, adjoint_residual = _iterate(
        A, GC, Psi, V0, _ADJOINT, tol, max_iter, scale
    )

    np.dot(V.T, H, grad[: ends[0]].reshape((n, n)))
    np.dot(V.T, X, grad[ends[0] : ends[1]].reshape((n, p)))
    np.dot(G.T, H, grad[ends[1] : ends[2]].reshape((q, n)))
    np.dot(G.T, X, grad[ends[2] : ends[3]].reshape((q, p)))
    grad[ends[3] : ends[4]] = V.sum(axis=0)
    grad[ends[4] :] = G.sum(axis=0)

    weights = ends[3]
    penalty = 0.0
    for k in range(weights):
        penalty += coef[k] * coef[k]
        grad[k] += l2 * coef[k]
    value += 0.5 * l2 * penalty
    return (
        value,
        H,
        V,
        G,
        forward_n_iter,
        forward_residual,
        adjoint_n_iter,
        adjoint_residual,
    )


# Rows per block of the low-rank solve. A block's states, pre-activations
# and reduced states stay in the core's cache for all its iterations.
LOW_RANK_BLOCK = 128


@njit(cache=True)
def _iterate_low_rank(
    LT, R, drive, activation, tol, max_iter, gain, H, n_iter, residual
):
    # Solve the rows of one block, H = phi(Z L^T + drive) with Z = H R; see
    # `solve_low_rank`. The results land in H, n_iter and residual, views of
    # the block's rows.
    m, n, k = drive.shape[0], LT.shape[1], LT.shape[0]
    W = np.empty((m, n))
    Z = np.zeros((m, k))
    Z_next = np.empty((m, k))
    floor = np.zeros(m)
    sizes = np.empty(m, dtype=np.int64)
    rows = np.arange(m)

    # W holds the active rows' states, compacted through `rows`; Z their
    # reduced states R^T h of the previous iteration. The pass reports each
    # row's largest entry in `sizes`, which sets its floor on the first
    # iteration.
    active = m
    for it in range(max_iter):
        if it > 0:
            np.dot(Z[:active], LT, W[:active])
        _advance_rows(
            W, drive, drive, rows, active, activation, it == 0, None, sizes, sizes
        )
        np.dot(W[:active], R, Z_next[:active])

        last = it == max_iter - 1
        kept = 0
        for r in range(active):
            i = rows[r]
            if it == 0:
                floor[r] = _magnitude(sizes[r])
            change = gain * _max_abs(Z_next, r, Z)
            n_iter[i] = it + 1

            if change <= tol * floor[r] or last:
                residual[i] = change / floor[r] if floor[r] > 0.0 else change
                _copy_row(H, i, W, r)
            else:
                _copy_row(Z, kept, Z_next, r)
                rows[kept] = i
                floor[kept] = floor[r]
                kept += 1

        active = kept
        if active == 0:
            break


@njit(cache=True)
def _low_rank_gain(L, activation):
    # g ||L||_inf, with g the activation's Lipschitz constant.
    gain = 0.0
    for i in range(L.shape[0]):
        gain = max(gain, np.abs(L[i]).sum())
    return 0.25 * gain if activation == 3 else gain


@njit(cache=True)
def solve_low_rank(L, R, drive, activation, tol, max_iter):
    """Solve ``H = phi(H R L^T + drive)`` through the reduced states ``Z = H R``.

    With ``A = L R^T`` of rank ``k``, the equilibrium ``h = phi(A h + drive)``
    is the fixed point of ``z = R^T phi(L z + drive)`` in ``R^k`` (paper,
    section 5.3). Each iteration takes two BLAS-3 products, ``Z L^T`` and
    ``H R``, of ``2 k n`` flops per row against the ``n^2`` of
    `solve_fixed_point`, and the iterates ``h_t = phi(L z_t + drive)`` are
    exactly those of the full iteration with ``A = L R^T``. The rows are
    solved in blocks of ``LOW_RANK_BLOCK`` that stay in cache.

    A row stops, and is never touched again, once
    ``g ||L||_inf ||z_{t+1} - z_t||_inf <= tol * s``, where ``g`` is the
    activation's Lipschitz constant and ``s`` the max-norm of the row's
    first iterate. The left side bounds ``||h_t - phi(A h_t + drive)||_inf``
    for the returned ``h_t``, since ``A h_t = L z_{t+1}``; the test costs
    ``k`` per row instead of ``n``.

    Parameters
    ----------
    L, R : ndarray of shape (n_hidden, k)
        The factors of ``A = L R^T``.
    drive : ndarray of shape (n_samples, n_hidden)
        The constant part of the pre-activation, ``X B^T + b``.
    activation : int
        Activation code, 0 to 3; see the module docstring.
    tol : float
        Relative tolerance, as above.
    max_iter : int
        Largest number of iterations for one row, at least 1.

    Returns
    -------
    H : ndarray of shape (n_samples, n_hidden)
    n_iter : ndarray of shape (n_samples,)
        Iterations that each row received.
    residual : ndarray of shape (n_samples,)
        Each row's ``g ||L||_inf ||z_{t+1} - z_t||_inf / s`` at its last
        iteration: a bound on its relative equilibrium residual.
    """
    m, n = drive.shape
    gain = _low_rank_gain(L, activation)
    LT, R = np.ascontiguousarray(L.T), np.ascontiguousarray(R)
    H = np.empty((m, n))
    n_iter = np.zeros(m, dtype=np.int64)
    residual = np.zeros(m)
    for start in range(0, m, LOW_RANK_BLOCK):
        block = slice(start, min(start + LOW_RANK_BLOCK, m))
        _iterate_low_rank(
            LT,
            R,
            drive[block],
            activation,
            tol,
            max_iter,
            gain,
            H[block],
            n_iter[block],
            residual[block],
        )
    return H, n_iter, residual


@njit(cache=True)
def predict_low_rank(L, R, B, C, D, b, d, X, activation, tol, max_iter):
    """Equilibrium states and outputs of a model with ``A = L R^T``.

    Parameters
    ----------
    L, R : ndarray of shape (n_hidden, k)
    B, C, D, b, d : ndarray
        Model parameters, C-contiguous.
    X : ndarray of shape (n_samples, n_features)
    activation, tol, max_iter
        As in `solve_low_rank`.

    Returns
    -------
    H, out, n_iter, residual : ndarray
        As in `predict`, with the iterations and residuals of
        `solve_low_rank`.
    """
    m, n = X.shape[0], B.shape[0]
    gain = _low_rank_gain(L, activation)
    LT, R = np.ascontiguousarray(L.T), np.ascontiguousarray(R)
    H = np.empty((m, n))
    out = np.empty((m, C.shape[0]))
    n_iter = np.zeros(m, dtype=np.int64)
    residual = np.zeros(m)

    # The drive and the outputs are formed block by block too, while the
    # block's inputs and states are in cache.
    for start in range(0, m, LOW_RANK_BLOCK):
        block = slice(start, min(start + LOW_RANK_BLOCK, m))
        drive = _affine(X[block], B, b)
        _iterate_low_rank(
            LT,
            R,
            drive,
            activation,
            tol,
            max_iter,
            gain,
            H[block],
            n_iter[block],
            residual[block],
        )
        out[block] = _affine(X[block], D, d) + np.dot(H[block], C.T)
    return H, out, n_iter, residual
