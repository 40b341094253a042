# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""numpydoc validation of the public API."""

import pytest

import sklearn_implicit
import sklearn_implicit.analysis

numpydoc_validate = pytest.importorskip("numpydoc.validate")

# Checks left out, as scikit-learn leaves them out: summaries may run over one
# line (SS06), returns are named (RT02), and See Also, extended summaries and
# examples are asked of classes, not of every method (SA01, SA04, ES01, EX01).
IGNORED = {"SS06", "RT02", "SA01", "SA04", "ES01", "EX01"}


def public_objects():
    for name in sklearn_implicit.analysis.__all__:
        yield f"sklearn_implicit.analysis.{name}"
    for name in sklearn_implicit.__all__:
        obj = getattr(sklearn_implicit, name)
        if not isinstance(obj, type):
            continue
        yield f"sklearn_implicit.{name}"
        for attribute, value in vars(obj).items():
            if callable(value) and not attribute.startswith("_"):
                yield f"sklearn_implicit.{name}.{attribute}"


@pytest.mark.parametrize("path", sorted(public_objects()))
def test_docstring(path):
    """Check that the docstring follows the numpydoc format."""
    result = numpydoc_validate.validate(path)
    errors = [
        f"{code}: {message}"
        for code, message in result["errors"]
        if code not in IGNORED
    ]
    assert not errors, "\n".join(errors)
