# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Stochastic gradient steps on a flat parameter vector, in place."""

import numpy as np

from sklearn_implicit._kernels._optim import adam_step


class SGDOptimizer:
    """Plain stochastic gradient with heavy-ball momentum.

    Parameters
    ----------
    size : int
        Number of parameters.
    learning_rate : float
    momentum : float
        Weight of the previous step, in ``[0, 1)``; 0 gives plain SGD.
    """

    def __init__(self, size, learning_rate, momentum):
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.velocity = np.zeros(size)

    def step(self, coef, grad):
        """Update ``coef`` in place with the gradient ``grad``."""
        self.velocity *= self.momentum
        self.velocity -= self.learning_rate * grad
        coef += self.velocity


class AdamOptimizer:
    """Adam (Kingma and Ba, 2015), with bias-corrected moment estimates.

    Parameters
    ----------
    size : int
        Number of parameters.
    learning_rate : float
    beta_1, beta_2 : float
        Decay rates of the first and second moment estimates, in ``[0, 1)``.
    epsilon : float
        Added to the root of the second moment for stability.
    """

    def __init__(self, size, learning_rate, beta_1, beta_2, epsilon):
        self.learning_rate = learning_rate
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.t = 0
        self.first = np.zeros(size)
        self.second = np.zeros(size)

    def step(self, coef, grad):
        """Update ``coef`` in place with the gradient ``grad``."""
        self.t += 1
        rate = (
            self.learning_rate
            * np.sqrt(1 - self.beta_2**self.t)
            / (1 - self.beta_1**self.t)
        )
        adam_step(
            coef,
            grad,
            self.first,
            self.second,
            rate,
            self.beta_1,
            self.beta_2,
            self.epsilon,
        )
