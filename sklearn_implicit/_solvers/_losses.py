# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Losses on the outputs, each returning its mean value and its gradient."""

import numpy as np


def squared_loss(Y, out):
    """Half the squared error, summed over outputs and averaged over rows.

    Parameters
    ----------
    Y : ndarray of shape (n_samples, n_outputs)
        Targets.
    out : ndarray of shape (n_samples, n_outputs)
        Model outputs.

    Returns
    -------
    loss : float
    G : ndarray of shape (n_samples, n_outputs)
        Gradient of ``loss`` with respect to ``out``.
    """
    residual = out - Y
    n_samples = Y.shape[0]
    return 0.5 * np.sum(residual**2) / n_samples, residual / n_samples


def softmax_cross_entropy(Y, out):
    """Cross-entropy of the softmax of the outputs, averaged over rows.

    Parameters
    ----------
    Y : ndarray of shape (n_samples, n_classes)
        One-hot (or probability) targets.
    out : ndarray of shape (n_samples, n_classes)
        Model outputs, the logits.

    Returns
    -------
    loss : float
    G : ndarray of shape (n_samples, n_classes)
        Gradient of ``loss`` with respect to ``out``.
    """
    n_samples = Y.shape[0]
    shifted = out - out.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    total = exp.sum(axis=1, keepdims=True)
    loss = np.sum(np.log(total)) - np.sum(Y * shifted)
    return loss / n_samples, (exp / total - Y) / n_samples


LOSSES = {"squared_error": squared_loss, "log_loss": softmax_cross_entropy}
