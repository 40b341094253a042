# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""The activation maps the library knows, and what the theory needs of them.

The maps themselves are compiled in ``_kernels/_equilibrium.py``; this table
gives each public name its kernel code and the facts that well-posedness and
robustness analysis rely on, and `apply_activation` evaluates the maps in
NumPy outside the kernels. All four act componentwise and are increasing.
"""

from typing import NamedTuple

import numpy as np
from scipy.special import expit

from sklearn_implicit._kernels._equilibrium import LEAKY_SLOPE


class Activation(NamedTuple):
    """Facts about one componentwise activation map ``phi``.

    Attributes
    ----------
    code : int
        The map's code in the numba kernels.
    lipschitz : float
        Lipschitz constant of the map: ``|phi(a) - phi(b)| <= lipschitz * |a - b|``.
    positively_homogeneous : bool
        Whether ``phi(t z) = t phi(z)`` for all ``t > 0``, which allows the
        diagonal rescaling of the paper's section 2.5.
    """

    code: int
    lipschitz: float
    positively_homogeneous: bool


ACTIVATIONS = {
    "relu": Activation(code=0, lipschitz=1.0, positively_homogeneous=True),
    "leaky_relu": Activation(code=1, lipschitz=1.0, positively_homogeneous=True),
    "tanh": Activation(code=2, lipschitz=1.0, positively_homogeneous=False),
    "sigmoid": Activation(code=3, lipschitz=0.25, positively_homogeneous=False),
}


def apply_activation(Z, activation):
    """Return ``phi(Z)`` for a NumPy array, outside the compiled kernels.

    Parameters
    ----------
    Z : ndarray
        Pre-activations.
    activation : {"relu", "leaky_relu", "tanh", "sigmoid"}
        Name of the map.

    Returns
    -------
    H : ndarray of the shape of ``Z``
    """
    if activation == "relu":
        return np.maximum(Z, 0.0)
    if activation == "leaky_relu":
        return np.where(Z > 0.0, Z, LEAKY_SLOPE * Z)
    if activation == "tanh":
        return np.tanh(Z)
    return expit(Z)
