# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Loss and gradient of an implicit model on a batch (paper, appendix G).

The parameters live in one flat vector, so that an optimizer updates them
with a few whole-array operations; `ParameterLayout` says where each matrix
sits in it.
"""

import numpy as np
from sklearn.utils import Bunch

from sklearn_implicit._activations import ACTIVATIONS
from sklearn_implicit._kernels._fixed_point import (
    activation_derivative,
    solve_adjoint,
    solve_fixed_point,
)
from sklearn_implicit._model import ImplicitModel
from sklearn_implicit._solvers._losses import LOSSES


class ParameterLayout:
    """Views of ``A, B, C, D, b, d`` inside one flat parameter vector.

    The weight matrices come first, so that ``flat[:n_weights]`` is what an
    L2 penalty acts on, and the two biases last.

    Parameters
    ----------
    n_hidden, n_features, n_outputs : int
        Dimensions of the model.
    """

    def __init__(self, n_hidden, n_features, n_outputs):
        n, p, q = n_hidden, n_features, n_outputs
        self.shapes = [(n, n), (n, p), (q, n), (q, p), (n,), (q,)]
        ends = np.cumsum([np.prod(shape) for shape in self.shapes])
        self.slices = [slice(int(a), int(b)) for a, b in zip([0, *ends], ends)]
        self.n_weights = int(ends[3])
        self.size = int(ends[-1])

    def unpack(self, flat):
        """Return the views ``(A, B, C, D, b, d)`` of ``flat``."""
        return tuple(
            flat[part].reshape(shape) for part, shape in zip(self.slices, self.shapes)
        )

    def pack(self, A, B, C, D, b, d):
        """Return a new flat vector holding the given parameters."""
        return np.concatenate([np.ravel(M) for M in (A, B, C, D, b, d)])

    def to_model(self, flat, activation):
        """Return the `ImplicitModel` that ``flat`` describes."""
        A, B, C, D, b, d = self.unpack(flat)
        return ImplicitModel(A, B, C, D, b, d, activation=activation)


def equilibrium(A, B, b, X, activation, tol, max_iter, H0=None):
    """Solve ``H = phi(H A^T + X B^T + b)``; see `solve_fixed_point`."""
    drive = X @ B.T + b
    if H0 is None:
        H0 = np.empty((0, A.shape[0]))
    return solve_fixed_point(A, drive, H0, ACTIVATIONS[activation].code, tol, max_iter)


def loss_and_gradient(
    coef,
    grad,
    layout,
    X,
    Y,
    *,
    loss,
    activation,
    l2,
    tol,
    max_iter,
    H0=None,
    V0=None,
    batch_tol=True,
):
    """Mean loss on a batch and its gradient with respect to the parameters.

    The gradient with respect to the pre-activations, ``V``, solves the
    adjoint equilibrium ``V = phi'(Z) * (V A + G C)``, where ``G`` is the
    gradient of the loss with respect to the outputs (eq. (G.4)). The
    parameter gradients are then products: ``V^T H`` for ``A``, ``V^T X``
    for ``B``, ``G^T H`` for ``C``, ``G^T X`` for ``D``, and the column sums of
    ``V`` and ``G`` for the biases.

    Parameters
    ----------
    coef : ndarray of shape (layout.size,)
        Flat parameters.
    grad : ndarray of shape (layout.size,)
        Output: overwritten with the gradient.
    layout : ParameterLayout
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
        Targets, one-hot for classification.
    loss : {"squared_error", "log_loss"}
    activation : str
    l2 : float
        Coefficient of the penalty ``0.5 * l2 * ||weights||^2``.
    tol, max_iter : float, int
        Settings of both equilibrium solves.
    H0, V0 : ndarray of shape (n_samples, n_hidden), default=None
        Starting points of the forward and adjoint solves; zeros when None.
    batch_tol : bool, default=True
        Whether the adjoint rows are solved to ``tol`` relative to the
        largest row of the batch rather than to their own size. The
        parameter gradients sum over rows, so this is all their accuracy
        needs, and it saves iterations on rows with small gradients.

    Returns
    -------
    value : float
        Mean loss plus penalty.
    result : Bunch
        ``H``, ``V`` and ``G`` as described above, and for each solve
        (``forward``, ``adjoint``) the iterations and relative residual of
        every row, as ``(n_iter, residual)`` pairs.
    """
    A, B, C, D, b, d = layout.unpack(coef)
    H, *forward = equilibrium(A, B, b, X, activation, tol, max_iter, H0)
    out = H @ C.T + X @ D.T + d
    value, G = LOSSES[loss](Y, out)

    Psi = activation_derivative(H, ACTIVATIONS[activation].code)
    GC = G @ C
    scale = np.abs(Psi * GC).max() if batch_tol else 0.0
    if V0 is None:
        V0 = np.empty((0, A.shape[0]))
    V, *adjoint = solve_adjoint(A, Psi, GC, V0, tol, max_iter, scale)

    gA, gB, gC, gD, gb, gd = layout.unpack(grad)
    np.dot(V.T, H, out=gA)
    gB[:] = V.T @ X
    np.dot(G.T, H, out=gC)
    gD[:] = G.T @ X
    V.sum(axis=0, out=gb)
    G.sum(axis=0, out=gd)

    weights = coef[: layout.n_weights]
    value += 0.5 * l2 * np.dot(weights, weights)
    grad[: layout.n_weights] += l2 * weights
    return value, Bunch(H=H, V=V, G=G, forward=forward, adjoint=adjoint)


def model_gradients(model, X, Y, loss, *, tol=1e-10, max_iter=10_000):
    """Gradients of the mean loss of an `ImplicitModel` on ``(X, Y)``.

    Parameters
    ----------
    model : ImplicitModel
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
    loss : {"squared_error", "log_loss"}
    tol : float, default=1e-10
    max_iter : int, default=10_000

    Returns
    -------
    gradients : Bunch
        ``loss`` (the value), the gradients ``A, B, C, D, b, d`` with the
        shapes of the parameters, and ``X``, the gradient of the loss
        summed over rows with respect to each input row, ``V B + G D``.
    """
    layout = ParameterLayout(model.n_hidden, model.n_features_in, model.n_outputs)
    coef = layout.pack(model.A, model.B, model.C, model.D, model.b, model.d)
    grad = np.empty_like(coef)
    value, result = loss_and_gradient(
        coef,
        grad,
        layout,
        X,
        Y,
        loss=loss,
        activation=model.activation,
        l2=0.0,
        tol=tol,
        max_iter=max_iter,
        batch_tol=False,
    )
    gradients = Bunch(loss=value, X=result.V @ model.B + result.G @ model.D)
    gradients.update(zip("ABCDbd", layout.unpack(grad)))
    return gradients
