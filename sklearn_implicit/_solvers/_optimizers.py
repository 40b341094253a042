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

    def steps(self):
        """Per-parameter steps, for a proximal step after ``step``."""
        return np.full(self.velocity.shape, self.learning_rate)


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
        self.rate = (
            self.learning_rate
            * np.sqrt(1 - self.beta_2**self.t)
            / (1 - self.beta_1**self.t)
        )
        adam_step(
            coef,
            grad,
            self.first,
            self.second,
            self.rate,
            self.beta_1,
            self.beta_2,
            self.epsilon,
        )

    def steps(self):
        """Per-parameter steps of the last update, ``rate / (sqrt(v) + eps)``.

        Adam moved each parameter by its step times the first moment: a
        gradient step in a diagonal metric, in which a proximal step then
        keeps the fixed points of the penalised objective.
        """
        return self.rate / (np.sqrt(self.second) + self.epsilon)


class FrankWolfeOptimizer:
    """Conditional gradient on ``A``, Adam on every other parameter.

    The step on ``A`` moves towards the vertex of ``{||A||_inf <= kappa}``
    that minimises the linear model of the loss (section 6.2 of the
    reference): in each row, ``-kappa`` times the sign of the gradient entry
    of largest magnitude, and zeros elsewhere. With the step size
    ``2 / (t + 2)`` of the ``t``-th step (counted from 0), ``A`` is a convex
    combination of such vertices, so it stays feasible without projection,
    and after ``t`` steps from ``A = 0`` each row has at most ``t`` nonzero
    entries.

    Parameters
    ----------
    layout : ParameterLayout
        Where ``A`` sits in the flat parameters.
    kappa : float
        Radius of the feasible set.
    learning_rate : float
    beta_1, beta_2 : float
    epsilon : float
        Settings of the Adam steps on the other parameters.
    """

    def __init__(self, layout, kappa, learning_rate, beta_1, beta_2, epsilon):
        self.slice = layout.slices[0]
        self.n_hidden = layout.dimensions[0]
        self.kappa = kappa
        self.learning_rate = learning_rate
        self.adam = AdamOptimizer(layout.size, learning_rate, beta_1, beta_2, epsilon)
        self.t = 0

    def step(self, coef, grad):
        """Update ``coef`` in place with the gradient ``grad``."""
        n = self.n_hidden
        A = coef[self.slice].reshape(n, n)
        G = grad[self.slice].reshape(n, n).copy()
        grad[self.slice] = 0.0
        self.adam.step(coef, grad)

        columns = np.argmax(np.abs(G), axis=1)
        rows = np.arange(n)
        vertex = np.zeros((n, n))
        vertex[rows, columns] = -self.kappa * np.sign(G[rows, columns])
        gamma = 2.0 / (self.t + 2.0)
        A *= 1.0 - gamma
        A += gamma * vertex
        self.t += 1

    def steps(self):
        """Per-parameter steps: Adam's, and the learning rate on ``A``."""
        steps = self.adam.steps()
        steps[self.slice] = self.learning_rate
        return steps
