"""Logistic regression: propagate, optimize, predict and model."""
import numpy as np
import pytest

from cnn_core import logistic

from conftest import needs_kernels
from helpers import assert_close, central_difference

# The course's small propagate example.
W = np.array([[1.0], [2.0]])
B = 2.0
X = np.array([[1.0, 2.0, -1.0], [3.0, 4.0, -3.2]])
Y = np.array([[1, 0, 1]])


def textbook_cost(w, b, X, Y):
    A = 1 / (1 + np.exp(-(w.T @ X + b)))
    return float(-np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A)))


def test_initialize_with_zeros():
    w, b = logistic.initialize_with_zeros(3)
    assert w.shape == (3, 1) and w.dtype == np.float64 and not w.any()
    assert b == 0.0 and isinstance(b, float)
    with pytest.raises(ValueError, match="dim must be a positive integer"):
        logistic.initialize_with_zeros(0)


def test_propagate_on_the_course_example(backend):
    grads, cost = logistic.propagate(W, B, X, Y, backend=backend)
    assert set(grads) == {"dw", "db"} and grads["dw"].shape == (2, 1)
    assert np.shape(cost) == ()
    # The values the course prints for this example.
    assert_close(grads["dw"], [[0.99845601], [2.39507239]], rtol=1e-8)
    assert grads["db"] == pytest.approx(0.00145557813678, rel=1e-9)
    assert cost == pytest.approx(5.801545319394553, rel=1e-12)
    assert cost == pytest.approx(textbook_cost(W, B, X, Y), rel=1e-13)


def test_propagate_gradients_match_central_differences(backend):
    rng = np.random.default_rng(0)
    w, X_, Y_ = rng.standard_normal((4, 1)), rng.standard_normal((4, 7)), rng.random((1, 7))
    b = np.array(0.3)
    grads, _ = logistic.propagate(w, float(b), X_, Y_, backend=backend)
    assert_close(grads["dw"], central_difference(lambda: textbook_cost(w, b, X_, Y_), w),
                 rtol=1e-7, atol=1e-10)
    numeric_db = central_difference(lambda: textbook_cost(w, b, X_, Y_), b.reshape(1))
    assert grads["db"] == pytest.approx(numeric_db[0], rel=1e-7)


def test_optimize_records_every_100_and_returns_the_last_gradients(backend):
    params, grads, costs = logistic.optimize(W, B, X, Y, num_iterations=201,
                                             learning_rate=0.009, backend=backend)
    assert len(costs) == 3
    # The returned grads are those computed at the parameters before the last update.
    w_before = params["w"] + 0.009 * grads["dw"]
    b_before = params["b"] + 0.009 * grads["db"]
    expected, _ = logistic.propagate(w_before, b_before, X, Y, backend=backend)
    assert_close(grads["dw"], expected["dw"], rtol=1e-10)
    # The first recorded cost is the cost at the starting point.
    assert costs[0] == pytest.approx(textbook_cost(W, B, X, Y), rel=1e-13)


def test_optimize_on_the_course_example():
    params, grads, costs = logistic.optimize(W, B, X, Y, num_iterations=100,
                                             learning_rate=0.009)
    assert_close(params["w"], [[0.19033591], [0.12259159]], rtol=1e-7)
    assert params["b"] == pytest.approx(1.92535983008, rel=1e-9)
    assert_close(grads["dw"], [[0.67752042], [1.41625495]], rtol=1e-7)
    assert grads["db"] == pytest.approx(0.219194504541, rel=1e-9)


def test_optimize_prints_every_100(capsys):
    logistic.optimize(W, B, X, Y, num_iterations=250, print_cost=True)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "Cost after iteration 0", "Cost after iteration 100", "Cost after iteration 200"]


def test_predict(backend):
    w = np.array([[0.1124579], [0.23106775]])
    b = -0.3
    X_ = np.array([[1.0, -1.1, -3.2], [1.2, 2.0, 0.1]])
    p = logistic.predict(w, b, X_, backend=backend)
    assert p.shape == (1, 3)
    np.testing.assert_array_equal(p, [[1.0, 1.0, 0.0]])


def test_model_returns_the_course_dict(backend):
    rng = np.random.default_rng(1)
    X_train, X_test = rng.standard_normal((3, 40)), rng.standard_normal((3, 10))
    true_w = np.array([[2.0], [-1.0], [0.5]])
    Y_train = (true_w.T @ X_train > 0).astype(float)
    Y_test = (true_w.T @ X_test > 0).astype(float)
    d = logistic.model(X_train, Y_train, X_test, Y_test, num_iterations=300,
                       learning_rate=0.5, backend=backend)
    assert set(d) == {"costs", "Y_prediction_test", "Y_prediction_train", "w", "b",
                      "learning_rate", "num_iterations"}
    assert d["Y_prediction_train"].shape == (1, 40) and d["Y_prediction_test"].shape == (1, 10)
    assert len(d["costs"]) == 3 and d["costs"][0] > d["costs"][-1]
    assert np.mean(d["Y_prediction_train"] == Y_train) >= 0.95


@needs_kernels
def test_backends_agree_on_a_whole_run():
    rng = np.random.default_rng(2)
    X_ = rng.standard_normal((6, 30))
    Y_ = (rng.random((1, 30)) > 0.5).astype(float)
    runs = {}
    for backend in ("numpy", "cython"):
        w, b = logistic.initialize_with_zeros(6)
        runs[backend] = logistic.optimize(w, b, X_, Y_, 500, 0.1, backend=backend)
    (p_np, g_np, c_np), (p_cy, g_cy, c_cy) = runs["numpy"], runs["cython"]
    assert_close(p_cy["w"], p_np["w"])
    assert p_cy["b"] == pytest.approx(p_np["b"], rel=1e-12)
    assert_close(g_cy["dw"], g_np["dw"])
    assert g_cy["db"] == pytest.approx(g_np["db"], rel=1e-12, abs=1e-15)
    assert_close(c_cy, c_np)


@pytest.mark.parametrize("match, call", [
    pytest.param(r"w must have shape \(n_x, 1\)",
                 lambda: logistic.propagate(np.ones((3, 1)), 0.0, X, Y), id="w-shape"),
    pytest.param(r"Y must have shape \(1, m\) = \(1, 3\); got \(1, 2\)",
                 lambda: logistic.propagate(W, 0.0, X, Y[:, :2]), id="Y-shape"),
    pytest.param("b must be a finite real scalar",
                 lambda: logistic.propagate(W, np.nan, X, Y), id="b-nan"),
    pytest.param(r"Y_train must hold labels in \[0, 1\]; found 2",
                 lambda: logistic.model(X, np.array([[1, 2, 0]]), X, Y), id="Y_train-label-2"),
    pytest.param("X_test must have n_x",
                 lambda: logistic.model(X, Y, np.ones((3, 2)), np.ones((1, 2))), id="X_test-n_x"),
    pytest.param("learning_rate must be finite and > 0",
                 lambda: logistic.optimize(W, B, X, Y, 10, -1.0), id="learning_rate-negative"),
])
def test_errors_name_the_argument(match, call):
    with pytest.raises(ValueError, match=match):
        call()
