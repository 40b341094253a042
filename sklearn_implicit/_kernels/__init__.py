# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Compiled hot loops (numba). Nothing here imports scikit-learn.

Every kernel is compiled lazily, on first call, and cached on disk.
"""
