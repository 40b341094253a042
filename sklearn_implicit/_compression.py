# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Compression of a fitted implicit model: fewer states, or a low-rank ``A``."""

import copy
from numbers import Integral

import numpy as np
from scipy import linalg, sparse
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    MetaEstimatorMixin,
    TransformerMixin,
    clone,
)
from sklearn.exceptions import NotFittedError
from sklearn.utils import Bunch
from sklearn.utils.validation import check_is_fitted, validate_data

from sklearn_implicit._activations import ACTIVATIONS, apply_activation
from sklearn_implicit._kernels._equilibrium import predict_low_rank, solve_low_rank
from sklearn_implicit._kernels._least_squares import centred_gram, ridge_on_states
from sklearn_implicit._model import (
    ImplicitModel,
    _as_matrix,
    _check_activation,
    _check_well_posed,
    perron_frobenius,
    writable,
)
from sklearn_implicit.analysis._model_error import perturbed_model_bound
from sklearn_implicit.utils._compat import HasMethods, Interval, _fit_context
from sklearn_implicit.utils._validation import check_prefit_feature_names

# Tolerance and budget of the reference solves on the training data: the
# states that the bounds start from and that the output layer is fitted on.
_TIGHT_TOL = 1e-10
_TIGHT_MAX_ITER = 10_000

# Ridge penalty per training row of the output-layer fit: only a safeguard
# against collinear states, such as dead ReLU units.
_OUTPUT_RIDGE = 1e-4


class LowRankImplicitModel(ImplicitModel):
    """An implicit model whose ``A`` is held as a factorisation ``L R^T``.

    The equilibrium ``h = phi(L R^T h + B x + b)`` is solved through the
    reduced state ``z = R^T h`` of dimension ``k`` (section 5.3 of the
    reference), at a cost of ``O(k n)`` per iteration instead of ``O(n^2)``.
    Everything else behaves as in `ImplicitModel`; ``A`` is formed on demand.

    Parameters
    ----------
    L, R : array-like of shape (n_hidden, k)
        Factors of ``A = L R^T``.
    B, C, D, b, d, activation
        As in `ImplicitModel`.

    Notes
    -----
    ``L R^T`` must pass `ImplicitModel`'s well-posedness test. This is weaker
    than the condition ``lambda_pf(|R|^T |L|) < 1`` of section 5.3, which
    implies it: ``|L R^T| <= |L| |R|^T`` and ``|L| |R|^T`` has the same
    Perron-Frobenius eigenvalue as ``|R|^T |L|``. The reduced iteration
    visits exactly the states of the full one, so the same test ensures
    that it converges.
    """

    def __init__(self, L, R, B, C, D, b=None, d=None, *, activation="relu"):
        _check_activation(activation)
        self.L = _as_matrix(L, "L")
        n_hidden = self.L.shape[0]
        self.R = _as_matrix(R, "R", n_hidden, self.L.shape[1])
        self._set_input_output(n_hidden, B, C, D, b, d, activation)
        _check_well_posed(self.A, activation)

    @property
    def A(self):
        """The state-to-state matrix ``L R^T``."""
        return self.L @ self.R.T

    @property
    def n_hidden(self):
        """Dimension of the hidden state."""
        return self.L.shape[0]

    @property
    def rank(self):
        """Number of columns ``k`` of the factors."""
        return self.L.shape[1]

    def __repr__(self):
        return (
            f"LowRankImplicitModel(n_hidden={self.n_hidden}, rank={self.rank}, "
            f"n_features_in={self.n_features_in}, n_outputs={self.n_outputs}, "
            f"activation={self.activation!r})"
        )

    def _equilibrium(self, X, tol, max_iter):
        code = ACTIVATIONS[self.activation].code
        if hasattr(X, "toarray"):
            drive = np.ascontiguousarray(X @ self.B.T + self.b)
            H, n_iter, residual = solve_low_rank(
                self.L, self.R, drive, code, tol, max_iter
            )
            out = H @ self.C.T + X @ self.D.T + self.d
            return H, out, n_iter, residual
        L, R, B, C, D, b, d = self.L, self.R, self.B, self.C, self.D, self.b, self.d
        return predict_low_rank(L, R, B, C, D, b, d, writable(X), code, tol, max_iter)


def _n_parameters(model):
    n, p, q = model.n_hidden, model.n_features_in, model.n_outputs
    state = 2 * n * model.rank if isinstance(model, LowRankImplicitModel) else n * n
    return state + n * p + q * n + q * p + n + q


def _implicit_model(estimator):
    model = getattr(estimator, "model_", None)
    if not isinstance(model, ImplicitModel):
        raise TypeError(
            "estimator must be an implicit estimator whose fitted model_ is an "
            "ImplicitModel, such as ImplicitClassifier; got "
            f"{type(estimator).__name__}."
        )
    return model


def _redundant_states(model):
    # Section 5.2. A state whose row of (A, B) is zero is the constant
    # phi(b_i): it is folded into the biases of the others. A state whose
    # column of (A; C) is zero on the states that remain feeds nothing; its
    # removal may leave others feeding nothing, hence the loop. Returns the
    # mask of states to keep and the values of the constant ones.
    A, B = model.A, model.B
    constant = ~A.any(axis=1) & ~B.any(axis=1)
    values = np.zeros(model.n_hidden)
    values[constant] = apply_activation(model.b[constant], model.activation)

    kept = ~constant
    while True:
        feeds = A[kept][:, kept].any(axis=0) | model.C[:, kept].any(axis=0)
        if feeds.all():
            return kept, values
        kept[np.flatnonzero(kept)[~feeds]] = False


def _state_scores(A, C, H, lipschitz):
    # For each state, the sum over outputs of the Theorem 5.1 output bound
    # when that state alone is removed, averaged over the rows: its column
    # of A drives the others through (I - gamma |A|)^{-1}, its column of C
    # reaches the outputs directly, both scaled by |h_i|.
    abs_A = np.abs(A)
    direct = np.abs(C).sum(axis=0)
    if perron_frobenius(lipschitz * abs_A) < 1:
        weights = linalg.solve(
            np.eye(A.shape[0]) - lipschitz * abs_A.T, lipschitz * direct
        )
    else:
        weights = lipschitz * direct
    return np.abs(H).mean(axis=0) * (direct + weights @ abs_A)


def _refit_scores(H, X, Y, alpha):
    # For each state, how much the fit of the output layer by
    # ridge_on_states (squared residuals plus alpha ||(C, D)||^2) worsens
    # when that state alone is removed and the fit redone, the other states
    # held at their values. With G the regularised Gram matrix of the
    # centred features (H, X) and W the fitted weights, removing feature i
    # costs ||W_i||^2 / (G^{-1})_ii, the downdate of a least-squares fit by
    # one column.
    F, _, gram = centred_gram(H, X, alpha)
    inverse = linalg.cho_solve(linalg.cho_factor(gram), np.eye(gram.shape[0]))
    W = inverse @ (F.T @ (Y - Y.mean(axis=0)))
    n = H.shape[1]
    return (W[:n] ** 2).sum(axis=1) / np.diag(inverse)[:n]


def _factorize(A, rank, activation):
    # Truncated SVD, the best rank-k approximation in the 2- and Frobenius
    # norms, with the singular values on the left factor.
    if rank > A.shape[0]:
        raise ValueError(
            f"rank={rank} must not exceed the {A.shape[0]} hidden states kept."
        )
    U, s, Vt = linalg.svd(A)
    L, R = U[:, :rank] * s[:rank], Vt[:rank].T
    try:
        _check_well_posed(L @ R.T, activation)
    except ValueError as exc:
        raise ValueError(
            f"The rank-{rank} approximation of A is not known to be well-posed; "
            "increase rank."
        ) from exc
    return L, R


class ImplicitCompressor(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, MetaEstimatorMixin, BaseEstimator
):
    """Compress an implicit model: fewer hidden states, or a low-rank ``A``.

    The compressor fits an implicit estimator (or takes a fitted one with
    ``prefit=True``) and builds a smaller model of the same kind in three
    steps:

    1. States that section 5.2 of the reference shows to be redundant are
       removed exactly: a state whose row of ``(A, B)`` is zero is a constant,
       folded into the biases; a state whose column of ``(A; C)`` is zero
       feeds nothing.
    2. If ``n_hidden`` is given, the remaining states are ranked and only
       the ``n_hidden`` first are kept: the columns of ``A`` and ``C`` of
       the others are dropped, so that the kept states of the original
       equations become the states of a smaller model. With
       ``fit_output=True``, a state ranks by how much worse the refitted
       output layer (below) matches the original outputs on the training
       rows without it, the other states held at their values; with
       ``fit_output=False``, by the bound of Theorem 5.1 on the outputs'
       change when it alone is removed, averaged over the training rows.
    3. If ``rank`` is given, ``A`` is replaced by its truncated singular value
       decomposition ``L R^T`` (section 5.3), whose equilibrium is solved in
       the reduced state ``R^T h`` of dimension ``rank``.

    With ``fit_output=True``, the output layer ``(C, D, d)`` is then fitted by
    least squares (with a tiny ridge) so that the compressed model's outputs
    on the training rows match the original model's outputs, not the labels:
    the aim is to reproduce the original model, and a convex fit of the
    outputs (logits, for a classifier) does that for regressors and
    classifiers alike.

    The compressed estimator is `estimator_`; `transform` returns its hidden
    states. The change from the original model is bounded on the training
    rows (`state_error_bound_`, `output_error_bound_`) and on any rows
    (`error_bound`). The bounds compare exact equilibria, computed for them
    to a relative tolerance of 1e-10; predictions solved to the estimators'
    own ``fixed_point_tol`` may differ from those by about that tolerance,
    relative to the states, on top of the bound.

    Parameters
    ----------
    estimator : object
        An implicit estimator, such as `ImplicitClassifier` or
        `ImplicitRegressor`: after fitting, its ``model_`` is an
        `ImplicitModel`.
    n_hidden : int, default=None
        Number of hidden states to keep, at most the estimator's. None keeps
        every state that step 1 does not remove.
    rank : int, default=None
        Rank of the factorisation of ``A``, at most the number of states
        kept. None keeps ``A`` dense.
    fit_output : bool, default=True
        Whether to fit ``(C, D, d)`` of the compressed model to the original
        model's outputs on the training rows.
    prefit : bool, default=False
        Whether ``estimator`` is already fitted. If True, `fit` does not fit
        it again; ``y`` is then unused.

    Attributes
    ----------
    estimator_ : estimator
        A fitted copy of ``estimator`` whose ``model_`` is the compressed
        model (a `LowRankImplicitModel` when ``rank`` is set); it predicts
        with the compressed rule. It keeps no training state: fitting it
        again starts afresh.
    n_hidden_ : int
        Number of hidden states of the compressed model.
    rank_ : int or None
        Rank of the factorisation of ``A``, or None when ``A`` is dense.
    kept_states_ : ndarray of shape (`n_hidden_`,)
        Indices of the kept states among the original model's states.
    n_parameters_ : int
        Number of parameters of the compressed model: ``A`` (or ``L`` and
        ``R``), ``B``, ``C``, ``D``, ``b`` and ``d``.
    compression_ratio_ : float
        Parameters of the original model divided by ``n_parameters_``.
    state_error_bound_ : ndarray of shape (`n_hidden_`,)
        For every kept state, the largest over the training rows of the
        Theorem 5.1 bound on ``|h'_i - h_i|``, the change of that state
        between the original and the compressed model.
    output_error_bound_ : ndarray of shape (n_outputs,)
        For every output (class score, for a classifier), the largest over
        the training rows of the bound on its change.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column
        names.

    See Also
    --------
    sklearn_implicit.analysis.model_error_bound : The bound used here.
    ImplicitClassifier : An implicit estimator to compress.

    Notes
    -----
    The bounds compare the original model with the compressed one embedded
    in the original state space (removed states have zero columns in ``A``
    and ``C``; a low-rank ``A`` is ``L R^T`` on the kept states), so that
    `sklearn_implicit.analysis.model_error_bound` applies; it needs
    ``lambda_pf(gamma |A'|) < 1`` for the compressed ``A'``. Its output bound,
    ``|y' - y| <= |C'| |h' - h| + |(C' - C) h + (D' - D) x + (d' - d)|``,
    keeps the signs of the known second term and so stays small when the
    output layer was refitted. For a classifier, a row keeps its
    predicted class whenever its margin between the two top scores exceeds
    the sum of the two largest output bounds.

    References
    ----------
    L. El Ghaoui, F. Gu, B. Travacca, A. Askari and A. Y. Tsai, "Implicit Deep
    Learning", SIAM Journal on Mathematics of Data Science 3(3), 2021.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_implicit import ImplicitClassifier, ImplicitCompressor
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> classifier = ImplicitClassifier(n_hidden=40, random_state=0).fit(X, y)
    >>> compressor = ImplicitCompressor(classifier, rank=10, prefit=True)
    >>> compressor.fit(X).transform(X).shape
    (569, 40)
    >>> compressor.rank_, round(compressor.compression_ratio_, 2)
    (10, 1.37)
    >>> bool(compressor.estimator_.score(X, y) > 0.97)
    True
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit"])],
        "n_hidden": [Interval(Integral, 1, None, closed="left"), None],
        "rank": [Interval(Integral, 1, None, closed="left"), None],
        "fit_output": ["boolean"],
        "prefit": ["boolean"],
    }

    def __init__(
        self, estimator, *, n_hidden=None, rank=None, fit_output=True, prefit=False
    ):
        self.estimator = estimator
        self.n_hidden = n_hidden
        self.rank = rank
        self.fit_output = fit_output
        self.prefit = prefit

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = not self.prefit
        tags.input_tags.sparse = True
        return tags

    def _validate_inputs(self, X, reset):
        # Dense float64 rows: the states, the refit and the bounds are dense
        # whatever the input, so a sparse X is densified once here.
        X = validate_data(
            self,
            X,
            reset=reset,
            accept_sparse=["csr", "csc"],
            dtype=np.float64,
            order="C",
        )
        return X.toarray() if sparse.issparse(X) else X

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Fit the estimator if needed, then compress its model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training inputs: the estimator is fitted on them (unless
            ``prefit``), the output layer is refitted on them and the bounds
            are computed over them.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None
            Targets of the estimator; unused when ``prefit`` is True.

        Returns
        -------
        self : object
            The fitted compressor.
        """
        X_user = X
        X = self._validate_inputs(X, reset=True)
        if self.prefit:
            try:
                check_is_fitted(self.estimator)
            except NotFittedError as exc:
                raise NotFittedError(
                    "With prefit=True, estimator must be fitted; call its fit "
                    "first, or use prefit=False."
                ) from exc
            check_prefit_feature_names(self, self.estimator)
            estimator = copy.deepcopy(self.estimator)
        else:
            # The user's X, so that the estimator keeps its feature names.
            estimator = clone(self.estimator).fit(X_user, y)
        model = _implicit_model(estimator)
        if model.n_features_in != X.shape[1]:
            raise ValueError(
                f"X has {X.shape[1]} features, but the estimator's model expects "
                f"{model.n_features_in}."
            )
        if self.n_hidden is not None and self.n_hidden > model.n_hidden:
            raise ValueError(
                f"n_hidden={self.n_hidden} must not exceed the {model.n_hidden} "
                "hidden states of the estimator's model."
            )

        H = model.hidden_state(X, tol=_TIGHT_TOL, max_iter=_TIGHT_MAX_ITER)
        Y = H @ model.C.T + X @ model.D.T + model.d
        kept, b, d = self._select_states(model, X, H, Y)
        compressed = self._compress(model, kept, b, d, X, Y)

        self._original = model
        self._embedded = self._embed(model, kept, compressed)
        self.kept_states_ = kept
        self.n_hidden_ = kept.size
        self.rank_ = compressed.rank if self.rank is not None else None
        self.n_parameters_ = _n_parameters(compressed)
        self.compression_ratio_ = _n_parameters(model) / self.n_parameters_

        for name in ("_coef", "_layout", "_optimizer"):
            estimator.__dict__.pop(name, None)
        estimator.model_ = compressed
        if "n_hidden" in estimator.get_params():
            estimator.set_params(n_hidden=int(kept.size))
        self.estimator_ = estimator

        bound = self._bound(X, H)
        self.state_error_bound_ = bound.state.max(axis=0, initial=0.0)
        self.output_error_bound_ = bound.output.max(axis=0, initial=0.0)
        return self

    def _select_states(self, model, X, H, Y):
        # Indices of the kept states, and the biases after folding the
        # constant states in. H and Y are the original model's states and
        # outputs on the training rows X.
        mask, values = _redundant_states(model)
        b, d = model.b + model.A @ values, model.d + model.C @ values
        kept = np.flatnonzero(mask)
        if kept.size == 0:
            raise ValueError(
                "The estimator's outputs do not depend on any of its hidden "
                "states (section 5.2 removes them all); a linear model of the "
                "inputs would do."
            )
        if self.n_hidden is not None and kept.size > self.n_hidden:
            if self.fit_output:
                alpha = _OUTPUT_RIDGE * X.shape[0]
                scores = _refit_scores(H[:, kept], X, Y, alpha)
            else:
                lipschitz = ACTIVATIONS[model.activation].lipschitz
                A, C = model.A[np.ix_(kept, kept)], model.C[:, kept]
                scores = _state_scores(A, C, H[:, kept], lipschitz)
            best = np.argsort(-scores, kind="stable")[: self.n_hidden]
            kept = np.sort(kept[best])
        return kept, b[kept], d

    def _compress(self, model, kept, b, d, X, Y):
        # The smaller model on the kept states, with A factorised and the
        # output layer refitted as asked.
        A, B, C, D = (
            model.A[np.ix_(kept, kept)],
            model.B[kept],
            model.C[:, kept],
            model.D,
        )
        if self.rank is None:
            state = {"A": A}
            build = ImplicitModel
        else:
            L, R = _factorize(A, self.rank, model.activation)
            state = {"L": L, "R": R}
            build = LowRankImplicitModel
        compressed = build(
            **state, B=B, C=C, D=D, b=b, d=d, activation=model.activation
        )
        if not self.fit_output:
            return compressed

        H_new = compressed.hidden_state(X, tol=_TIGHT_TOL, max_iter=_TIGHT_MAX_ITER)
        C, D, d = ridge_on_states(H_new, X, Y, _OUTPUT_RIDGE * X.shape[0])
        return build(**state, B=B, C=C, D=D, b=b, d=d, activation=model.activation)

    @staticmethod
    def _embed(model, kept, compressed):
        # The compressed model in the original state space: removed states
        # keep their rows but feed nothing, so the kept states solve exactly
        # the compressed equations.
        n = model.n_hidden
        dropped = np.setdiff1d(np.arange(n), kept)
        A = model.A.copy()
        A[:, dropped] = 0.0
        A[np.ix_(kept, kept)] = compressed.A
        b = model.b.copy()
        b[kept] = compressed.b
        C = np.zeros_like(model.C)
        C[:, kept] = compressed.C
        return ImplicitModel(
            A, model.B, C, compressed.D, b, compressed.d, activation=model.activation
        )

    def _bound(self, X, H):
        # Row-wise bounds on the kept states' and the outputs' changes, from
        # the original model's states H on X.
        bound = perturbed_model_bound(self._original, self._embedded, X, H)
        return Bunch(state=bound.state[:, self.kept_states_], output=bound.output)

    def error_bound(self, X):
        """Bound the change that compression makes on the rows of ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input rows.

        Returns
        -------
        bound : Bunch
            With the following entries:

            state : ndarray of shape (n_samples, `n_hidden_`)
                Bound on ``|h' - h|`` for every row and kept state, between
                the compressed and the original model's states.
            output : ndarray of shape (n_samples, n_outputs)
                Bound on the change ``|y' - y|`` of the model outputs (class
                scores, for a classifier).
        """
        check_is_fitted(self)
        X = self._validate_inputs(X, reset=False)
        H = self._original.hidden_state(X, tol=_TIGHT_TOL, max_iter=_TIGHT_MAX_ITER)
        return self._bound(X, H)

    def transform(self, X):
        """Return the compressed model's hidden states.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input rows.

        Returns
        -------
        H : ndarray of shape (n_samples, `n_hidden_`)
            Equilibrium states of the compressed model, solved with the
            estimator's ``fixed_point_tol`` and ``fixed_point_max_iter``
            when it has them.
        """
        check_is_fitted(self)
        X = self._validate_inputs(X, reset=False)
        return self.estimator_.model_.hidden_state(
            X,
            tol=getattr(self.estimator_, "fixed_point_tol", 1e-6),
            max_iter=getattr(self.estimator_, "fixed_point_max_iter", 1000),
        )

    @property
    def _n_features_out(self):
        return self.n_hidden_
