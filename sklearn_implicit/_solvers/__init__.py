# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Training: losses, the implicit gradient, optimizers and projections."""
