# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Loss and gradient of an implicit model on a batch (paper, appendix G).

The parameters live in one flat vector, so that an optimizer updates them
with whole-array operations; `ParameterLayout` says where each matrix sits
in it. The computation itself is one compiled call,
`sklearn_implicit._kernels._equilibrium.loss_gradient`.
"""

import numpy as np
from sklearn.utils import Bunch

from sklearn_implicit._activations import ACTIVATIONS
from sklearn_implicit._kernels._equilibrium import loss_gradient
from sklearn_implicit._model import ImplicitModel

LOSSES = {"squared_error": 0, "log_loss": 1}


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
        self.dimensions = (n, p, q)
        self.shapes = [(n, n), (n, p), (q, n), (q, p), (n,), (q,)]
        ends = np.cumsum([np.prod(shape) for shape in self.shapes])
        self.slices = [slice(int(a), int(b)) for a, b in zip([0, *ends], ends)]
        self.n_weights = int(ends[3])
        self.size = int(ends[-1])
        # C, D and d: what the closed-form block of the block-coordinate
        # scheme sets.
        self.output_slices = [self.slices[2], self.slices[3], self.slices[5]]

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

    Parameters
    ----------
    coef : ndarray of shape (layout.size,)
        Flat parameters.
    grad : ndarray of shape (layout.size,)
        Output: overwritten with the gradient.
    layout : ParameterLayout
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        A sparse batch is made dense.
    Y : ndarray of shape (n_samples, n_outputs)
        Targets, one-hot for classification.
    loss : {"squared_error", "log_loss"}
        Half the squared error summed over outputs, or the softmax
        cross-entropy; averaged over rows.
    activation : str
    l2 : float
        Coefficient of the penalty ``0.5 * l2 * ||weights||^2``.
    tol, max_iter : float, int
        Settings of both equilibrium solves.
    H0, V0 : ndarray of shape (n_samples, n_hidden), default=None
        Starting points of the forward and adjoint solves; zeros when None.
    batch_tol : bool, default=True
        Whether adjoint rows are solved to ``tol`` relative to the largest row
        of the batch, which is all the parameter gradients need, rather than
        to their own size.

    Returns
    -------
    value : float
        Mean loss plus penalty.
    result : Bunch
        ``H`` (states), ``V`` (gradients with respect to the
        pre-activations), ``G`` (gradients with respect to the outputs), and
        for each solve (``forward``, ``adjoint``) the iterations and relative
        residual of every row, as ``(n_iter, residual)`` pairs.
    """
    if hasattr(X, "toarray"):
        X = X.toarray()
    empty = np.empty((0, layout.dimensions[0]))
    value, H, V, G, *solves = loss_gradient(
        coef,
        grad,
        layout.dimensions,
        X,
        Y,
        LOSSES[loss],
        ACTIVATIONS[activation].code,
        l2,
        tol,
        max_iter,
        empty if H0 is None else H0,
        empty if V0 is None else V0,
        batch_tol,
    )
    return value, Bunch(
        H=H, V=V, G=G, forward=tuple(solves[:2]), adjoint=tuple(solves[2:])
    )


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
        shapes of the parameters, and ``X``, the gradient of the mean loss
        with respect to each input row, ``V B + G D``.
    """
    layout = ParameterLayout(model.n_hidden, model.n_features_in, model.n_outputs)
    coef = layout.pack(model.A, model.B, model.C, model.D, model.b, model.d)
    grad = np.empty_like(coef)
    value, result = loss_and_gradient(
        coef,
        grad,
        layout,
        np.ascontiguousarray(X, dtype=np.float64),
        np.ascontiguousarray(Y, dtype=np.float64),
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
