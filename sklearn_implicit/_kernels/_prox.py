# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Proximal maps of the sparsity penalties, in a diagonal metric.

Each map solves ``min_x lam * g(x) + sum_k (x_k - y_k) ** 2 / (2 s_k)`` for a
vector of positive steps ``s``: the optimizer's own per-coordinate step
sizes, so that a proximal step in the metric of an adaptive method such as
Adam has the same fixed points as the penalised objective. With equal steps
the maps reduce to the usual soft-thresholding. Zeros are exact.
"""

import numpy as np
from numba import njit


@njit(cache=True)
def soft_threshold(coef, steps, lam):
    """Apply the proximal map of ``lam * ||x||_1`` to ``coef`` in place.

    Parameters
    ----------
    coef : ndarray of shape (n_parameters,)
        Values ``y``; overwritten with the result.
    steps : ndarray of shape (n_parameters,)
        Positive step of every coordinate.
    lam : float
        Strength of the penalty.
    """
    for k in range(coef.shape[0]):
        shift = lam * steps[k]
        y = coef[k]
        if y > shift:
            coef[k] = y - shift
        elif y < -shift:
            coef[k] = y + shift
        else:
            coef[k] = 0.0


@njit(cache=True)
def _column_sums(M, S, j, r, lam):
    # Over column j of one block: sum y^2, max s, sum (y/s)^2, and at radius
    # r, sum y^2 / (r + lam s)^2 and its derivative in r.
    norm2 = largest = scaled = value = slope = 0.0
    for i in range(M.shape[0]):
        y2 = M[i, j] * M[i, j]
        s = S[i, j]
        t = r + lam * s
        norm2 += y2
        largest = max(largest, s)
        scaled += y2 / (s * s)
        value += y2 / (t * t)
        slope -= 2.0 * y2 / (t * t * t)
    return norm2, largest, scaled, value, slope


@njit(cache=True)
def column_group_prox(top, bottom, top_steps, bottom_steps, lam):
    """Apply the proximal map of ``lam * sum_j ||(top; bottom)[:, j]||_2``.

    Every column of the stacked matrix ``(top; bottom)`` is one group. A
    column whose step-weighted norm ``||y / s||_2`` is at most ``lam`` is set
    to zero. The others are shrunk towards zero, each entry by the factor
    ``r / (r + lam s_k)``, where the norm ``r`` of the result is the root of
    ``sum_k y_k^2 / (r + lam s_k)^2 = 1``: a convex decreasing function of
    ``r``, so Newton's method started left of the root, at
    ``||y|| - lam max(s)``, climbs to it monotonically (and starts on it when
    the steps are equal).

    Parameters
    ----------
    top : ndarray of shape (n_top, n_groups)
        Upper rows; overwritten with the result.
    bottom : ndarray of shape (n_bottom, n_groups)
        Lower rows; overwritten with the result.
    top_steps : ndarray of shape (n_top, n_groups)
        Positive steps of the entries of ``top``.
    bottom_steps : ndarray of shape (n_bottom, n_groups)
        Positive steps of the entries of ``bottom``.
    lam : float
        Strength of the penalty.
    """
    for j in range(top.shape[1]):
        upper = _column_sums(top, top_steps, j, 0.0, lam)
        lower = _column_sums(bottom, bottom_steps, j, 0.0, lam)
        if np.sqrt(upper[2] + lower[2]) <= lam:
            top[:, j] = 0.0
            bottom[:, j] = 0.0
            continue

        largest = max(upper[1], lower[1])
        r = max(np.sqrt(upper[0] + lower[0]) - lam * largest, 0.0)
        for _ in range(100):
            upper = _column_sums(top, top_steps, j, r, lam)
            lower = _column_sums(bottom, bottom_steps, j, r, lam)
            value = upper[3] + lower[3] - 1.0
            if value <= 0.0:
                break
            step = -value / (upper[4] + lower[4])
            r += step
            if step <= 1e-15 * r:
                break

        for i in range(top.shape[0]):
            top[i, j] *= r / (r + lam * top_steps[i, j])
        for i in range(bottom.shape[0]):
            bottom[i, j] *= r / (r + lam * bottom_steps[i, j])
