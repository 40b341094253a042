# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Checks shared by the meta-estimators."""

import warnings

import numpy as np


def check_prefit_feature_names(meta, estimator):
    """Raise if ``X``'s column names differ from those ``estimator`` was fitted on.

    Warns, as scikit-learn does, when only one of the two has names.

    A prefit estimator is not refitted, so nothing else would notice columns
    passed in another order: its model would read them as they come.

    Parameters
    ----------
    meta : estimator
        The meta-estimator, after `validate_data` has set its
        ``feature_names_in_`` (or not, for ``X`` without names).
    estimator : estimator
        The fitted estimator it wraps.
    """
    seen = getattr(estimator, "feature_names_in_", None)
    given = getattr(meta, "feature_names_in_", None)
    name = type(estimator).__name__
    if seen is None and given is None:
        return
    if seen is None or given is None:
        # As scikit-learn warns when predict gets names it was not fitted
        # with, or none where it was.
        warnings.warn(
            f"X has feature names, but the prefit {name} was fitted without "
            "feature names."
            if seen is None
            else f"X does not have valid feature names, but the prefit {name} "
            "was fitted with feature names.",
            UserWarning,
            stacklevel=3,
        )
        return
    if np.array_equal(seen, given):
        return
    raise ValueError(
        f"X's column names {list(given)} differ from the "
        f"{list(seen)} that the prefit estimator was fitted on; pass the "
        "columns it was fitted on, in the same order."
    )
