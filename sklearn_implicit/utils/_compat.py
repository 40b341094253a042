# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Every private scikit-learn import of the package, in one place.

These names are not part of scikit-learn's public API; should one move
upstream, this is the only file to edit.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

__all__ = ["HasMethods", "Interval", "StrOptions", "_fit_context"]
