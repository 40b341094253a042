# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Prediction speed, accuracy and certified error of compressed implicit models.

Prints one JSON document with

* ``speed``: the time of ``predict`` on ``--n-rows`` rows (digits rows drawn
  with replacement, plus Gaussian noise of scale 0.1 in the standardised
  space) for a default ``ImplicitClassifier`` (``n_hidden`` states) and for
  its compression to ``A`` of rank ``n_hidden / 4``, called alternately in
  this process; ``ratio`` is the median of the per-pair ratios. For
  context, the original model is also timed on the same rows split into
  blocks of ``LOW_RANK_BLOCK`` rows (the blocking the low-rank kernel uses),
  ranks ``n_hidden / 8`` and ``n_hidden / 2`` are timed too, and the mean
  fixed-point iterations of every model are given;
* ``speed_one_blas_thread``: the same, with BLAS limited to one thread.
* ``accuracy``: for digits and breast cancer (75/25 split, random_state 0)
  and each seed, the test accuracy of the default classifier and of its
  compressions to half the states and to rank ``n_hidden / 4``, the largest
  output bound over the training rows, the largest actual output change on
  the test rows, and the share of test rows whose class the bound certifies.

Usage::

    python benchmarks/bench_compression.py [--n-rows 10000] [--repeats 15]
"""

import argparse
import json
import time

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info, threadpool_limits

from sklearn_implicit import ImplicitClassifier, ImplicitCompressor
from sklearn_implicit._kernels._equilibrium import LOW_RANK_BLOCK

DATASETS = {"digits": load_digits, "breast_cancer": load_breast_cancer}
TIGHT = {"tol": 1e-12, "max_iter": 10_000}


def load(name):
    X, y = DATASETS[name](return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def timed(function, X):
    start = time.perf_counter()
    function(X)
    return time.perf_counter() - start


def in_blocks(estimator):
    def predict(X):
        for start in range(0, X.shape[0], LOW_RANK_BLOCK):
            estimator.predict(X[start : start + LOW_RANK_BLOCK])

    return predict


def speed(n_rows, n_hidden, repeats, seed):
    X_train, _, y_train, _ = load("digits")
    classifier = ImplicitClassifier(n_hidden, random_state=seed).fit(X_train, y_train)
    ranks = [n_hidden // 8, n_hidden // 4, n_hidden // 2]
    compressed = {
        rank: ImplicitCompressor(classifier, rank=rank, prefit=True)
        .fit(X_train)
        .estimator_
        for rank in ranks
    }

    rng = np.random.default_rng(seed)
    rows = rng.integers(0, X_train.shape[0], n_rows)
    X = X_train[rows] + rng.normal(scale=0.1, size=(n_rows, X_train.shape[1]))

    contenders = {"original": classifier.predict}
    contenders.update({f"rank_{r}": compressed[r].predict for r in ranks})
    contenders["original_in_blocks"] = in_blocks(classifier)
    for predict in contenders.values():
        predict(X)
    times = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, predict in contenders.items():
            times[name].append(timed(predict, X))
    times = {name: np.array(values) for name, values in times.items()}

    def ratio(name, baseline="original"):
        return float(np.median(times[baseline] / times[name]))

    tol, max_iter = classifier.fixed_point_tol, classifier.fixed_point_max_iter
    models = {"original": classifier.model_}
    models.update({f"rank_{r}": compressed[r].model_ for r in ranks})
    iterations = {
        name: float(
            model.hidden_state(X, tol=tol, max_iter=max_iter, return_n_iter=True)[
                1
            ].mean()
        )
        for name, model in models.items()
    }
    main = f"rank_{n_hidden // 4}"
    return {
        "n_rows": n_rows,
        "n_hidden": n_hidden,
        "rank": n_hidden // 4,
        "ratio": ratio(main),
        "median_seconds": {name: float(np.median(t)) for name, t in times.items()},
        "ratio_per_rank": {f"rank_{r}": ratio(f"rank_{r}") for r in ranks},
        "ratio_against_blocked_original": ratio(main, "original_in_blocks"),
        "mean_iterations": iterations,
        "same_class_share": float(
            np.mean(classifier.predict(X) == compressed[n_hidden // 4].predict(X))
        ),
    }


def accuracy(name, seed, n_hidden):
    X_train, X_test, y_train, y_test = load(name)
    classifier = ImplicitClassifier(n_hidden, random_state=seed).fit(X_train, y_train)
    original = classifier.model_
    scores = original.predict(X_test, **TIGHT)
    top = np.sort(scores, axis=1)
    result = {"seed": seed, "original": classifier.score(X_test, y_test)}

    settings = {
        "half_states": {"n_hidden": n_hidden // 2},
        "rank": {"rank": n_hidden // 4},
    }
    for label, setting in settings.items():
        compressor = ImplicitCompressor(classifier, prefit=True, **setting)
        compressor.fit(X_train)
        compressed = compressor.estimator_
        change = np.abs(compressed.model_.predict(X_test, **TIGHT) - scores)
        raw = compressor.error_bound(X_test).output
        bound = np.sort(raw, axis=1)
        certified = top[:, -1] - top[:, -2] > bound[:, -1] + bound[:, -2]
        result[label] = {
            "accuracy": compressed.score(X_test, y_test),
            "compression_ratio": compressor.compression_ratio_,
            "train_output_bound": float(compressor.output_error_bound_.max()),
            "test_output_bound": float(bound.max()),
            "test_output_change": float(change.max()),
            "bound_holds": bool((change <= raw * (1 + 1e-9) + 1e-9).all()),
            "certified_share": float(certified.mean()),
        }
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-rows", type=int, default=10_000)
    parser.add_argument("--n-hidden", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args(argv)

    report = {
        "blas": [
            {"library": lib["internal_api"], "threads": lib["num_threads"]}
            for lib in threadpool_info()
        ],
        "speed": speed(args.n_rows, args.n_hidden, args.repeats, args.seeds[0]),
        "speed_one_blas_thread": None,
        "accuracy": {
            name: [accuracy(name, seed, args.n_hidden) for seed in args.seeds]
            for name in DATASETS
        },
    }
    with threadpool_limits(limits=1, user_api="blas"):
        report["speed_one_blas_thread"] = speed(
            args.n_rows, args.n_hidden, args.repeats, args.seeds[0]
        )
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
