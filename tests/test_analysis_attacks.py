# Authors: The sklearn_implicit developers
# SPDX-License-Identifier: BSD-3-Clause
"""Tests of the sensitivity and gradient attacks and their success rate."""

import warnings

import numpy as np
import pytest
from scipy.special import log_softmax
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import train_test_split

from sklearn_implicit import ImplicitClassifier, ImplicitModel, ImplicitRegressor
from sklearn_implicit._kernels._projection import project_inf_ball
from sklearn_implicit.analysis import (
    attack_success_rate,
    gradient_attack,
    lp_relaxation,
    relaxation_attack,
    sdp_relaxation,
    sensitivity_attack,
)


def random_model(n=6, p=5, q=3, kappa=0.8, activation="relu", seed=0):
    rng = np.random.default_rng(seed)
    A = project_inf_ball(rng.standard_normal((n, n)), kappa)
    B, C, D = (rng.standard_normal(s) for s in [(n, p), (q, n), (q, p)])
    b, d = rng.standard_normal(n), rng.standard_normal(q)
    return ImplicitModel(A, B, C, D, b, d, activation=activation)


def changed(X, X_adv):
    return [set(np.flatnonzero(row)) for row in X != X_adv]


def test_sensitivity_attack_ranking_by_hand():
    """Check that the perturbed inputs are the top entries of S = |C||B| + |D|."""
    # With A = 0 the sensitivity matrix is |C| |B| + |D|:
    #   class 0: [1, 4, 0, 6, 2]   class 1: [5, 0, 3, 1, 2]   sums: [6, 4, 3, 7, 4]
    B = [[1.0, -2.0, 0.0, 3.0, 0.0], [0.0, 0.0, 1.0, 0.0, 0.0]]
    C = [[1.0, 0.0], [0.0, -3.0]]
    D = [[0.0, 2.0, 0.0, 3.0, 2.0], [5.0, 0.0, 0.0, 1.0, -2.0]]
    model = ImplicitModel(np.zeros((2, 2)), B, C, D)
    # Row 0 makes output 0 largest, row 1 output 1.
    X = np.array([[0.0, 0.0, 0.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(model.predict(X).argmax(axis=1), [0, 1])

    X_adv = sensitivity_attack(model, X, eps=0.5, n_features=2, random_state=0)
    assert changed(X, X_adv) == [{3, 1}, {0, 2}]
    X_adv = sensitivity_attack(
        model, X, eps=0.5, n_features=2, target="total", random_state=0
    )
    assert changed(X, X_adv) == [{3, 0}, {3, 0}]
    # A fraction is rounded up: 0.3 of 5 features is 2.
    X_adv = sensitivity_attack(model, X, eps=0.5, n_features=0.3, random_state=0)
    assert changed(X, X_adv) == [{3, 1}, {0, 2}]


def _log_loss(model, X, y):
    out = model.predict(X, tol=1e-13, max_iter=10_000)
    return -log_softmax(out, axis=1)[np.arange(len(y)), y]


def test_gradient_attack_ranking_matches_finite_differences():
    """Check that each row's perturbed inputs have the largest |d loss / d x|."""
    model = random_model(n=8, p=7, q=3, seed=1)
    rng = np.random.default_rng(2)
    X = rng.standard_normal((6, 7))
    y = rng.integers(0, 3, size=6)

    step = 1e-6
    gradient = np.empty_like(X)
    for j in range(X.shape[1]):
        E = np.zeros_like(X)
        E[:, j] = step
        gradient[:, j] = (_log_loss(model, X + E, y) - _log_loss(model, X - E, y)) / (
            2 * step
        )
    X_adv = gradient_attack(model, X, y, eps=0.1, n_features=3, random_state=0)

    for row, perturbed in enumerate(changed(X, X_adv)):
        order = np.argsort(-np.abs(gradient[row]))
        # The finite-difference ranking is unambiguous at this margin.
        magnitudes = np.abs(gradient[row])[order]
        assert magnitudes[2] - magnitudes[3] > 1e-5
        assert perturbed == set(order[:3])


def test_gradient_attack_squared_error_matches_finite_differences():
    """Check the ranking by the gradient of the squared error of a regression."""
    model = random_model(n=5, p=6, q=2, activation="tanh", seed=3)
    rng = np.random.default_rng(4)
    X, Y = rng.standard_normal((4, 6)), rng.standard_normal((4, 2))

    def loss(X):
        return 0.5 * ((model.predict(X, tol=1e-13) - Y) ** 2).sum(axis=1)

    step = 1e-6
    gradient = np.column_stack(
        [
            (loss(X + step * e) - loss(X - step * e)) / (2 * step)
            for e in np.eye(X.shape[1])
        ]
    )
    X_adv = gradient_attack(
        model, X, Y, eps=0.1, n_features=2, loss="squared_error", random_state=0
    )
    for row, perturbed in enumerate(changed(X, X_adv)):
        assert perturbed == set(np.argsort(-np.abs(gradient[row]))[:2])


def _attack(name, model, X, y, **kwargs):
    if name == "sensitivity":
        return sensitivity_attack(model, X, **kwargs)
    return gradient_attack(model, X, y, **kwargs)


@pytest.mark.parametrize("name", ["sensitivity", "gradient"])
@pytest.mark.parametrize("feature_range", [None, (0.0, 1.0)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_attack_stays_in_box_and_cardinality(name, feature_range, seed):
    """Check the box, feature_range and cardinality, with eps zero on some features."""
    model = random_model(n=6, p=9, q=3, seed=seed)
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 1, size=(40, 9))
    X[:, 0], X[:, 1] = 0.0, 1.0
    y = rng.integers(0, 3, size=40)
    eps = rng.uniform(0.05, 0.8, size=9)
    eps[[2, 5]] = 0.0
    X_before = X.copy()

    for n_features in (1, 4, 7, 9, 0.5):
        k = (
            int(np.ceil(n_features * 9))
            if isinstance(n_features, float)
            else n_features
        )
        X_adv = _attack(
            name,
            model,
            X,
            y,
            eps=eps,
            n_features=n_features,
            feature_range=feature_range,
            random_state=seed,
        )

        assert X_adv.shape == X.shape
        low, high = feature_range or (-np.inf, np.inf)
        assert np.all(X_adv >= np.maximum(X - eps, low))
        assert np.all(X_adv <= np.minimum(X + eps, high))
        n_changed = (X_adv != X).sum(axis=1)
        assert np.all(n_changed <= k)
        # Features that cannot move are ranked last, so the budget goes to the
        # seven that can.
        np.testing.assert_array_equal(n_changed, min(k, 7))
        np.testing.assert_array_equal(X_adv[:, [2, 5]], X[:, [2, 5]])
    np.testing.assert_array_equal(X, X_before)


@pytest.mark.parametrize("name", ["sensitivity", "gradient"])
def test_attack_random_state(name):
    """Check that a seed fixes the attack and another seed changes it."""
    model = random_model(seed=5)
    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((10, 5)), rng.integers(0, 3, size=10)

    first = _attack(name, model, X, y, eps=0.3, random_state=7)
    again = _attack(name, model, X, y, eps=0.3, random_state=7)
    other = _attack(name, model, X, y, eps=0.3, random_state=8)
    np.testing.assert_array_equal(first, again)
    assert np.any(first != other)
    np.testing.assert_array_equal(first != X, other != X)


def test_attack_success_rate_by_hand():
    """Check the rate on a model whose predictions are known in closed form."""
    # Output 0 is x, output 1 is -x: class 0 for x > 0, class 1 for x < 0.
    model = ImplicitModel([[0.0]], [[0.0]], [[0.0], [0.0]], [[1.0], [-1.0]])
    X = np.array([[1.0], [2.0], [-1.0], [-3.0], [0.5]])
    y = np.array([0, 0, 1, 0, 0])
    # Rows 0, 1, 2 and 4 are correct; the attack flips rows 0 and 2 and row
    # 3, which was already wrong and does not count.
    X_adv = np.array([[-1.0], [2.0], [3.0], [4.0], [0.1]])
    assert attack_success_rate(model, X, y, X_adv) == 0.5
    assert attack_success_rate(model, X, y, X) == 0.0


@pytest.fixture(scope="module")
def digits_classifier():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16, y, test_size=300, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        classifier = ImplicitClassifier(30, max_iter=60, random_state=0)
        classifier.fit(X_train, y_train)
    return classifier, X_test, y_test, X_train, y_train


def test_attack_labels_go_through_classes(digits_classifier):
    """Check that a classifier's labels map to outputs through classes_."""
    _, X, y, X_train, y_train = digits_classifier
    names = np.array([f"digit {c}" for c in range(10)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        named = ImplicitClassifier(30, max_iter=60, random_state=0)
        named.fit(X_train, names[y_train])

    X_adv = gradient_attack(named, X, names[y], eps=1.0, random_state=0)
    expected = gradient_attack(named.model_, X, y, eps=1.0, random_state=0)
    np.testing.assert_array_equal(X_adv, expected)
    assert attack_success_rate(named, X, names[y], X_adv) == attack_success_rate(
        named.model_, X, y, X_adv
    )
    labels = names[y].astype(object)
    labels[3] = None
    with pytest.raises(ValueError, match="labels the model does not predict, such"):
        attack_success_rate(named, X, labels, X_adv)


def test_attacks_fool_digits_classifier(digits_classifier):
    """Check clear success rates, growing with the number of perturbed pixels."""
    classifier, X, y, _, _ = digits_classifier
    assert classifier.score(X, y) > 0.9
    fractions = [0.05, 0.1, 0.2, 0.4]

    for name in ("sensitivity", "gradient"):
        rates = np.array(
            [
                [
                    attack_success_rate(
                        classifier,
                        X,
                        y,
                        _attack(
                            name,
                            classifier,
                            X,
                            y,
                            eps=1.0,
                            n_features=fraction,
                            feature_range=(0, 1),
                            random_state=seed,
                        ),
                    )
                    for fraction in fractions
                ]
                for seed in range(3)
            ]
        ).mean(axis=0)
        assert rates[-1] > 0.45, (name, rates)
        assert np.all(np.diff(rates) > -0.02), (name, rates)


def test_sensitivity_ranking_beats_random_pixels(digits_classifier):
    """Check that the sensitivity ranking fools more often than random pixels."""
    classifier, X, y, _, _ = digits_classifier
    rng = np.random.default_rng(0)
    guided, blind = [], []
    for seed in range(3):
        X_adv = sensitivity_attack(
            classifier,
            X,
            eps=1.0,
            n_features=13,
            feature_range=(0, 1),
            random_state=seed,
        )
        guided.append(attack_success_rate(classifier, X, y, X_adv))
        X_rand = X.copy()
        for row in X_rand:
            pixels = rng.choice(64, 13, replace=False)
            row[pixels] = rng.uniform(0, 1, size=13)
        blind.append(attack_success_rate(classifier, X, y, X_rand))
    assert np.mean(guided) > np.mean(blind) + 0.15, (guided, blind)


def test_gradient_attack_regressor_uses_squared_error():
    """Check that a fitted regressor is attacked through its squared error."""
    rng = np.random.default_rng(6)
    X, y = rng.standard_normal((30, 4)), rng.standard_normal(30)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        regressor = ImplicitRegressor(5, max_iter=5, random_state=0).fit(X, y)

    X_adv = gradient_attack(regressor, X, y, eps=0.2, n_features=2, random_state=0)
    expected = gradient_attack(
        regressor.model_,
        X,
        y,
        eps=0.2,
        n_features=2,
        loss="squared_error",
        random_state=0,
    )
    np.testing.assert_array_equal(X_adv, expected)
    with pytest.raises(ValueError, match="needs a classifier"):
        attack_success_rate(regressor, X, y, X_adv)


@pytest.mark.parametrize("name", ["sensitivity", "gradient"])
@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_features": 0}, "n_features must be an int in \\[1, 5\\]"),
        ({"n_features": 6}, "n_features must be an int"),
        ({"n_features": 1.5}, "or a float in \\(0, 1\\], got 1.5"),
        ({"n_features": 0.0}, "n_features"),
        ({"n_features": -0.2}, "n_features"),
        ({"n_features": True}, "n_features"),
        ({"n_features": "all"}, "n_features"),
        ({"eps": -0.1}, "eps must be finite and non-negative"),
        ({"eps": [0.1, 0.2]}, "eps must be a scalar or have shape \\(5,\\)"),
        ({"eps": np.nan}, "eps must be finite"),
        ({"feature_range": (1, 0)}, "feature_range must satisfy min <= max"),
        ({"feature_range": (0, 1, 2)}, "feature_range must be None or a pair"),
        ({"feature_range": (0.5, 1)}, "X has values outside feature_range"),
    ],
)
def test_attack_bad_parameters(name, kwargs, match):
    """Check the errors for invalid counts, radii and ranges."""
    model = random_model()
    X = np.random.default_rng(0).uniform(0, 1, size=(4, 5))
    y = np.array([0, 1, 2, 0])
    kwargs = {"eps": 0.1, **kwargs}
    with pytest.raises(ValueError, match=match):
        _attack(name, model, X, y, **kwargs)


def test_attack_bad_inputs():
    """Check the errors for wrong shapes, labels, options and unfitted models."""
    model = random_model()
    X = np.random.default_rng(0).standard_normal((4, 5))
    y = np.array([0, 1, 2, 0])

    with pytest.raises(ValueError, match="X has 4 features, but the model expects 5"):
        sensitivity_attack(model, X[:, :4], eps=0.1)
    with pytest.raises(ValueError, match="Expected 2D array"):
        gradient_attack(model, X[0], y[:1], eps=0.1)
    with pytest.raises(ValueError, match="target must be 'predicted' or 'total'"):
        sensitivity_attack(model, X, eps=0.1, target="class")
    with pytest.raises(ValueError, match="loss must be 'auto'"):
        gradient_attack(model, X, y, eps=0.1, loss="hinge")
    with pytest.raises(ValueError, match="y has 3 labels, but X has 4 rows"):
        gradient_attack(model, X, y[:3], eps=0.1)
    with pytest.raises(
        ValueError, match="labels the model does not predict, such as 3"
    ):
        gradient_attack(model, X, [0, 1, 3, 0], eps=0.1)
    with pytest.raises(ValueError, match="y must have shape \\(4, 3\\) for loss="):
        gradient_attack(model, X, y, eps=0.1, loss="squared_error")
    with pytest.raises(ValueError, match="Input y contains NaN"):
        gradient_attack(
            model, X, np.full((4, 3), np.nan), eps=0.1, loss="squared_error"
        )
    with pytest.raises(ValueError, match="one output per class"):
        gradient_attack(random_model(q=1), X, [0, 0, 0, 0], eps=0.1, loss="log_loss")
    with pytest.raises(ValueError, match="labels the model does not predict"):
        attack_success_rate(model, X, [7, 7, 7, 0], X)
    with pytest.raises(NotFittedError):
        sensitivity_attack(ImplicitClassifier(), X, eps=0.1)
    with pytest.raises(NotFittedError):
        gradient_attack(ImplicitClassifier(), X, y, eps=0.1)
    with pytest.raises(TypeError, match="model must be an ImplicitModel"):
        sensitivity_attack("model", X, eps=0.1)


def test_attack_success_rate_bad_inputs():
    """Check the errors of attack_success_rate."""
    model = ImplicitModel([[0.0]], [[0.0]], [[0.0], [0.0]], [[1.0], [-1.0]])
    X, y = np.array([[1.0], [-1.0]]), np.array([0, 1])

    with pytest.raises(ValueError, match="single output"):
        one = ImplicitModel([[0.0]], [[1.0]], [[1.0]], [[0.0]])
        attack_success_rate(one, X, y, X)
    with pytest.raises(ValueError, match="X_adv must have the shape of X"):
        attack_success_rate(model, X, y, X[:1])
    with pytest.raises(ValueError, match="X_adv has 2 features"):
        attack_success_rate(model, X, y, np.hstack([X, X]))
    with pytest.raises(ValueError, match="y has 1 labels, but X has 2 rows"):
        attack_success_rate(model, X, y[:1], X)
    with pytest.raises(ValueError, match="No row of X is classified correctly"):
        attack_success_rate(model, X, 1 - y, X)
    with pytest.raises(NotFittedError):
        attack_success_rate(ImplicitClassifier(), X, y, X)


def test_relaxation_attack_takes_each_rows_relaxed_optimum():
    """Check that every row is the LP's (or SDP's) attack for that row."""
    model = random_model(n=5, p=4, seed=3)
    X = np.random.default_rng(4).standard_normal((3, 4))
    eps = np.array([0.3, 0.0, 0.2, 0.4])

    for method, relax in [("lp", lp_relaxation), ("sdp", sdp_relaxation)]:
        X_adv = relaxation_attack(model, X, eps=eps, method=method)
        for x, x_adv in zip(X, X_adv):
            np.testing.assert_array_equal(x_adv, relax(model, x, eps).attack)
            assert np.all((x - eps <= x_adv) & (x_adv <= x + eps))
        assert np.any(X_adv != X)


def test_relaxation_attack_respects_budget_and_range():
    """Check the sparse LP attack: at most n_features changes, inside the range."""
    model = random_model(n=5, p=6, seed=5)
    X = np.random.default_rng(6).uniform(0, 1, (4, 6))

    X_adv = relaxation_attack(model, X, eps=0.5, n_features=2, feature_range=(0, 1))

    assert all(len(rows) <= 2 for rows in changed(X, X_adv))
    assert np.all((X_adv >= 0) & (X_adv <= 1))
    assert np.all((X - 0.5 <= X_adv) & (X_adv <= X + 0.5))
    for x, x_adv in zip(X, X_adv):
        attack = lp_relaxation(model, x, 0.5, k=2).attack
        np.testing.assert_array_equal(x_adv, np.clip(attack, 0, 1))


def test_relaxation_attack_moves_states_as_far_as_sampling():
    """Check that the LP attack beats the typical random box corner."""
    model = random_model(n=8, p=5, seed=7)
    rng = np.random.default_rng(8)
    X = rng.standard_normal((5, 5))
    H0 = model.hidden_state(X, tol=1e-12)

    X_adv = relaxation_attack(model, X, eps=0.3)

    moved = np.sum((model.hidden_state(X_adv, tol=1e-12) - H0) ** 2, axis=1)
    for x, h0, reached in zip(X, H0, moved):
        corners = x + 0.3 * rng.choice([-1.0, 1.0], size=(200, 5))
        sampled = np.sum((model.hidden_state(corners, tol=1e-12) - h0) ** 2, axis=1)
        assert reached >= np.median(sampled)


def test_relaxation_attack_reports_failed_rows():
    """Check that rows without an optimal point are kept and reported once."""
    model = random_model(n=4, p=3, seed=9)
    X = np.random.default_rng(10).standard_normal((2, 3))
    options = {"simplex_iteration_limit": 0, "presolve": "off"}

    with pytest.warns(UserWarning, match="no optimal point for 2 of 2 rows"):
        X_adv = relaxation_attack(model, X, eps=0.3, solver_options=options)
    np.testing.assert_array_equal(X_adv, X)


def test_relaxation_attack_bad_inputs():
    """Check the errors for a bad method, a budget with the SDP, and tanh."""
    model = random_model(n=3, p=2)
    X = np.zeros((1, 2))
    with pytest.raises(ValueError, match="method must be 'lp' or 'sdp'"):
        relaxation_attack(model, X, eps=0.1, method="milp")
    with pytest.raises(ValueError, match="only with method='lp'"):
        relaxation_attack(model, X, eps=0.1, n_features=1, method="sdp")
    with pytest.raises(ValueError, match="n_features must be an int"):
        relaxation_attack(model, X, eps=0.1, n_features=0)
    with pytest.raises(ValueError, match="activation='tanh'"):
        relaxation_attack(random_model(n=3, p=2, activation="tanh"), X, eps=0.1)


def test_attacks_return_a_dataframe_for_a_dataframe():
    """Check that a DataFrame comes back with its index and columns, so that
    the estimator that was fitted on names takes the attack without warning."""
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    columns = [f"f{j}" for j in range(4)]
    X = pd.DataFrame(rng.standard_normal((30, 4)), columns=columns)
    X.index = X.index + 100
    y = (X["f0"] + X["f1"] > 0).astype(int)
    clf = ImplicitClassifier(n_hidden=5, max_iter=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    given = X.copy()

    attacks = [
        sensitivity_attack(clf, X, eps=0.5, random_state=0),
        gradient_attack(clf, X, y, eps=0.5, random_state=0),
        relaxation_attack(clf, X.iloc[:3], eps=0.5),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for X_adv in attacks:
            assert isinstance(X_adv, pd.DataFrame)
            assert list(X_adv.columns) == columns
            rows = X.loc[X_adv.index]
            assert np.all(np.abs(X_adv.to_numpy() - rows.to_numpy()) <= 0.5 + 1e-12)
            attack_success_rate(clf, rows, y.loc[X_adv.index], X_adv)
            clf.predict(X_adv)
    pd.testing.assert_frame_equal(X, given)
    X_adv = sensitivity_attack(clf.model_, X.to_numpy(), eps=0.5)
    assert isinstance(X_adv, np.ndarray)
