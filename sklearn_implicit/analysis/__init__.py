# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Robustness analysis of implicit models.

Every function takes an `ImplicitModel` or a fitted implicit estimator first
and returns NumPy values. The relaxations import cvxpy only when called.
"""

from sklearn_implicit.analysis._bounds import sensitivity_matrix
from sklearn_implicit.analysis._relaxations import lp_relaxation, sdp_relaxation

__all__ = ["lp_relaxation", "sdp_relaxation", "sensitivity_matrix"]
