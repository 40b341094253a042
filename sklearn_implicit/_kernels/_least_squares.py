# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Ridge regression of targets on ``[H, X]``, on numba's BLAS and LAPACK.

Kept in compiled code, like every other product of a training run, so that
NumPy's BLAS threads do not spin beside numba's (see ``_equilibrium.py``).
"""

import numpy as np
from numba import njit


@njit(cache=True)
def centred_gram(H, X, alpha):
    """Centre the features ``[H, X]`` and form their regularised Gram matrix.

    Parameters
    ----------
    H : ndarray of shape (n_samples, n_hidden)
    X : ndarray of shape (n_samples, n_features)
    alpha : float
        Ridge added to the diagonal.

    Returns
    -------
    F : ndarray of shape (n_samples, n_hidden + n_features)
        The features, each minus its mean.
    F_mean : ndarray of shape (n_hidden + n_features,)
    gram : ndarray of shape (n_hidden + n_features, n_hidden + n_features)
        ``F^T F`` plus ``alpha`` and, on each diagonal entry, a jitter of
        ``1e-10`` times that entry (at least ``1e-10``).
    """
    m, n = H.shape
    F = np.empty((m, n + X.shape[1]))
    F[:, :n] = H
    F[:, n:] = X
    F_mean = F.sum(axis=0) / m
    F -= F_mean

    gram = np.dot(F.T, F)
    # A tiny ridge keeps the system solvable when alpha is 0 and some states
    # are constant, as dead ReLU units are. It is relative to each column's
    # own size, so that one column of a huge scale does not shrink the rest.
    for k in range(gram.shape[0]):
        gram[k, k] += alpha + 1e-10 * max(gram[k, k], 1.0)
    return F, F_mean, gram


@njit(cache=True)
def ridge_on_states(H, X, Y, alpha):
    """Solve ``min sum 0.5 ||y - C h - D x - d||^2 + alpha / 2 (||C||^2 + ||D||^2)``.

    Parameters
    ----------
    H : ndarray of shape (n_samples, n_hidden)
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
    alpha : float
        Penalty on ``C`` and ``D``; the bias ``d`` is not penalised.

    Returns
    -------
    C : ndarray of shape (n_outputs, n_hidden)
    D : ndarray of shape (n_outputs, n_features)
    d : ndarray of shape (n_outputs,)
    """
    n = H.shape[1]
    F, F_mean, gram = centred_gram(H, X, alpha)
    Y_mean = Y.sum(axis=0) / Y.shape[0]
    W = np.linalg.solve(gram, np.dot(F.T, Y - Y_mean))

    d = Y_mean - np.dot(F_mean, W)
    return np.ascontiguousarray(W[:n].T), np.ascontiguousarray(W[n:].T), d
