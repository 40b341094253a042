# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Closed-form robustness bounds of an implicit model (paper, section 4)."""

import numpy as np
from scipy import linalg

from sklearn_implicit._model import perron_frobenius_eigenvalue
from sklearn_implicit.analysis._validation import (
    check_blocks,
    check_model,
    lipschitz_constant,
)

_DUAL = {1: np.inf, 2: 2, np.inf: 1}


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
    if blocks is None:
        return np.abs(model.A), np.abs(model.B), np.abs(model.C)
    if norm not in _DUAL:
        raise ValueError(f"norm must be 1, 2 or inf, got {norm!r}.")
    slices = check_blocks(blocks, model.n_hidden)
    N_A = np.array(
        [[_induced_norm(model.A[r, c], norm) for c in slices] for r in slices]
    )
    N_B = np.array([np.linalg.norm(model.B[r], ord=norm, axis=0) for r in slices])
    N_C = np.column_stack(
        [np.linalg.norm(model.C[:, c], ord=_DUAL[norm], axis=1) for c in slices]
    )
    return N_A, N_B.reshape(len(slices), -1), N_C.reshape(model.n_outputs, -1)


def contraction_gap(M):
    """Check that a non-negative matrix has ``lambda_pf(M) < 1``.

    Tries the cheap sufficient tests first (max row sum below 1, strict
    triangularity) before computing the eigenvalue.

    Parameters
    ----------
    M : ndarray of shape (n, n)
        Non-negative matrix, such as ``gamma |A|`` or ``Gamma N(A)``.

    Raises
    ------
    ValueError
        If ``lambda_pf(M) >= 1``: the bounds of section 4 do not exist then.
    """
    if M.size == 0 or M.sum(axis=1).max() < 1:
        return
    if not np.triu(M).any() or not np.tril(M).any():
        return
    eigenvalue = perron_frobenius_eigenvalue(M)
    if eigenvalue >= 1:
        raise ValueError(
            "The robustness bounds need lambda_pf(gamma N(A)) < 1, but it is "
            f"{eigenvalue:.6g} for this model and block structure."
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
    contraction_gap(gamma * N_A)

    identity = np.eye(N_A.shape[0])
    gain = linalg.solve(identity - gamma * N_A, gamma * N_B)
    return N_C @ gain + np.abs(model.D)


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

    weighted = np.abs(model.B) * radius
    drive = weighted.sum(axis=1) if k is None else _top_k_sum(weighted, k)
    return linalg.solve(np.eye(model.n_hidden) - gamma * N_A, gamma * drive)
