# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Well-posedness diagnostics and the diagonal rescaling of section 2.5."""

from numbers import Real

import numpy as np
from scipy import linalg
from sklearn.utils import Bunch, check_scalar

from sklearn_implicit._activations import ACTIVATIONS
from sklearn_implicit._model import ImplicitModel, perron_frobenius
from sklearn_implicit.analysis._bounds import norm_matrices
from sklearn_implicit.analysis._validation import check_model, lipschitz_constant

# Number of times rescale shrinks its target norm when rounding pushed a row
# sum of the scaled matrix up to the target.
_RESCALE_ATTEMPTS = 8


def _is_strictly_triangular(A):
    # Strictly upper or strictly lower triangular, the diagonal included.
    return not np.triu(A).any() or not np.tril(A).any()


def well_posedness(model, *, blocks=None, norm=2):
    """Measure the sufficient conditions of well-posedness of a model.

    A model is well-posed when its equilibrium equation has exactly one
    solution for every input. This function evaluates the tests of section
    2.3 of the reference: the Perron-Frobenius condition
    ``lambda_pf(gamma |A|) < 1`` of Theorem 2.2, or, when the states are
    grouped into ``blocks``, ``lambda_pf(Gamma N(A)) < 1`` of Theorem 2.7;
    and strict triangularity of ``A`` (Theorem 2.8), which suffices for any
    componentwise activation. It also reports the cheap upper bound
    ``||A||_inf`` of the eigenvalue (Remark 2.4).

    Parameters
    ----------
    model : ImplicitModel or fitted estimator
        The implicit model, or a fitted implicit estimator.
    blocks : None or array-like of int, default=None
        Sizes of consecutive blocks of hidden states, for Theorem 2.7; None
        treats every state as its own block (Theorem 2.2).
    norm : {1, 2, inf}, default=2
        The l_p norm measuring each block of states; used only with
        ``blocks``.

    Returns
    -------
    result : Bunch
        With the following entries:

        norm_inf : float
            The max-row-sum norm ``||A||_inf``.
        pf_eigenvalue : float
            The Perron-Frobenius eigenvalue ``lambda_pf(|A|)``; exactly 0 when
            ``|A|`` is nilpotent.
        lipschitz : float
            The Lipschitz constant ``gamma`` of the activation.
        block_norms : ndarray of shape (n_blocks, n_blocks)
            The matrix ``Gamma N(A)`` of block norms scaled by the Lipschitz
            constant, with ``Gamma = gamma I``; ``gamma |A|`` without
            ``blocks``.
        condition : float
            ``lambda_pf(block_norms)``: the sufficient test passes when it is
            below 1.
        triangular : bool
            Whether ``A`` is strictly upper or strictly lower triangular.
        well_posed : bool
            Whether ``condition < 1`` or ``triangular``.

    See Also
    --------
    rescale : An equivalent model with ``||A||_inf < 1``.

    Notes
    -----
    A componentwise map that is ``gamma``-Lipschitz in every entry is
    ``gamma``-Lipschitz in any l_p norm of a block of entries, so the matrix
    ``Gamma`` of Theorem 2.7 is ``gamma`` times the identity. With one state
    per block the two conditions coincide. ``well_posed`` is False only
    when these sufficient tests fail; the model may still be well-posed.

    Examples
    --------
    >>> from sklearn_implicit import ImplicitModel
    >>> from sklearn_implicit.analysis import well_posedness
    >>> model = ImplicitModel(
    ...     A=[[0.0, 4.0], [0.01, 0.0]], B=[[1.0], [1.0]], C=[[1.0, 1.0]], D=[[0.0]]
    ... )
    >>> result = well_posedness(model)
    >>> float(result.norm_inf), round(result.pf_eigenvalue, 12)
    (4.0, 0.2)
    >>> bool(result.well_posed)
    True
    """
    model = check_model(model)
    gamma = lipschitz_constant(model)
    abs_A = np.abs(model.A)
    N_A = norm_matrices(model, blocks, norm)[0]

    pf_eigenvalue = perron_frobenius(abs_A)
    block_norms = gamma * N_A
    condition = perron_frobenius(block_norms)
    triangular = _is_strictly_triangular(model.A)
    return Bunch(
        norm_inf=float(abs_A.sum(axis=1).max()),
        pf_eigenvalue=pf_eigenvalue,
        lipschitz=gamma,
        block_norms=block_norms,
        condition=condition,
        triangular=triangular,
        well_posed=bool(condition < 1 or triangular),
    )


def _scaling(abs_A, kappa):
    # v = (I - |A| / kappa)^{-1} 1 = sum_k (|A| / kappa)^k 1 >= 1, so that
    # |A| v = kappa (v - 1) and row i of diag(v)^{-1} |A| diag(v) sums to
    # kappa (1 - 1 / v_i) < kappa.
    n_hidden = abs_A.shape[0]
    return linalg.solve(np.eye(n_hidden) - abs_A / kappa, np.ones(n_hidden))


def rescale(model, *, kappa=None):
    """Rescale the states of a model so that ``||A||_inf`` drops below 1.

    For a positively homogeneous activation (ReLU, leaky ReLU), scaling the
    hidden state by a positive diagonal matrix ``S`` gives a model with the
    same predictions: ``A' = S A S^{-1}``, ``B' = S B``, ``b' = S b``,
    ``C' = C S^{-1}``, with ``D`` and ``d`` unchanged (eq. (2.7) of the
    reference). By eq. (2.6) a suitable ``S`` brings ``||A'||_inf`` down to
    any value above ``lambda_pf(|A|)``, so a model that passes the
    Perron-Frobenius test can be replaced by one that passes the norm test.

    Parameters
    ----------
    model : ImplicitModel or fitted estimator
        The implicit model, or a fitted implicit estimator.
    kappa : float, default=None
        Target for the norm: the result has ``||A'||_inf < kappa``. Must lie
        in ``(lambda_pf(|A|), 1]``. None takes the midpoint
        ``(1 + lambda_pf(|A|)) / 2``.

    Returns
    -------
    rescaled : ImplicitModel
        A new model with the same activation and the same predictions.

    Raises
    ------
    ValueError
        If the activation is not positively homogeneous, if
        ``lambda_pf(|A|) >= kappa`` (or ``>= 1``), or if the scaled matrix
        fails the norm test after rounding.

    See Also
    --------
    well_posedness : Measure the norm and the Perron-Frobenius eigenvalue.

    Notes
    -----
    The scaling is ``S = diag(v)^{-1}`` with ``v = (I - |A| / kappa)^{-1} 1``.
    The Neumann series shows ``v >= 1``, and ``|A| v = kappa (v - 1)``, so row
    ``i`` of ``|A'| = S |A| S^{-1}`` sums to ``kappa (1 - 1 / v_i) < kappa``.
    As ``kappa`` decreases to ``lambda_pf(|A|)``, ``v`` turns to a
    Perron-Frobenius eigenvector, the scaling of eq. (2.7). Unlike that
    eigenvector, ``v`` is positive even when ``|A|`` is reducible, as for a
    strictly triangular ``A``. The norm of the result is computed after
    rounding; should a row sum reach ``kappa``, the target is moved halfway
    towards ``lambda_pf(|A|)`` and the scaling is computed again.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_implicit import ImplicitModel
    >>> from sklearn_implicit.analysis import rescale
    >>> model = ImplicitModel(
    ...     A=[[0.0, 4.0], [0.01, 0.0]], B=[[1.0], [1.0]], C=[[1.0, 1.0]], D=[[0.0]]
    ... )
    >>> rescaled = rescale(model, kappa=0.5)
    >>> float(np.abs(rescaled.A).sum(axis=1).max()) < 0.5
    True
    >>> X = np.array([[1.0], [2.0]])
    >>> np.allclose(rescaled.predict(X, tol=1e-12), model.predict(X, tol=1e-12))
    True
    """
    model = check_model(model)
    if not ACTIVATIONS[model.activation].positively_homogeneous:
        raise ValueError(
            "rescale needs a positively homogeneous activation (relu or "
            "leaky_relu), for which phi(s z) = s phi(z) with s > 0; got "
            f"activation={model.activation!r}."
        )
    abs_A = np.abs(model.A)
    eigenvalue = perron_frobenius(abs_A)
    if eigenvalue >= 1:
        raise ValueError(
            "rescale needs lambda_pf(|A|) < 1, but it is "
            f"{eigenvalue:.6g}: no diagonal scaling brings ||A||_inf below 1."
        )
    if kappa is None:
        kappa = (1 + eigenvalue) / 2
    kappa = check_scalar(kappa, "kappa", Real, min_val=0, max_val=1)
    if not kappa > eigenvalue:
        raise ValueError(
            f"kappa must exceed lambda_pf(|A|) = {eigenvalue:.6g}, the smallest "
            f"norm a diagonal scaling can reach (eq. (2.6)); got kappa={kappa!r}."
        )

    target = float(kappa)
    for _ in range(_RESCALE_ATTEMPTS):
        v = _scaling(abs_A, target)
        if not np.all(np.isfinite(v)):
            # A smaller target only makes v larger.
            raise ValueError(
                "The scaling v = (I - |A| / kappa)^{-1} 1 overflows float64 "
                "for this A, whose feedback amplifies beyond 1.8e308; no "
                "diagonal scaling of it can be formed in floating point."
            )
        A = model.A * v / v[:, None]
        norm_inf = float(np.abs(A).sum(axis=1).max())
        if np.all(v > 0) and norm_inf < kappa and norm_inf < 1:
            break
        target = (eigenvalue + target) / 2
    else:
        raise ValueError(
            f"The scaled matrix has ||A'||_inf = {norm_inf:.6g}, not below "
            f"kappa={kappa:.6g}, after rounding; A is too ill-conditioned for "
            "this target. Try a larger kappa."
        )

    return ImplicitModel(
        A,
        model.B / v[:, None],
        model.C * v,
        model.D,
        model.b / v,
        model.d,
        activation=model.activation,
    )
