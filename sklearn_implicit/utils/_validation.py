# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Checks shared by the meta-estimators."""

import numpy as np


def check_prefit_feature_names(meta, estimator):
    """Raise if ``X``'s column names differ from those ``estimator`` was fitted on.

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
    if seen is None or given is None or np.array_equal(seen, given):
        return
    raise ValueError(
        f"X's column names {list(given)} differ from the "
        f"{list(seen)} that the prefit estimator was fitted on; pass the "
        "columns it was fitted on, in the same order."
    )
