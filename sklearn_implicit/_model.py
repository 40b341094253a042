# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""The implicit prediction rule as plain matrices."""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy import linalg, sparse
from scipy.sparse.csgraph import connected_components
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import assert_all_finite, check_array, check_scalar

from sklearn_implicit._activations import ACTIVATIONS
from sklearn_implicit._kernels._equilibrium import predict, solve_fixed_point

# A relative change of a few dozen units in the last place: what rounding
# alone leaves between two iterates at the fixed point.
_ROUNDING_LEVEL = 64 * np.finfo(np.float64).eps


def perron_frobenius(M):
    """Perron-Frobenius eigenvalue of a non-negative matrix, block by block.

    The eigenvalue of ``M`` is the largest eigenvalue of its diagonal blocks
    on the strongly connected components of the graph of its nonzero entries.
    A component of one state contributes its diagonal entry exactly, so a
    nilpotent ``M`` (an acyclic graph, such as a strictly triangular matrix in
    any order of the states) gives exactly 0, where numerical eigenvalues of
    the whole matrix need not.

    Parameters
    ----------
    M : ndarray of shape (n, n)
        Matrix with non-negative entries.

    Returns
    -------
    eigenvalue : float
    """
    if M.size == 0:
        return 0.0
    n_components, labels = connected_components(
        sparse.csr_array(M != 0), directed=True, connection="strong"
    )
    eigenvalue = 0.0
    for component in range(n_components):
        states = np.flatnonzero(labels == component)
        block = M[np.ix_(states, states)]
        if states.size == 1:
            value = float(block[0, 0])
        else:
            value = float(np.max(np.abs(linalg.eigvals(block))))
        eigenvalue = max(eigenvalue, value)
    return eigenvalue


def _check_well_posed(A, activation):
    # Accept A when a sufficient condition of the paper holds: the
    # Perron-Frobenius condition of Theorem 2.2 (Theorem 2.7 with 1 x 1 blocks
    # for a Lipschitz constant below 1), checked first through its cheap upper
    # bound ||A||_inf, or strict triangularity (Theorem 2.8). Numerical
    # eigenvalues of a nilpotent matrix are far from 0, hence the explicit
    # triangularity test.
    lipschitz = ACTIVATIONS[activation].lipschitz
    norm = float(np.abs(A).sum(axis=1).max())
    if lipschitz * norm < 1:
        return
    if not np.triu(A).any() or not np.tril(A).any():
        return

    eigenvalue = perron_frobenius(np.abs(A))
    if lipschitz * eigenvalue < 1:
        return
    raise ValueError(
        f"A is not known to be well-posed for activation={activation!r}: the "
        f"Perron-Frobenius eigenvalue of |A| is {eigenvalue:.6g} (||A||_inf = "
        f"{norm:.6g}) and must be below {1 / lipschitz:.6g}, and A is not "
        "strictly triangular. Scale A down, or project it onto "
        "{||A||_inf <= kappa} with kappa < 1."
    )


def writable(X):
    """Return ``X``, or a copy of it if it is read-only.

    numba compiles a kernel anew for read-only arrays, such as memory maps;
    a copy costs less than a second compiled specialisation.
    """
    return X if X.flags.writeable else X.copy()


def _check_activation(activation):
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}."
        )


def _as_matrix(value, name, n_rows=None, n_columns=None):
    array = check_array(value, dtype=np.float64, order="C", copy=True, input_name=name)
    expected = (n_rows or array.shape[0], n_columns or array.shape[1])
    if array.shape != expected:
        raise ValueError(f"{name} must have shape {expected}, got {array.shape}.")
    return array


def _as_vector(value, name, size):
    if value is None:
        return np.zeros(size)
    array = np.array(value, dtype=np.float64)
    if array.shape != (size,):
        raise ValueError(f"{name} must have shape ({size},), got {array.shape}.")
    assert_all_finite(array, input_name=name)
    return array


class ImplicitModel:
    """An implicit prediction rule, held as plain matrices.

    For an input row ``x`` the hidden state ``h`` solves the equilibrium
    equation ``h = phi(A h + B x + b)`` and the prediction is
    ``y = C h + D x + d``. The model holds nothing but these arrays and the
    name of ``phi``: it carries no training state, pickles, and can be built
    by hand, taken from a fitted estimator's ``model_``, or written back.

    The constructor copies every array and refuses a matrix ``A`` that is not
    known to be well-posed for the activation (see Notes). The check runs
    there only: to change a matrix, build a new model rather than editing the
    attribute in place.

    Parameters
    ----------
    A : array-like of shape (n_hidden, n_hidden)
        State-to-state matrix.
    B : array-like of shape (n_hidden, n_features)
        Input-to-state matrix.
    C : array-like of shape (n_outputs, n_hidden)
        State-to-output matrix.
    D : array-like of shape (n_outputs, n_features)
        Input-to-output matrix.
    b : array-like of shape (n_hidden,), default=None
        State bias; zeros when None.
    d : array-like of shape (n_outputs,), default=None
        Output bias; zeros when None.
    activation : {"relu", "leaky_relu", "tanh", "sigmoid"}, default="relu"
        The componentwise map ``phi``. ``leaky_relu`` has slope 0.01 below 0.

    Attributes
    ----------
    A, B, C, D, b, d : ndarray
        Copies of the parameters, as float64 arrays.
    activation : str
        Name of the activation map.

    See Also
    --------
    ImplicitRegressor : Learns an implicit model for regression.
    ImplicitClassifier : Learns an implicit model for classification.

    Notes
    -----
    ``A`` is accepted when ``gamma * lambda_pf(|A|) < 1``, where ``gamma`` is
    the activation's Lipschitz constant (1, or 1/4 for the sigmoid) and
    ``lambda_pf`` the Perron-Frobenius eigenvalue (Theorems 2.2 and 2.7 of the
    reference), or when ``A`` is strictly triangular, as the models of
    feed-forward networks are (Theorem 2.8). In both cases the equilibrium has
    a unique solution for every input and the fixed-point iteration from
    ``h = 0`` converges to it; with ``||A||_inf <= kappa < 1`` it converges at
    least as fast as ``kappa ** k``.

    References
    ----------
    L. El Ghaoui, F. Gu, B. Travacca, A. Askari and A. Y. Tsai, "Implicit Deep
    Learning", SIAM Journal on Mathematics of Data Science 3(3), 2021.

    Examples
    --------
    A one-state model with ``A = 0`` is a single ReLU unit plus a linear term:

    >>> import numpy as np
    >>> from sklearn_implicit import ImplicitModel
    >>> model = ImplicitModel(
    ...     A=[[0.5]], B=[[1.0, -1.0]], C=[[2.0]], D=[[0.0, 1.0]]
    ... )
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> model.hidden_state(X, tol=1e-12)
    array([[2.],
           [0.]])
    >>> model.predict(X, tol=1e-12)
    array([[4.],
           [1.]])
    """

    def __init__(self, A, B, C, D, b=None, d=None, *, activation="relu"):
        _check_activation(activation)
        self.A = _as_matrix(A, "A")
        n_hidden = self.A.shape[0]
        if self.A.shape[1] != n_hidden:
            raise ValueError(f"A must be square, got shape {self.A.shape}.")
        self._set_input_output(n_hidden, B, C, D, b, d, activation)
        _check_well_posed(self.A, activation)

    def _set_input_output(self, n_hidden, B, C, D, b, d, activation):
        # Copy and check every parameter but the state-to-state matrix.
        self.B = _as_matrix(B, "B", n_rows=n_hidden)
        self.C = _as_matrix(C, "C", n_columns=n_hidden)
        self.D = _as_matrix(D, "D", self.C.shape[0], self.B.shape[1])
        self.b = _as_vector(b, "b", n_hidden)
        self.d = _as_vector(d, "d", self.C.shape[0])
        self.activation = activation

    @property
    def n_hidden(self):
        """Dimension of the hidden state."""
        return self.A.shape[0]

    @property
    def n_features_in(self):
        """Number of input features."""
        return self.B.shape[1]

    @property
    def n_outputs(self):
        """Number of outputs."""
        return self.C.shape[0]

    def __repr__(self):
        return (
            f"ImplicitModel(n_hidden={self.n_hidden}, "
            f"n_features_in={self.n_features_in}, n_outputs={self.n_outputs}, "
            f"activation={self.activation!r})"
        )

    def _check_input(self, X):
        X = check_array(X, accept_sparse=["csr", "csc"], dtype=np.float64, order="C")
        if X.shape[1] != self.n_features_in:
            raise ValueError(
                f"X has {X.shape[1]} features, but this ImplicitModel expects "
                f"{self.n_features_in} features as input."
            )
        return X

    def _solve(self, X, tol, max_iter, parameter="max_iter", stacklevel=4):
        # States, outputs and per-row iterations, warning on unsettled rows.
        # The estimators name their own parameter for the iteration budget.
        tol = check_scalar(tol, "tol", Real, min_val=0, include_boundaries="neither")
        if not np.isfinite(tol):
            raise ValueError(f"tol must be a finite positive number, got {tol!r}.")
        max_iter = check_scalar(max_iter, parameter, Integral, min_val=1)
        tol, max_iter = float(tol), int(max_iter)
        X = self._check_input(X)
        H, out, n_iter, residual = self._equilibrium(X, tol, max_iter)
        warn_unsettled(residual, tol, max_iter, parameter, stacklevel=stacklevel)
        return H, out, n_iter

    def _equilibrium(self, X, tol, max_iter):
        # States, outputs, per-row iterations and residuals of the solve.
        code = ACTIVATIONS[self.activation].code
        if hasattr(X, "toarray"):
            drive = X @ self.B.T + self.b
            H, n_iter, residual = solve_fixed_point(
                self.A, drive, np.empty((0, self.n_hidden)), code, tol, max_iter
            )
            out = H @ self.C.T + X @ self.D.T + self.d
        else:
            A, B, C, D, b, d = self.A, self.B, self.C, self.D, self.b, self.d
            H0 = np.empty((0, self.n_hidden))
            H, out, n_iter, residual = predict(
                A, B, C, D, b, d, writable(X), H0, code, tol, max_iter
            )
        return H, out, n_iter, residual

    def hidden_state(self, X, *, tol=1e-6, max_iter=1000, return_n_iter=False):
        """Solve the equilibrium equation for every row of ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input rows.
        tol : float, default=1e-6
            Relative tolerance: a row stops once its state moved by at most
            ``tol`` times the larger of its max-norm and that of the row's
            first iterate.
        max_iter : int, default=1000
            Largest number of fixed-point iterations for one row.
        return_n_iter : bool, default=False
            Whether to also return the iterations each row took.

        Returns
        -------
        H : ndarray of shape (n_samples, n_hidden)
            The equilibrium states.
        n_iter : ndarray of shape (n_samples,)
            Iterations per row; only returned if ``return_n_iter`` is True.

        Warns
        -----
        ConvergenceWarning
            When some rows have not settled after ``max_iter`` iterations,
            with the number of such rows and the worst relative change.
        """
        H, _, n_iter = self._solve(X, tol, max_iter)
        return (H, n_iter) if return_n_iter else H

    def predict(self, X, *, tol=1e-6, max_iter=1000):
        """Predict ``H C^T + X D^T + d`` for every row of ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input rows.
        tol : float, default=1e-6
            Relative tolerance of the equilibrium solve, see `hidden_state`.
        max_iter : int, default=1000
            Largest number of fixed-point iterations for one row.

        Returns
        -------
        Y : ndarray of shape (n_samples, n_outputs)
            Predicted outputs.

        Raises
        ------
        FloatingPointError
            When the states or the outputs of some row overflow float64.
        """
        return check_outputs(self._solve(X, tol, max_iter)[1])


def check_outputs(out):
    """Return the outputs of a solve, or raise if some row is not finite.

    The inputs and the states were finite, so a non-finite output means that
    ``C h + D x + d`` overflowed float64.

    Parameters
    ----------
    out : ndarray of shape (n_samples, n_outputs)
        Outputs of `ImplicitModel._solve`.

    Returns
    -------
    out : ndarray of shape (n_samples, n_outputs)
        The same array.

    Raises
    ------
    FloatingPointError
        When some output is inf or NaN.
    """
    overflowed = ~np.isfinite(out).all(axis=1)
    if overflowed.any():
        raise FloatingPointError(
            "The outputs C h + D x + d overflowed float64 for "
            f"{overflowed.sum()} of {out.shape[0]} rows, although their states "
            "are finite; check that the inputs and the model matrices are of "
            "reasonable magnitude."
        )
    return out


def warn_unsettled(residual, tol, max_iter, parameter, rows="rows", stacklevel=3):
    """Warn when some rows of fixed-point solves did not reach ``tol``.

    Parameters
    ----------
    residual : ndarray of shape (n_rows,)
        Relative change of each row at its last iteration.
    tol : float
        The tolerance the rows had to reach.
    max_iter : int
        The iteration budget that was spent.
    parameter : str
        Name of the parameter the user can raise, for the message.
    rows : str, default="rows"
        What the entries of ``residual`` are, for the message.
    stacklevel : int, default=3
        Passed to `warnings.warn`.

    Raises
    ------
    FloatingPointError
        When some residual is not finite: the states overflowed.
    """
    unsettled = ~(residual <= tol)
    if not unsettled.any():
        return
    if not np.isfinite(residual).all():
        raise FloatingPointError(
            "The equilibrium solve produced non-finite states; check that the "
            "inputs and the model matrices are of reasonable magnitude."
        )
    worst = residual.max()
    advice = f"Increase {parameter}."
    if worst <= _ROUNDING_LEVEL:
        advice = (
            f"A change this small is rounding error, which more iterations do "
            f"not remove: raise {parameter.replace('max_iter', 'tol')} above it."
        )
    warnings.warn(
        f"The fixed-point solve did not converge for {unsettled.sum()} of "
        f"{residual.size} {rows} after {max_iter} iterations: the worst "
        f"relative change is {worst:.3g}, above tol={tol:.3g}. {advice}",
        ConvergenceWarning,
        stacklevel=stacklevel,
    )
