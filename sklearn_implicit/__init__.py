# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Implicit deep learning for tabular data, with a scikit-learn interface.

An implicit model predicts ``y = C h + D x + d`` from an input row ``x``,
where the hidden state ``h`` solves the equilibrium ``h = phi(A h + B x + b)``.
"""

from sklearn_implicit._compression import ImplicitCompressor
from sklearn_implicit._implicit import ImplicitClassifier, ImplicitRegressor
from sklearn_implicit._model import ImplicitModel
from sklearn_implicit._selection import ImplicitFeatureSelector

__version__ = "0.1.0.dev0"

__all__ = [
    "ImplicitClassifier",
    "ImplicitCompressor",
    "ImplicitFeatureSelector",
    "ImplicitModel",
    "ImplicitRegressor",
    "__version__",
]
