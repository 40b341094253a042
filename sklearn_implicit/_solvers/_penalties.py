# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""The non-smooth penalties of training: sparsity and robustness.

``Penalties`` holds four strengths, already divided by the number of
training rows so that they add to a mean loss as ``alpha`` does:

- ``l1 * ||(A, B, C, D)||_1``, elementwise (section 5 of the reference);
- ``features * sum_j ||(B; D) e_j||_2``, the column-group penalty of
  eq. (5.1) with the Euclidean norm: a zero column drops input ``j``;
- ``states * sum_i ||(A; C) e_i||_2``: a zero column ``i`` of the stacked
  ``(A; C)`` means no state and no output reads state ``i``, which can then
  be removed (section 5.2);
- ``robust * P(A, B, C, D)`` with the Lipschitz bound of eq. (4.9),
  ``P = (||B||_inf^2 + ||C||_inf^2) / (2 (1 - ||A||_inf)) + ||D||_inf``.

The first three are applied by their proximal maps after every optimizer
step, so their zeros are exact. Soft-thresholding followed by a group
shrinkage is the exact proximal map of their sum, also in a diagonal metric:
the shrinkage keeps the signs, and every zero, of the soft-threshold. The
three groupings are disjoint per entry
(elementwise, columns of ``(B; D)``, columns of ``(A; C)``), and each map
only shrinks entries towards zero; applying them one after the other, then
projecting ``A`` onto ``{||A||_inf <= kappa}`` (a soft-threshold of each
row), never turns a zero back into a nonzero. The robustness penalty, a
maximum over rows, enters through a subgradient added to the gradient.
"""

import numpy as np

from sklearn_implicit._kernels._prox import column_group_prox, soft_threshold


def _max_row(M):
    # Index of the row of largest absolute sum, and that sum.
    sums = np.abs(M).sum(axis=1)
    row = int(np.argmax(sums))
    return row, float(sums[row])


class Penalties:
    """Values, subgradients and proximal steps of the sparsity penalties.

    Parameters
    ----------
    layout : ParameterLayout
        Where ``A, B, C, D`` sit in the flat parameters.
    l1, features, states, robust : float
        Strengths per training row (see the module docstring).
    """

    def __init__(self, layout, *, l1, features, states, robust):
        self.layout = layout
        self.l1 = l1
        self.features = features
        self.states = states
        self.robust = robust

    @property
    def active(self):
        """Whether any strength is positive."""
        return max(self.l1, self.features, self.states, self.robust) > 0

    def value(self, coef):
        """Return the sum of the penalties at ``coef``."""
        A, B, C, D = self.layout.unpack(coef)[:4]
        total = 0.0
        if self.l1 > 0:
            total += self.l1 * np.abs(coef[: self.layout.n_weights]).sum()
        if self.features > 0:
            columns = np.sqrt((B * B).sum(axis=0) + (D * D).sum(axis=0))
            total += self.features * columns.sum()
        if self.states > 0:
            columns = np.sqrt((A * A).sum(axis=0) + (C * C).sum(axis=0))
            total += self.states * columns.sum()
        if self.robust > 0:
            a, b, c, d = (_max_row(M)[1] for M in (A, B, C, D))
            total += self.robust * (0.5 * (b * b + c * c) / (1.0 - a) + d)
        return total

    def add_subgradient(self, coef, grad):
        """Add a subgradient of the robustness penalty to ``grad``.

        Each ``||M||_inf`` contributes the signs of its row of largest
        absolute sum (the first such row on ties), times the derivative of
        ``P`` with respect to that norm. Requires ``||A||_inf < 1``.
        """
        if self.robust <= 0:
            return
        matrices = self.layout.unpack(coef)[:4]
        gradients = self.layout.unpack(grad)[:4]
        rows = [_max_row(M) for M in matrices]
        a, b, c = rows[0][1], rows[1][1], rows[2][1]
        slopes = (
            0.5 * (b * b + c * c) / (1.0 - a) ** 2,
            b / (1.0 - a),
            c / (1.0 - a),
            1.0,
        )
        for M, G, (row, _), slope in zip(matrices, gradients, rows, slopes):
            G[row] += self.robust * slope * np.sign(M[row])

    def prox(self, coef, steps):
        """Apply the proximal maps of the l1 and group penalties in place.

        Parameters
        ----------
        coef : ndarray of shape (layout.size,)
            Parameters after the optimizer step.
        steps : ndarray of shape (layout.size,)
            Positive step of every parameter: the metric of the proximal
            step (see ``sklearn_implicit._kernels._prox``).
        """
        try:
            if self.l1 > 0:
                weights = slice(0, self.layout.n_weights)
                soft_threshold(coef[weights], steps[weights], self.l1)
            A, B, C, D = self.layout.unpack(coef)[:4]
            S_A, S_B, S_C, S_D = self.layout.unpack(steps)[:4]
            if self.features > 0:
                column_group_prox(B, D, S_B, S_D, self.features)
            if self.states > 0:
                column_group_prox(A, C, S_A, S_C, self.states)
        except ZeroDivisionError:
            # Steps that underflow to 0 once Adam's second moments overflow.
            raise ValueError(
                "Training diverged: the optimizer's steps are no longer "
                "positive numbers. Scale the input data, or lower "
                "learning_rate_init."
            ) from None
