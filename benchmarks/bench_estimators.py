# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Training speed and accuracy of the implicit estimators beside scikit-learn's MLP.

Prints one JSON document with

* ``epochs``: for digits and breast cancer, the time per epoch of
  ``ImplicitClassifier`` and of ``MLPClassifier`` with the same hidden width
  and batch size, fitted alternately in this process, and the ratio of the
  two (median over repeats of the per-pair ratio);
* ``scores``: the test accuracy of both, fitted with their defaults on a
  75/25 split (the width is the one given, 100 by default);
* ``forward_solve``: the rate of the equilibrium solve, in products of the
  ``(rows, n_hidden) x (n_hidden, n_hidden)`` shape per second, against a
  plain GEMM of the same shape on the same BLAS, timed alternately (and
  against NumPy's GEMM, timed apart), for the trained digits model on a batch
  of the training size and on the whole test set, at the training tolerance
  and at 1e-10; and the same rate for the iterations alone, without what a
  solve pays once.

Usage::

    python benchmarks/bench_estimators.py [--n-hidden 100] [--batch-size 100]
"""

import argparse
import json
import time
import warnings

import numpy as np
from numba import njit
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from sklearn_implicit import ImplicitClassifier
from sklearn_implicit._activations import ACTIVATIONS
from sklearn_implicit._kernels._equilibrium import solve_fixed_point

DATASETS = {"digits": load_digits, "breast_cancer": load_breast_cancer}


def load(name, random_state=0):
    X, y = DATASETS[name](return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=random_state
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def seconds_per_epoch(estimator, X, y):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X, y)
    return (time.perf_counter() - start) / estimator.n_iter_


def compare_epochs(X, y, n_hidden, batch_size, n_epochs, n_repeats):
    # Fixed epoch counts (no early stop), alternating the two models so that
    # both see the same machine load.
    common = dict(
        batch_size=batch_size,
        max_iter=n_epochs,
        tol=0.0,
        n_iter_no_change=n_epochs,
        random_state=0,
    )
    implicit = ImplicitClassifier(n_hidden, **common)
    mlp = MLPClassifier(hidden_layer_sizes=(n_hidden,), **common)
    seconds_per_epoch(implicit, X, y)
    seconds_per_epoch(mlp, X, y)

    times = {"implicit": [], "mlp": []}
    for _ in range(n_repeats):
        times["implicit"].append(seconds_per_epoch(implicit, X, y))
        times["mlp"].append(seconds_per_epoch(mlp, X, y))
    ratios = np.array(times["implicit"]) / np.array(times["mlp"])
    return {
        "implicit_ms_per_epoch": 1e3 * float(np.median(times["implicit"])),
        "mlp_ms_per_epoch": 1e3 * float(np.median(times["mlp"])),
        "ratio": float(np.median(ratios)),
        "ratio_min": float(ratios.min()),
        "ratio_max": float(ratios.max()),
    }


def compare_scores(X_train, X_test, y_train, y_test, n_hidden):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        implicit = ImplicitClassifier(n_hidden, random_state=0).fit(X_train, y_train)
        mlp = MLPClassifier(hidden_layer_sizes=(n_hidden,), random_state=0)
        mlp.fit(X_train, y_train)
    return {
        "implicit": implicit.score(X_test, y_test),
        "mlp": mlp.score(X_test, y_test),
        "implicit_norm_A": float(np.abs(implicit.model_.A).sum(axis=1).max()),
    }, implicit


@njit
def _gemm_loop(H, AT, out, repeats):
    for _ in range(repeats):
        np.dot(H, AT, out)


@njit
def _solve_loop(A, drive, H0, activation, tol, max_iter, repeats):
    for _ in range(repeats):
        solve_fixed_point(A, drive, H0, activation, tol, max_iter)


def aligned(array):
    """A C-contiguous copy of ``array`` that starts on a 64-byte boundary.

    NumPy aligns to 16 bytes: an operand that straddles cache lines slows a
    GEMM or a pass by up to a tenth, which varies from run to run.
    """
    buffer = np.empty(array.size + 8)
    start = (-buffer.ctypes.data % 64) // buffer.itemsize
    copy = buffer[start : start + array.size].reshape(array.shape)
    copy[...] = array
    return copy


def seconds(function):
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def forward_solve_rate(estimator, X, n_rows, tol, repeats=200):
    """Solve rate against GEMM, both in products of (n_rows, n) x (n, n).

    A loop of solves alternates with a loop of GEMMs on the BLAS the solve
    calls itself (numba's), so that both see the same machine load. Both
    loops are compiled: neither pays Python's call overhead, which the solves
    of a training step do not pay either. The rate is the median of the
    per-pair ratios. NumPy's GEMM, on its own BLAS, is timed after a pause,
    apart: the idle threads of one BLAS keep spinning for a while and would
    slow the other. Every operand given to either side is 64-byte aligned,
    as the arrays that numba allocates are at least 32-byte aligned.

    The rate per iteration leaves out what a solve pays once (transposing
    ``A``, the first pass from zero, writing the results): it times two more
    solves that never settle (tolerance 0), of 2 and of 6 iterations, and
    sets the products of the four extra iterations against their time.
    """
    model = estimator.model_
    code = ACTIVATIONS[model.activation].code
    max_iter = estimator.fixed_point_max_iter
    drive = aligned(X[:n_rows] @ model.B.T + model.b)
    empty = np.empty((0, model.n_hidden))
    inner = 10

    def solve(tol=tol, max_iter=max_iter):
        return solve_fixed_point(model.A, drive, empty, code, tol, max_iter)

    def time_solves(tol=tol, max_iter=max_iter):
        return seconds(
            lambda: _solve_loop(model.A, drive, empty, code, tol, max_iter, inner)
        )

    H, n_iter, _ = solve()
    # The first iteration from zero needs no product, and settled rows drop
    # out: count the row-products actually taken.
    products = (n_iter.sum() - n_rows) / n_rows
    extra_products = (solve(0.0, 6)[1].sum() - solve(0.0, 2)[1].sum()) / n_rows
    H, AT, out = aligned(H), aligned(model.A.T), aligned(H)
    _gemm_loop(H, AT, out, 1)
    _solve_loop(model.A, drive, empty, code, tol, max_iter, 1)

    time.sleep(0.5)
    solve_times, gemm_times, extra_times = [], [], []
    for _ in range(repeats):
        solve_times.append(time_solves())
        gemm_times.append(seconds(lambda: _gemm_loop(H, AT, out, inner)))
        extra_times.append(time_solves(0.0, 6) - time_solves(0.0, 2))
    solve_times, gemm_times = np.array(solve_times), np.array(gemm_times)
    rates = products * gemm_times / solve_times
    iteration_rates = extra_products * gemm_times / np.array(extra_times)
    time.sleep(0.5)
    numpy_gemm = np.median(
        [seconds(lambda: np.dot(H, AT, out=out)) for _ in range(repeats * inner)]
    )
    return {
        "rows": n_rows,
        "n_hidden": model.n_hidden,
        "tol": tol,
        "mean_iterations": float(n_iter.mean()),
        "gemm_equivalents_per_solve": float(products),
        "solve_ms": 1e3 * float(np.median(solve_times)) / inner,
        "gemm_ms": 1e3 * float(np.median(gemm_times)) / inner,
        "numpy_gemm_ms": 1e3 * float(numpy_gemm),
        "rate_vs_gemm": float(np.median(rates)),
        "rate_vs_gemm_quartiles": [float(q) for q in np.percentile(rates, [25, 75])],
        "rate_vs_numpy_gemm": float(
            products * numpy_gemm * inner / np.median(solve_times)
        ),
        "rate_per_iteration_vs_gemm": float(np.median(iteration_rates)),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-hidden", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)

    report = {"n_hidden": args.n_hidden, "batch_size": args.batch_size}
    report["epochs"], report["scores"], report["forward_solve"] = {}, {}, {}
    for name in DATASETS:
        X_train, X_test, y_train, y_test = load(name)
        report["epochs"][name] = compare_epochs(
            X_train, y_train, args.n_hidden, args.batch_size, args.epochs, args.repeats
        )
        scores, fitted = compare_scores(X_train, X_test, y_train, y_test, args.n_hidden)
        report["scores"][name] = scores
        if name == "digits":
            # At the training tolerance, and at a tight one where the fixed
            # cost of a solve (first pass, per-row scales) weighs less.
            solves = report["forward_solve"]
            for tol in (fitted.fixed_point_tol, 1e-10):
                solves[f"training_batch_tol_{tol:g}"] = forward_solve_rate(
                    fitted, X_train, args.batch_size, tol
                )
                solves[f"test_set_tol_{tol:g}"] = forward_solve_rate(
                    fitted, X_test, X_test.shape[0], tol
                )
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
