# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Fused optimizer updates: one pass over the parameters instead of a dozen."""

import numpy as np
from numba import njit


@njit(cache=True)
def adam_step(coef, grad, first, second, rate, beta_1, beta_2, epsilon):
    """Apply one Adam update to ``coef`` in place.

    Parameters
    ----------
    coef, grad, first, second : ndarray of shape (n_parameters,)
        Parameters, their gradient and the two moment estimates; ``coef``,
        ``first`` and ``second`` are updated in place.
    rate : float
        Step size with the bias corrections of both moments folded in.
    beta_1, beta_2, epsilon : float
        Adam's decay rates and stability term.
    """
    for k in range(coef.shape[0]):
        g = grad[k]
        first[k] = beta_1 * first[k] + (1.0 - beta_1) * g
        second[k] = beta_2 * second[k] + (1.0 - beta_2) * g * g
        coef[k] -= rate * first[k] / (np.sqrt(second[k]) + epsilon)
