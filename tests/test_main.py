# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Tests of the demo behind ``python -m sklearn_implicit``."""

import numpy as np

from sklearn_implicit.__main__ import format_table, main, run


def test_run_reports_both_models_per_dataset():
    """Check the rows of a small demo run and what they contain."""
    rows = run(["breast_cancer", "diabetes"], n_hidden=20, seeds=[0, 1])
    assert [(row["dataset"], row["model"]) for row in rows] == [
        ("breast_cancer", "implicit"),
        ("breast_cancer", "mlp"),
        ("diabetes", "implicit"),
        ("diabetes", "mlp"),
    ]
    implicit = rows[0]
    assert len(implicit["scores"]) == 2 and min(implicit["scores"]) > 0.9
    assert implicit["fit_time"] > 0
    assert implicit["norm_A"] <= 0.5 + 1e-12
    assert implicit["fixed_point_iter"] >= 1
    assert rows[1]["fixed_point_iter"] is None

    table = format_table(rows)
    assert table.splitlines()[0].split()[:4] == ["dataset", "model", "metric", "mean"]
    assert len(table.splitlines()) == 2 + len(rows)


def test_main_prints_the_table(capsys):
    """Check the command line entry point on one dataset."""
    main(["--datasets", "breast_cancer", "--n-hidden", "10"])
    output = capsys.readouterr().out
    assert "breast_cancer" in output and "||A||_inf" in output
    scores = [
        float(line.split()[3]) for line in output.splitlines() if "accuracy" in line
    ]
    assert len(scores) == 2 and np.all(np.array(scores) > 0.9)
