# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Robustness analysis of implicit models.

Every function takes an `ImplicitModel` or a fitted implicit estimator first
and returns NumPy values. The relaxations import cvxpy only when called.
"""

from sklearn_implicit.analysis._attacks import (
    attack_success_rate,
    gradient_attack,
    relaxation_attack,
    sensitivity_attack,
)
from sklearn_implicit.analysis._bounds import (
    lipschitz_bound,
    output_bounds,
    sensitivity_matrix,
    state_bounds,
    worst_case_loss,
)
from sklearn_implicit.analysis._model_error import model_error_bound
from sklearn_implicit.analysis._relaxations import lp_relaxation, sdp_relaxation
from sklearn_implicit.analysis._wellposedness import rescale, well_posedness

__all__ = [
    "attack_success_rate",
    "gradient_attack",
    "lipschitz_bound",
    "lp_relaxation",
    "model_error_bound",
    "output_bounds",
    "relaxation_attack",
    "rescale",
    "sdp_relaxation",
    "sensitivity_attack",
    "sensitivity_matrix",
    "state_bounds",
    "well_posedness",
    "worst_case_loss",
]
