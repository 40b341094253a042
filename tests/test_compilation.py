# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Import compiles nothing, and every input type reuses one compiled kernel."""

import subprocess
import sys
import textwrap


def run_python(code):
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_import_compiles_no_kernel():
    """Check that importing the package leaves every kernel uncompiled."""
    output = run_python(
        """
        import sys
        import sklearn_implicit
        from sklearn_implicit._kernels import _equilibrium, _optim, _projection

        kernels = [
            getattr(module, name)
            for module in (_equilibrium, _optim, _projection)
            for name in dir(module)
            if hasattr(getattr(module, name), "signatures")
        ]
        print(len(kernels), sum(len(k.signatures) for k in kernels))
        print("cvxpy" in sys.modules)
        """
    )
    n_kernels, n_compiled = map(int, output.split()[:2])
    assert n_kernels >= 5 and n_compiled == 0
    assert output.split()[2] == "False"


def test_input_types_share_one_specialisation():
    """Check that float32, integer, Fortran, read-only and sparse inputs, and a
    second fit, add no compiled specialisation to any entry-point kernel."""
    output = run_python(
        """
        import warnings
        import numpy as np
        import scipy.sparse as sp
        from sklearn.datasets import load_iris
        from sklearn_implicit import ImplicitClassifier, ImplicitRegressor
        from sklearn_implicit._kernels import _equilibrium, _optim, _projection

        warnings.simplefilter("ignore")
        X, y = load_iris(return_X_y=True)
        read_only = X.copy()
        read_only.setflags(write=False)
        inputs = [
            X,
            X.astype(np.float32),
            (X * 10).astype(np.int64),
            np.asfortranarray(X),
            read_only,
            sp.csr_matrix(X),
        ]
        for Z in inputs:
            ImplicitClassifier(n_hidden=5, max_iter=2).fit(Z, y).predict_proba(Z)
            ImplicitRegressor(n_hidden=5, max_iter=2).fit(Z, y).predict(Z)
            ImplicitRegressor(n_hidden=5, max_iter=2, solver="block").fit(Z, y)
        for kernel in (
            _equilibrium.loss_gradient,
            _equilibrium.predict,
            _equilibrium.solve_fixed_point,
            _optim.adam_step,
            _projection.project_inf_ball,
        ):
            print(kernel.__name__, len(kernel.signatures))
        """
    )
    counts = dict(line.split() for line in output.strip().splitlines())
    assert counts == {name: "1" for name in counts}, counts
