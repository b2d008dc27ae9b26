"""cnn_core.sklearn.NetworkClassifier: scikit-learn's estimator checks, its tools
(Pipeline, cross_val_score, GridSearchCV) and the estimator's own promises."""
import importlib
import inspect
import sys

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.datasets import load_digits, load_iris  # noqa: E402
from sklearn.model_selection import (GridSearchCV, cross_val_score,  # noqa: E402
                                     train_test_split)
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from cnn_core import _optional, improving  # noqa: E402
from cnn_core.sklearn import NetworkClassifier  # noqa: E402

from conftest import BACKENDS  # noqa: E402


# ---------------------------------------------------------------------------------------
# scikit-learn's estimator checks
# ---------------------------------------------------------------------------------------

def _fast(**kwargs):
    """Settings that keep each check quick: 20 epochs of Adam at rate 0.01 (at the
    default 0.001, 20 epochs leave check_classifiers_train's three blobs below the 0.83
    accuracy it asks for)."""
    return NetworkClassifier(**{"hidden_layer_sizes": (5,), "num_epochs": 20,
                                "mini_batch_size": 32, "learning_rate": 0.01, **kwargs})


#: Checks known to fail, by name, with the reason: none. (check_classifier_data_not_an_array
#: and check_array_api_input skip themselves when pandas or SCIPY_ARRAY_API are missing.)
EXPECTED_FAILED_CHECKS = {}

CHECKED = ([_fast(backend=backend) for backend in BACKENDS]
           + [_fast(hidden_layer_sizes=(6, 4), optimizer="momentum", learning_rate=0.1,
                    lambd=0.1, keep_prob=0.9, activation="tanh")])


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS


if "expected_failed_checks" in inspect.signature(parametrize_with_checks).parameters:
    _with_checks = parametrize_with_checks(CHECKED,
                                           expected_failed_checks=_expected_failed_checks)
else:  # scikit-learn < 1.6
    _with_checks = parametrize_with_checks(CHECKED)


@_with_checks
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


# ---------------------------------------------------------------------------------------
# Importing
# ---------------------------------------------------------------------------------------

def test_importing_cnn_core_does_not_import_the_estimator():
    import subprocess

    code = ("import sys, cnn_core; "
            "print('cnn_core.sklearn' in sys.modules, 'sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert out.split() == ["False", "False"]


def test_without_scikit_learn_the_module_names_the_data_extra(monkeypatch):
    for name in [m for m in sys.modules if m == "sklearn" or m.startswith("sklearn.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.delitem(sys.modules, "cnn_core.sklearn")
    with pytest.raises(ImportError, match=r'scikit-learn.*pip install "cnn_core\[data\]"') \
            as caught:
        importlib.import_module("cnn_core.sklearn")
    assert isinstance(caught.value, _optional.MissingExtraError)
    assert caught.value.name == "sklearn" and caught.value.extra == "data"


# ---------------------------------------------------------------------------------------
# In scikit-learn's tools
# ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)


def _iris_pipeline(**kwargs):
    return make_pipeline(StandardScaler(), NetworkClassifier(
        **{"hidden_layer_sizes": (10,), "num_epochs": 100, "mini_batch_size": 32,
           "learning_rate": 0.01, **kwargs}))


def test_in_a_pipeline(iris):
    X_train, X_test, y_train, y_test = iris
    pipe = _iris_pipeline().fit(X_train, y_train)
    assert pipe.score(X_test, y_test) >= 0.9
    assert pipe[-1].n_features_in_ == 4 and pipe[-1].layers_dims_ == [4, 10, 3]


def test_cross_val_score(iris):
    X_train, _, y_train, _ = iris
    scores = cross_val_score(_iris_pipeline(), X_train, y_train, cv=3)
    assert scores.shape == (3,) and scores.min() >= 0.8


def test_grid_search_in_two_processes_matches_one(iris):
    X_train, _, y_train, _ = iris
    grid = {"networkclassifier__learning_rate": [0.001, 0.01]}
    two = GridSearchCV(_iris_pipeline(num_epochs=30), param_grid=grid, n_jobs=2,
                       cv=2).fit(X_train, y_train)
    one = GridSearchCV(_iris_pipeline(num_epochs=30), param_grid=grid, n_jobs=1,
                       cv=2).fit(X_train, y_train)
    assert two.best_params_ == {"networkclassifier__learning_rate": 0.01}
    # fit is deterministic (the course's seeds), in a worker process as here
    np.testing.assert_array_equal(two.cv_results_["mean_test_score"],
                                  one.cv_results_["mean_test_score"])
    assert two.best_estimator_[-1].learning_rate == 0.01


def test_grid_search_on_the_estimator_itself(iris):
    X_train, X_test, y_train, y_test = iris
    scaler = StandardScaler().fit(X_train)
    search = GridSearchCV(NetworkClassifier(hidden_layer_sizes=(10,), num_epochs=30,
                                            mini_batch_size=32),
                          param_grid={"learning_rate": [0.001, 0.03]}, n_jobs=2, cv=2)
    search.fit(scaler.transform(X_train), y_train)
    assert search.best_params_ == {"learning_rate": 0.03}
    assert search.score(scaler.transform(X_test), y_test) >= 0.85


def test_digits_accuracy():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X / 16, y, test_size=0.25,
                                                        stratify=y, random_state=0)
    clf = NetworkClassifier(hidden_layer_sizes=(64,), num_epochs=30).fit(X_train, y_train)
    assert clf.output_ == "softmax" and clf.layers_dims_ == [64, 64, 10]
    assert clf.score(X_test, y_test) >= 0.95


# ---------------------------------------------------------------------------------------
# Labels and probabilities
# ---------------------------------------------------------------------------------------

def _blobs(n_classes, m=120, seed=0):
    rng = np.random.default_rng(seed)
    centers = 3.0 * rng.standard_normal((n_classes, 2))
    codes = np.arange(m) % n_classes
    return centers[codes] + 0.5 * rng.standard_normal((m, 2)), codes


@pytest.mark.parametrize("names", [["dog", "cat"], ["setosa", "virginica", "versicolor"]])
def test_string_labels_roundtrip(names):
    X, codes = _blobs(len(names))
    y = np.array(names, dtype=object)[codes]
    clf = _fast(num_epochs=50).fit(X, y)
    assert list(clf.classes_) == sorted(names)
    predicted = clf.predict(X)
    assert predicted.dtype == object and set(predicted) <= set(names)
    assert np.mean(predicted == y) >= 0.9
    assert clf.output_ == ("sigmoid" if len(names) == 2 else "softmax")
    assert clf.layers_dims_[-1] == (1 if len(names) == 2 else len(names))


@pytest.mark.parametrize("n_classes", [2, 3])
def test_predict_proba(n_classes):
    X, y = _blobs(n_classes)
    clf = _fast().fit(X, y + 5)  # labels 5, 6(, 7)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), n_classes) and proba.dtype == np.float64
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    # The course's forward pass on the columns, transposed.
    AL, _ = improving.forward_propagation(X.T, clf.parameters_, output=clf.output_)
    expected = AL.T if n_classes > 2 else np.column_stack([1 - AL[0], AL[0]])
    np.testing.assert_allclose(proba, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_fit_is_improving_model_on_the_columns(n_classes):
    X, y = _blobs(n_classes)
    clf = NetworkClassifier(hidden_layer_sizes=(4, 3), optimizer="momentum",
                            learning_rate=0.05, mini_batch_size=16, num_epochs=120,
                            lambd=0.2, keep_prob=0.8).fit(X, y)
    n_out = 1 if n_classes == 2 else n_classes
    parameters, costs = improving.model(
        X.T, y.reshape(1, -1), [2, 4, 3, n_out], optimizer="momentum", learning_rate=0.05,
        mini_batch_size=16, num_epochs=120, print_cost=False, lambd=0.2, keep_prob=0.8,
        output="sigmoid" if n_classes == 2 else "softmax", return_costs=True)
    assert clf.parameters_.keys() == parameters.keys()
    for key, value in parameters.items():
        np.testing.assert_array_equal(clf.parameters_[key], value)
    assert clf.loss_curve_ == costs and len(clf.loss_curve_) == 2  # epochs 0 and 100


def test_float32_trains_in_float32():
    X, y = _blobs(3)
    clf = _fast().fit(X.astype(np.float32), y)
    assert all(value.dtype == np.float32 for value in clf.parameters_.values())
    proba = clf.predict_proba(X)  # float64 input is cast to the weights' dtype
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)


def test_no_epochs_predicts_with_the_initial_weights():
    X, y = _blobs(2)
    clf = _fast(num_epochs=0).fit(X, y)
    assert clf.loss_curve_ == []
    np.testing.assert_array_equal(clf.parameters_["W1"],
                                  improving.initialize_parameters_he([2, 5, 1])["W1"])
    assert clf.predict(X).shape == (len(X),)


# ---------------------------------------------------------------------------------------
# Randomness and errors
# ---------------------------------------------------------------------------------------

def test_fit_leaves_the_global_generator_alone_and_ignores_random_state():
    X, y = _blobs(3)
    np.random.seed(123)
    expected = np.random.rand(3)
    np.random.seed(123)
    fits = [_fast(random_state=state, keep_prob=0.8).fit(X, y)
            for state in (None, 0, 42, np.random.RandomState(1))]
    np.testing.assert_array_equal(np.random.rand(3), expected)
    for other in fits[1:]:
        for key, value in fits[0].parameters_.items():
            np.testing.assert_array_equal(other.parameters_[key], value)


def test_a_single_class_is_refused():
    with pytest.raises(ValueError, match="at least 2 classes in y; got 1 class"):
        _fast().fit(np.ones((5, 2)), ["a"] * 5)


@pytest.mark.parametrize("param, value, match", [
    ("activation", "identity", "activation must be one of"),
    ("hidden_layer_sizes", (4, 0), "hidden_layer_sizes must hold positive integers"),
    ("hidden_layer_sizes", (4.0,), "hidden_layer_sizes must hold positive integers"),
    ("optimizer", "sgd", "optimizer must be one of"),          # improving.model's check
    ("learning_rate", 0, "learning_rate must be finite and > 0"),
    ("mini_batch_size", 0, "mini_batch_size must be a positive integer"),
    ("keep_prob", 0, r"keep_prob must be in \(0, 1\]"),
    ("initialization", "glorot", "initialization must be one of"),
    ("backend", "torch", "backend must be one of"),
    ("random_state", "seed", "cannot be used to seed"),
])
def test_invalid_parameters_fail_in_fit_not_in_init(param, value, match):
    X, y = _blobs(2)
    clf = _fast(**{param: value})  # stored as given
    assert clf.get_params()[param] is value
    with pytest.raises(ValueError, match=match):
        clf.fit(X, y)


def test_an_int_hidden_layer_size_is_one_layer_and_empty_is_none():
    X, y = _blobs(3)
    assert _fast(hidden_layer_sizes=7).fit(X, y).layers_dims_ == [2, 7, 3]
    assert _fast(hidden_layer_sizes=()).fit(X, y).layers_dims_ == [2, 3]


def test_divergence_is_reported_by_fit():
    X, y = _blobs(3)
    with np.errstate(all="ignore"), pytest.raises(ValueError, match="training diverged"):
        _fast(learning_rate=1e300, optimizer="gd").fit(X * 1e3, y)
