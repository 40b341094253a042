# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Private utilities."""
