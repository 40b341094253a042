"""
============================================
Deep feature selection with a group penalty
============================================

Section 5.1 of the reference paper observes that an input feature ``j`` plays
no part in an implicit model when column ``j`` of the stacked matrix
``(B; D)`` is zero: neither the hidden state nor the linear term reads it.
Training with the group penalty of eq. (5.1), ``sum_j ||(B; D) e_j||_2``,
pushes whole columns to zero, and the remaining column norms rank the
features. `ImplicitFeatureSelector` does this inside a scikit-learn pipeline.

This example selects features of the breast cancer data bundled with
scikit-learn and shows how accuracy changes with the number of features kept.
"""

# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# Selecting features in a pipeline
# --------------------------------
# The features are standardised first, so that their column norms are
# comparable. With default settings the selector trains an
# `ImplicitClassifier` with ``alpha_features=30`` and keeps the features whose
# score is at least the mean score.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_implicit import ImplicitClassifier, ImplicitFeatureSelector

data = load_breast_cancer(as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(
    data.data, data.target, stratify=data.target, random_state=0
)
selection = make_pipeline(
    StandardScaler(), ImplicitFeatureSelector(random_state=0)
).set_output(transform="pandas")
selection.fit(X_train, y_train)
selector = selection[-1]
kept = selector.get_feature_names_out()
print(f"{len(kept)} of {X_train.shape[1]} features kept: {list(kept)}")
print(f"columns of (B; D) exactly zero: {np.sum(selector.scores_ == 0)}")

# %%
# Accuracy against the number of features kept
# --------------------------------------------
# The fitted selector is reused with ``prefit=True`` and ``max_features``, so
# that every budget keeps the features of highest score. A small implicit
# classifier is trained on each selection and scored on held-out data.
scaled_train = selection[0].transform(X_train)
budgets = [1, 2, 3, 5, 8, 12, 20, 30]
accuracy = []
for budget in budgets:
    model = make_pipeline(
        StandardScaler(),
        ImplicitFeatureSelector(selector.estimator_, prefit=True, max_features=budget),
        ImplicitClassifier(n_hidden=20, learning_rate_init=0.01, random_state=0),
    )
    accuracy.append(model.fit(X_train, y_train).score(X_test, y_test))
    print(f"{budget:2d} features: test accuracy {accuracy[-1]:.3f}")

# %%
# The scores, and what the selection costs
# ----------------------------------------
# Most columns of ``(B; D)`` are exactly zero; the kept features
# (dark bars) reach the mean score. A few features come within a couple of
# points of the accuracy of all thirty.
order = np.argsort(selector.scores_)[::-1]
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
colors = np.where(selector.get_support()[order], "tab:blue", "lightgray")
left.barh(np.arange(len(order)), selector.scores_[order], color=colors)
left.set_yticks(np.arange(len(order)), X_train.columns[order], fontsize=6)
left.invert_yaxis()
left.axvline(selector.threshold_, color="k", linestyle="--", label="threshold")
left.set_xlabel("norm of column of (B; D)")
left.legend()
right.plot(budgets, accuracy, marker="o")
right.axvline(len(kept), color="k", linestyle="--", label="default selection")
right.set_xscale("log")
right.set_xticks(budgets, [str(b) for b in budgets])
right.set_xlabel("features kept")
right.set_ylabel("test accuracy")
right.legend()
fig.tight_layout()
plt.show()
