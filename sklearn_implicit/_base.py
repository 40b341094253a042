# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Parameters, validation and the training loop shared by the estimators."""

import functools
import warnings
from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state, gen_batches
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import ThreadpoolController

from sklearn_implicit._activations import ACTIVATIONS
from sklearn_implicit._kernels._equilibrium import predict
from sklearn_implicit._kernels._least_squares import ridge_on_states
from sklearn_implicit._kernels._projection import project_inf_ball
from sklearn_implicit._model import check_outputs, warn_unsettled, writable
from sklearn_implicit._solvers._gradient import ParameterLayout, loss_and_gradient
from sklearn_implicit._solvers._optimizers import (
    AdamOptimizer,
    FrankWolfeOptimizer,
    SGDOptimizer,
)
from sklearn_implicit._solvers._penalties import Penalties
from sklearn_implicit.utils._compat import Interval, StrOptions


class _BaseImplicit(BaseEstimator, metaclass=ABCMeta):
    """Base class of the implicit estimators: fit, partial_fit and training.

    Subclasses set ``_loss`` and implement the target encoding, the
    validation score and the prediction.
    """

    _parameter_constraints: dict = {
        "n_hidden": [Interval(Integral, 1, None, closed="left")],
        "kappa": [Interval(Real, 0, 1, closed="neither")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "solver": [StrOptions({"adam", "sgd", "frank_wolfe"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "alpha_l1": [Interval(Real, 0, None, closed="left")],
        "alpha_features": [Interval(Real, 0, None, closed="left")],
        "alpha_states": [Interval(Real, 0, None, closed="left")],
        "alpha_robust": [Interval(Real, 0, None, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "shuffle": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "fixed_point_tol": [Interval(Real, 0, None, closed="neither")],
        "fixed_point_max_iter": [Interval(Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    @abstractmethod
    def __init__(
        self,
        n_hidden,
        *,
        kappa,
        activation,
        solver,
        alpha,
        alpha_l1,
        alpha_features,
        alpha_states,
        alpha_robust,
        batch_size,
        learning_rate_init,
        max_iter,
        tol,
        n_iter_no_change,
        early_stopping,
        validation_fraction,
        shuffle,
        momentum,
        beta_1,
        beta_2,
        epsilon,
        fixed_point_tol,
        fixed_point_max_iter,
        warm_start,
        random_state,
        verbose,
    ):
        self.n_hidden = n_hidden
        self.kappa = kappa
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.alpha_l1 = alpha_l1
        self.alpha_features = alpha_features
        self.alpha_states = alpha_states
        self.alpha_robust = alpha_robust
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.shuffle = shuffle
        self.momentum = momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.fixed_point_tol = fixed_point_tol
        self.fixed_point_max_iter = fixed_point_max_iter
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose

    @abstractmethod
    def _encode_targets(self, y, reset, incremental, classes=None):
        """Return the targets as a 2D float array for the loss.

        ``reset`` starts afresh; otherwise training continues, by
        `partial_fit` when ``incremental`` and by a warm-started `fit` when
        not.
        """

    @abstractmethod
    def _initial_output(self, Y):
        """Return the output bias ``d`` to start from."""

    @abstractmethod
    def _finish_model(self):
        """Set ``model_`` from the trained parameters ``_coef``."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def _validate_input(self, X, y, reset):
        X, y = validate_data(
            self,
            X,
            y,
            reset=reset,
            accept_sparse=["csr", "csc"],
            dtype=np.float64,
            order="C",
            multi_output=True,
            y_numeric=self._loss == "squared_error",
        )
        if hasattr(X, "tocsr"):
            X = X.tocsr()
        return X, y

    def _initialize(self, X, Y, rng):
        # Glorot-uniform input and output weights. Each state's bias puts the
        # hyperplane B_i x + b_i = 0 through a random training row, so that
        # every unit starts active on part of the data. A starts at 0: the
        # first model is a one-hidden-layer network plus the linear term D,
        # and training grows the state-to-state couplings it needs.
        n, p, q = int(self.n_hidden), X.shape[1], Y.shape[1]
        self._layout = ParameterLayout(n, p, q)
        self._coef = np.zeros(self._layout.size)
        A, B, C, D, b, d = self._layout.unpack(self._coef)

        bound = np.sqrt(6 / (p + n))
        B[:] = rng.uniform(-bound, bound, B.shape)
        anchors = X[rng.randint(0, X.shape[0], size=n)]
        if hasattr(anchors, "toarray"):
            anchors = anchors.toarray()
        b[:] = -np.einsum("ij,ij->i", B, anchors)
        bound = np.sqrt(6 / (n + q))
        C[:] = rng.uniform(-bound, bound, C.shape)
        d[:] = self._initial_output(Y)

    def _make_optimizer(self):
        if self.solver == "adam":
            return AdamOptimizer(
                self._layout.size,
                self.learning_rate_init,
                self.beta_1,
                self.beta_2,
                self.epsilon,
            )
        if self.solver == "frank_wolfe":
            return FrankWolfeOptimizer(
                self._layout,
                self.kappa,
                self.learning_rate_init,
                self.beta_1,
                self.beta_2,
                self.epsilon,
            )
        return SGDOptimizer(self._layout.size, self.learning_rate_init, self.momentum)

    def _penalties(self, n_samples):
        # The non-smooth penalties, per training row like alpha.
        return Penalties(
            self._layout,
            l1=self.alpha_l1 / n_samples,
            features=self.alpha_features / n_samples,
            states=self.alpha_states / n_samples,
            robust=self.alpha_robust / n_samples,
        )

    def _fit(self, X, y, incremental, classes=None):
        penalised = [
            name
            for name in ("alpha_l1", "alpha_features", "alpha_states", "alpha_robust")
            if getattr(self, name) > 0
        ]
        if self.solver == "block" and penalised:
            raise ValueError(
                f"solver='block' sets C and D by ridge regression, which "
                f"ignores {', '.join(penalised)}; use solver='adam' (or 'sgd', "
                f"'frank_wolfe') with these penalties, or set them to 0."
            )
        if incremental and self.early_stopping:
            raise ValueError(
                "partial_fit does not support early_stopping=True: a single "
                "epoch has no validation history to stop on. Set "
                "early_stopping=False, or use fit."
            )
        continues = self.warm_start or incremental
        if continues and hasattr(self, "model_") and not hasattr(self, "_coef"):
            raise ValueError(
                f"{type(self).__name__}.model_ was set outside training (as "
                "ImplicitCompressor does for its estimator_), so "
                f"{'partial_fit' if incremental else 'warm_start'} has no "
                "training state to continue. Call fit with warm_start=False to "
                "train afresh."
            )
        first_call = not (hasattr(self, "_coef") and continues)
        if not first_call and self._layout.dimensions[0] != self.n_hidden:
            raise ValueError(
                f"n_hidden={self.n_hidden} differs from the {self.model_.n_hidden} "
                "hidden states of the fitted model, which warm_start and "
                "partial_fit continue. Fit with warm_start=False to start afresh."
            )
        X, y = self._validate_input(X, y, reset=first_call)
        Y = self._encode_targets(y, first_call, incremental, classes=classes)
        rng = check_random_state(self.random_state)

        if first_call:
            self._initialize(X, Y, rng)
            self.n_iter_ = 0
            self.t_ = 0
            self.loss_curve_ = []
            self.best_loss_ = np.inf
            self.validation_scores_ = [] if self.early_stopping else None
            self.best_validation_score_ = -np.inf if self.early_stopping else None
        elif self.early_stopping and self.validation_scores_ is None:
            # Early stopping was switched on after the first fit.
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
        if first_call or not incremental or not hasattr(self, "_optimizer"):
            previous = None if first_call else getattr(self, "_optimizer", None)
            self._optimizer = self._make_optimizer()
            if isinstance(previous, FrankWolfeOptimizer) and isinstance(
                self._optimizer, FrankWolfeOptimizer
            ):
                # A warm start continues the conditional-gradient schedule:
                # its first step, of size 1, would replace A by a vertex.
                self._optimizer.t = previous.t

        if self.early_stopping:
            stratify = y if self._loss == "log_loss" else None
            X, X_val, Y, Y_val = train_test_split(
                X,
                Y,
                random_state=rng,
                test_size=self.validation_fraction,
                stratify=stratify,
            )
            if X_val.shape[0] < 2:
                raise ValueError(
                    f"The validation set has {X_val.shape[0]} row; early stopping "
                    "needs at least 2. Increase validation_fraction or provide "
                    "more data."
                )
        # Training multiplies small matrices, for which BLAS threads gain
        # little on an idle machine and, spinning while they wait, cost up to
        # 40x per epoch on a busy one: train on one thread.
        with _blas_controller().limit(limits=1, user_api="blas"):
            self._train(
                X, Y, rng, incremental, (X_val, Y_val) if self.early_stopping else None
            )
        self._finish_model()
        return self

    def _train(self, X, Y, rng, incremental, validation):
        n_samples = X.shape[0]
        if self.batch_size == "auto":
            batch_size = min(200, n_samples)
        else:
            if self.batch_size > n_samples:
                warnings.warn(
                    f"batch_size={self.batch_size} exceeds the {n_samples} "
                    "training rows; every epoch takes them as one batch.",
                    UserWarning,
                    stacklevel=5,
                )
            batch_size = min(self.batch_size, n_samples)
        best_coef = self._coef.copy() if validation is not None else None
        unsettled = _UnsettledRows(self.fixed_point_tol)
        n_hidden = self._layout.dimensions[0]
        starts = None
        if not incremental and n_samples * n_hidden <= _MAX_CACHED_STATES:
            starts = _StartingPoints(n_samples, n_hidden)

        n_epochs = 1 if incremental else self.max_iter
        no_improvement = 0
        for _ in range(n_epochs):
            loss, n_iter = self._run_epoch(X, Y, rng, batch_size, starts, unsettled)
            self.n_iter_ += 1
            self.t_ += n_samples
            self.loss_curve_.append(loss)
            if starts is not None:
                starts.ready = True

            improved = loss < self.best_loss_ - self.tol
            self.best_loss_ = min(self.best_loss_, loss)
            if validation is not None:
                score = self._validation_score(*validation)
                self.validation_scores_.append(score)
                improved = score > self.best_validation_score_ + self.tol
                if score > self.best_validation_score_:
                    self.best_validation_score_ = score
                    best_coef[:] = self._coef
            no_improvement = 0 if improved else no_improvement + 1

            if self.verbose:
                print(
                    f"Epoch {self.n_iter_}, loss = {loss:.8f}, mean fixed-point "
                    f"iterations: {n_iter[0]:.1f} forward, {n_iter[1]:.1f} adjoint"
                )
            if no_improvement > self.n_iter_no_change:
                if self.verbose:
                    print(
                        f"The {'loss' if validation is None else 'validation score'} "
                        f"did not improve by more than tol={self.tol} for "
                        f"{self.n_iter_no_change} consecutive epochs. Stopping."
                    )
                break
        else:
            if not incremental:
                warnings.warn(
                    f"Training stopped at max_iter={self.max_iter} epochs "
                    "before the loss settled; increase max_iter.",
                    ConvergenceWarning,
                    stacklevel=5,
                )

        if validation is not None:
            self._coef[:] = best_coef
        _check_diverged(np.sum(self._coef), self.n_iter_)
        unsettled.warn(self.fixed_point_max_iter)

    def _run_epoch(self, X, Y, rng, batch_size, starts, unsettled):
        # One pass over the data: implicit gradient, optimizer step and
        # projection of A per mini-batch. Returns the mean loss and the mean
        # iterations of the forward and adjoint solves.
        n_samples = X.shape[0]
        coef = self._coef
        grad = np.empty_like(coef)
        A = self._layout.unpack(coef)[0]
        penalties = self._penalties(n_samples)
        order = rng.permutation(n_samples) if self.shuffle else np.arange(n_samples)
        total_loss = 0.0
        n_iter = np.zeros(2)

        for batch in gen_batches(n_samples, batch_size):
            rows = order[batch]
            H0, V0 = (None, None) if starts is None else starts.get(rows)
            value, result = loss_and_gradient(
                coef,
                grad,
                self._layout,
                X[rows],
                Y[rows],
                loss=self._loss,
                activation=self.activation,
                l2=self.alpha / n_samples,
                tol=self.fixed_point_tol,
                max_iter=self.fixed_point_max_iter,
                H0=H0,
                V0=V0,
            )
            if self.solver == "block":
                # Only the state parameters take gradient steps; with zero
                # gradients, Adam and momentum leave C, D and d where they are.
                for part in self._layout.output_slices:
                    grad[part] = 0.0
            if penalties.active:
                value += penalties.value(coef)
                penalties.add_subgradient(coef, grad)
            _check_diverged(value, self.n_iter_ + 1)
            self._optimizer.step(coef, grad)
            if penalties.active:
                penalties.prox(coef, self._optimizer.steps())
            A[:] = project_inf_ball(A, self.kappa)

            if starts is not None:
                starts.store(rows, result.H, result.V)
            total_loss += value * rows.size
            n_iter += result.forward[0].sum(), result.adjoint[0].sum()
            unsettled.add(result.forward[1])
            unsettled.add(result.adjoint[1])

        if self.solver == "block":
            self._solve_output_layer(X, Y, starts, unsettled)
        return total_loss / n_samples, n_iter / n_samples

    def _solve_output_layer(self, X, Y, starts, unsettled):
        # The closed-form block of the block-coordinate scheme: states of all
        # training rows, then (C, D, d) by regularised least squares.
        A, B, C, D, b, d = self._layout.unpack(self._coef)
        X = X.toarray() if hasattr(X, "toarray") else writable(X)
        ready = starts is not None and starts.ready
        H0 = starts.H if ready else np.empty((0, A.shape[0]))
        H, _, _, residual = predict(
            A,
            B,
            C,
            D,
            b,
            d,
            X,
            H0,
            ACTIVATIONS[self.activation].code,
            self.fixed_point_tol,
            self.fixed_point_max_iter,
        )
        unsettled.add(residual)
        C[:], D[:], d[:] = ridge_on_states(H, X, Y, self.alpha)

    def _validation_score(self, X_val, Y_val):
        model = self._layout.to_model(self._coef, self.activation)
        out = model.predict(
            X_val, tol=self.fixed_point_tol, max_iter=self.fixed_point_max_iter
        )
        return self._score_outputs(Y_val, out)

    def _decision(self, X):
        check_is_fitted(self)
        X = validate_data(
            self,
            X,
            reset=False,
            accept_sparse=["csr", "csc"],
            dtype=np.float64,
            order="C",
        )
        # Warnings point at the caller of predict, predict_proba and the like.
        _, out, _ = self.model_._solve(
            X,
            self.fixed_point_tol,
            self.fixed_point_max_iter,
            parameter="fixed_point_max_iter",
            stacklevel=5,
        )
        return check_outputs(out)


@functools.cache
def _blas_controller():
    # Built once, on the first fit: finding the loaded BLAS libraries takes
    # about a millisecond, more than a small partial_fit step.
    return ThreadpoolController()


def _check_diverged(value, epoch):
    # Raise when training left the finite numbers: a loss, or a sum of the
    # parameters, that is inf or NaN.
    if not np.isfinite(value):
        raise ValueError(
            f"Training diverged at epoch {epoch}: the loss or the parameters "
            "are no longer finite. Scale the input data, or lower "
            "learning_rate_init."
        )


# Largest n_samples * n_hidden for which training keeps every row's states
# between epochs (two float64 arrays of that size, 128 MiB in all).
_MAX_CACHED_STATES = 2**23


class _StartingPoints:
    """Every training row's last equilibrium and adjoint states.

    Once ``ready`` (after the first epoch), both solves of a row start where
    they ended in the previous epoch: the parameters have moved little since,
    so far fewer iterations are needed than from zero.
    """

    def __init__(self, n_samples, n_hidden):
        self.H = np.zeros((n_samples, n_hidden))
        self.V = np.zeros((n_samples, n_hidden))
        self.ready = False

    def get(self, rows):
        return (self.H[rows], self.V[rows]) if self.ready else (None, None)

    def store(self, rows, H, V):
        self.H[rows] = H
        self.V[rows] = V


class _UnsettledRows:
    """Rows of the solves of a training run that ended above tolerance."""

    def __init__(self, tol):
        self.tol = tol
        self.n_rows = 0
        self.unsettled = []

    def add(self, residual):
        self.n_rows += residual.size
        if not residual.max() <= self.tol:
            self.unsettled.append(residual[~(residual <= self.tol)])

    def warn(self, max_iter):
        if self.unsettled:
            residual = np.zeros(self.n_rows)
            unsettled = np.concatenate(self.unsettled)
            residual[: unsettled.size] = unsettled
            warn_unsettled(
                residual,
                self.tol,
                max_iter,
                "fixed_point_max_iter",
                rows="row solves of training (forward and adjoint, all epochs)",
                stacklevel=7,
            )
