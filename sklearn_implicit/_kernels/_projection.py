# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Euclidean projection of a matrix onto ``{A : ||A||_inf <= kappa}``.

The problem splits into one projection per row onto the l1 ball of radius
``kappa`` (paper, appendix H). Instead of bisecting on the dual variable, the
soft-threshold of each row is found exactly by Michelot's finite method.
"""

import numpy as np
from numba import njit


@njit(cache=True)
def _shrunk_sum(magnitudes, theta):
    total = 0.0
    for x in magnitudes:
        if x > theta:
            total += x - theta
    return total


@njit(cache=True)
def _accurate_sum(values):
    # Neumaier's compensated sum: within a unit in the last place of the
    # exact sum of non-negative values.
    total = 0.0
    compensation = 0.0
    for x in values:
        t = total + x
        if abs(total) >= abs(x):
            compensation += (total - t) + x
        else:
            compensation += (x - t) + total
        total = t
    return total + compensation


@njit(cache=True)
def _l1_threshold(magnitudes, radius, work):
    # The soft-threshold theta with sum(max(|a| - theta, 0)) = radius, by
    # Michelot's method: average out the excess over the current support,
    # drop the entries that fall below, repeat until the support is stable.
    # Exact after finitely many passes, with no sorting.
    support = magnitudes.shape[0]
    work[:support] = magnitudes
    theta = (magnitudes.sum() - radius) / support
    while True:
        kept = 0
        total = 0.0
        for k in range(support):
            x = work[k]
            if x > theta:
                work[kept] = x
                kept += 1
                total += x
        if kept == support or kept == 0:
            # kept == 0 only when rounding swallows the radius, for entries
            # far beyond kappa: every entry then shrinks to zero.
            return theta
        support = kept
        theta = (total - radius) / support


@njit(cache=True)
def project_inf_ball(A, kappa):
    """Return the projection of ``A`` onto ``{||A||_inf <= kappa}``.

    Rows whose absolute sum is at most ``kappa`` (summed exactly, up to a
    unit in the last place), or not finite, are copied unchanged. The other rows are
    soft-thresholded onto the l1 sphere; the threshold is then nudged up by a
    few rounding steps until the absolute sum, added in any order, cannot
    exceed ``kappa``.

    Parameters
    ----------
    A : ndarray of shape (n_rows, n_columns)
    kappa : float
        Positive radius.

    Returns
    -------
    P : ndarray of shape (n_rows, n_columns)
    """
    n_rows, n_columns = A.shape
    P = A.copy()
    magnitudes = np.empty(n_columns)
    work = np.empty(n_columns)
    eps = np.finfo(np.float64).eps

    # Any summation order of n terms is within about n * eps of the exact
    # sum; aim below kappa by twice that much.
    margin = 2.0 * n_columns * eps
    radius = kappa * (1.0 - margin)
    for i in range(n_rows):
        for j in range(n_columns):
            magnitudes[j] = abs(A[i, j])
        quick = magnitudes.sum()
        if quick <= radius or not np.isfinite(quick):
            # Inside, or not a number to project: a diverged training run,
            # which the caller reports.
            continue
        if quick <= kappa * (1.0 + margin) and _accurate_sum(magnitudes) <= kappa:
            continue

        theta = _l1_threshold(magnitudes, radius, work)
        total = _shrunk_sum(magnitudes, theta)
        while total > radius:
            support = 0
            for x in magnitudes:
                support += x > theta
            theta += max((total - radius) / max(support, 1), 2.0 * eps * theta)
            total = _shrunk_sum(magnitudes, theta)

        for j in range(n_columns):
            shrunk = max(magnitudes[j] - theta, 0.0)
            P[i, j] = shrunk if A[i, j] >= 0.0 else -shrunk
    return P
