# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Robustness analysis of implicit models.

Every function takes an `ImplicitModel` or a fitted implicit estimator first
and returns NumPy values. The relaxations import cvxpy only when called.
"""

from sklearn_implicit.analysis._attacks import (
    attack_success_rate,
    gradient_attack,
    sensitivity_attack,
)
from sklearn_implicit.analysis._bounds import sensitivity_matrix

__all__ = [
    "attack_success_rate",
    "gradient_attack",
    "sensitivity_attack",
    "sensitivity_matrix",
]
