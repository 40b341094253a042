# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Demo: implicit models beside scikit-learn's MLP on bundled real datasets.

Run ``python -m sklearn_implicit``. Each dataset is split 75/25 with a fixed
seed; both models get standardised inputs and the same hidden width, and the
MLP regressor also gets standardised targets, as the implicit regressor
standardises them itself.
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_implicit import ImplicitClassifier, ImplicitRegressor

DATASETS = {
    "digits": (load_digits, "classification"),
    "breast_cancer": (load_breast_cancer, "classification"),
    "diabetes": (load_diabetes, "regression"),
}


def make_models(task, n_hidden, random_state):
    """Return the implicit model and its MLP peer for a task, as pipelines."""
    if task == "classification":
        implicit = ImplicitClassifier(n_hidden, random_state=random_state)
        peer = MLPClassifier(hidden_layer_sizes=(n_hidden,), random_state=random_state)
    else:
        implicit = ImplicitRegressor(n_hidden, random_state=random_state)
        peer = TransformedTargetRegressor(
            MLPRegressor(hidden_layer_sizes=(n_hidden,), random_state=random_state),
            transformer=StandardScaler(),
        )
    return {
        "implicit": make_pipeline(StandardScaler(), implicit),
        "mlp": make_pipeline(StandardScaler(), peer),
    }


def warm_up():
    """Compile the kernels, or load them from numba's cache, on tiny data.

    Returns
    -------
    seconds : float
        Time it took.
    """
    start = time.perf_counter()
    X = np.linspace(-1, 1, 40).reshape(20, 2)
    y = (X[:, 0] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for estimator in (
            ImplicitClassifier(4, max_iter=2),
            ImplicitRegressor(4, max_iter=2),
        ):
            estimator.fit(X, y).predict(X)
    return time.perf_counter() - start


def fit_and_score(model, label, X_train, X_test, y_train, y_test):
    """Fit one model; return its test score, fit time and solve statistics."""
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train, y_train)
    result = {
        "score": model.score(X_test, y_test),
        "fit_time": time.perf_counter() - start,
    }
    if label == "implicit":
        estimator = model[-1]
        _, n_iter = estimator.model_.hidden_state(
            model[0].transform(X_test),
            tol=estimator.fixed_point_tol,
            return_n_iter=True,
        )
        result["fixed_point_iter"] = n_iter.mean()
        result["norm_A"] = np.abs(estimator.model_.A).sum(axis=1).max()
    return result


def run(datasets=tuple(DATASETS), n_hidden=100, seeds=range(5)):
    """Fit both models on each dataset, once per seed, and summarise.

    The split is the same for every seed (``random_state=0``); the seeds
    change the models' initialisation and shuffling, whose spread a single
    fit would hide.

    Parameters
    ----------
    datasets : sequence of str, default=all
        Names from ``DATASETS``.
    n_hidden : int, default=100
        Hidden width of both models.
    seeds : sequence of int, default=range(5)
        Seeds of the models.

    Returns
    -------
    rows : list of dict
        One per dataset and model, with keys ``dataset``, ``model``,
        ``metric``, ``scores`` (one per seed), ``fit_time`` (mean), and, for
        the implicit model, ``fixed_point_iter`` (mean iterations of the
        forward solve on the test set) and ``norm_A`` (largest
        ``||A||_inf``).
    """
    rows = []
    for name in datasets:
        loader, task = DATASETS[name]
        X, y = loader(return_X_y=True)
        split = train_test_split(X, y, test_size=0.25, random_state=0)
        for label in ("implicit", "mlp"):
            fits = [
                fit_and_score(make_models(task, n_hidden, seed)[label], label, *split)
                for seed in seeds
            ]
            rows.append(
                {
                    "dataset": name,
                    "model": label,
                    "metric": "accuracy" if task == "classification" else "R^2",
                    "scores": [fit["score"] for fit in fits],
                    "fit_time": np.mean([fit["fit_time"] for fit in fits]),
                    "fixed_point_iter": (
                        np.mean([fit["fixed_point_iter"] for fit in fits])
                        if label == "implicit"
                        else None
                    ),
                    "norm_A": (
                        max(fit["norm_A"] for fit in fits)
                        if label == "implicit"
                        else None
                    ),
                }
            )
    return rows


def format_table(rows):
    """Return the rows as a plain-text table."""
    header = (
        f"{'dataset':<14}{'model':<10}{'metric':<10}{'mean score':>11}"
        f"{'min-max':>15}{'fit time (s)':>14}{'fixed-point iter':>18}"
        f"{'||A||_inf':>11}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        scores = row["scores"]
        iterations, norm = row["fixed_point_iter"], row["norm_A"]
        lines.append(
            f"{row['dataset']:<14}{row['model']:<10}{row['metric']:<10}"
            f"{np.mean(scores):>11.4f}"
            f"{f'{min(scores):.3f}-{max(scores):.3f}':>15}"
            f"{row['fit_time']:>14.2f}"
            f"{'' if iterations is None else f'{iterations:.1f}':>18}"
            f"{'' if norm is None else f'{norm:.3f}':>11}"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m sklearn_implicit",
        description=(
            "Fit ImplicitClassifier and ImplicitRegressor beside scikit-learn's "
            "MLP of the same width on the bundled digits, breast cancer and "
            "diabetes datasets, and print test scores, fit times, mean "
            "fixed-point iterations and ||A||_inf."
        ),
    )
    parser.add_argument("--n-hidden", type=int, default=100)
    parser.add_argument(
        "--seeds", type=int, default=5, help="model seeds per dataset (default 5)"
    )
    parser.add_argument(
        "--datasets", nargs="+", choices=list(DATASETS), default=list(DATASETS)
    )
    args = parser.parse_args(argv)

    print(
        f"Implicit models vs MLP, hidden width {args.n_hidden}, inputs "
        "standardised, 75/25 split with random_state=0; scores over "
        f"{args.seeds} model seeds."
    )
    seconds = warm_up()
    print(f"Kernels compiled or loaded from numba's cache in {seconds:.1f} s.\n")
    rows = run(args.datasets, args.n_hidden, range(args.seeds))
    print(format_table(rows))


if __name__ == "__main__":
    main()
