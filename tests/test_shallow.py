"""The one-hidden-layer tanh network."""
import numpy as np
import pytest

from cnn_core import datasets, shallow

from conftest import needs_kernels
from helpers import assert_close, central_difference, random_network


def textbook_cost(parameters, X, Y):
    A1 = np.tanh(parameters["W1"] @ X + parameters["b1"])
    A2 = 1 / (1 + np.exp(-(parameters["W2"] @ A1 + parameters["b2"])))
    return float(-np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)) / X.shape[1])


def test_layer_sizes():
    assert shallow.layer_sizes(np.zeros((5, 3)), np.zeros((2, 3))) == (5, 4, 2)


def test_initialize_parameters_draws_W1_then_W2_and_scales_by_001():
    np.random.seed(2)
    parameters = shallow.initialize_parameters(2, 4, 1)
    np.random.seed(2)
    W1 = np.random.randn(4, 2) * 0.01
    W2 = np.random.randn(1, 4) * 0.01
    np.testing.assert_array_equal(parameters["W1"], W1)
    np.testing.assert_array_equal(parameters["W2"], W2)
    assert parameters["b1"].shape == (4, 1) and not parameters["b1"].any()
    assert parameters["b2"].shape == (1, 1) and not parameters["b2"].any()


def test_forward_propagation_cache_and_values(backend):
    parameters, X, _ = random_network([3, 4, 1], 6)
    A2, cache = shallow.forward_propagation(X, parameters, backend=backend)
    assert set(cache) == {"Z1", "A1", "Z2", "A2"}
    assert cache["Z1"].shape == cache["A1"].shape == (4, 6)
    assert cache["Z2"].shape == A2.shape == (1, 6)
    Z1 = parameters["W1"] @ X + parameters["b1"]
    assert_close(cache["A1"], np.tanh(Z1))
    assert_close(A2, 1 / (1 + np.exp(-(parameters["W2"] @ np.tanh(Z1) + parameters["b2"]))))


def test_compute_cost_matches_the_textbook_and_is_0d(backend):
    parameters, X, Y = random_network([3, 4, 1], 6)
    A2, _ = shallow.forward_propagation(X, parameters)
    cost = shallow.compute_cost(A2, Y, parameters, backend=backend)
    assert np.shape(cost) == () and cost.dtype == np.float64
    assert cost == pytest.approx(textbook_cost(parameters, X, Y), rel=1e-13)


def test_compute_cost_is_finite_at_saturation(backend):
    cost = shallow.compute_cost(np.array([[0.0, 1.0, 1.0]]), np.array([[1, 1, 0]]), backend=backend)
    assert np.isfinite(cost) and cost > 100


def test_backward_propagation_matches_central_differences(backend):
    parameters, X, Y = random_network([3, 5, 1], 7, seed=4)
    _, cache = shallow.forward_propagation(X, parameters, backend=backend)
    grads = shallow.backward_propagation(parameters, cache, X, Y, backend=backend)
    assert set(grads) == {"dW1", "db1", "dW2", "db2"}
    for key in ("W1", "b1", "W2", "b2"):
        numeric = central_difference(lambda: textbook_cost(parameters, X, Y), parameters[key])
        assert grads["d" + key].shape == parameters[key].shape
        assert_close(grads["d" + key], numeric, rtol=1e-6, atol=1e-9, what=key)


def test_update_parameters_defaults_to_1_2_and_does_not_modify_the_old_arrays():
    parameters, _, _ = random_network([2, 3, 1], 1)
    grads = {f"d{k}": np.ones_like(v) for k, v in parameters.items()}
    old = dict(parameters)
    before = {k: v.copy() for k, v in parameters.items()}
    updated = shallow.update_parameters(parameters, grads)
    for key in before:
        np.testing.assert_array_equal(old[key], before[key])
        assert_close(updated[key], before[key] - 1.2)


def test_nn_model_does_not_reseed_and_draws_like_the_notes():
    X, Y = datasets.load_planar_dataset()
    np.random.seed(3)
    parameters = shallow.nn_model(X, Y, 4, num_iterations=0)
    np.random.seed(3)
    expected = shallow.initialize_parameters(2, 4, 1)
    for key in expected:
        np.testing.assert_array_equal(parameters[key], expected[key])


def test_nn_model_prints_every_1000(capsys):
    X, Y = datasets.load_planar_dataset()
    shallow.nn_model(X, Y, 4, num_iterations=2001, print_cost=True)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        f"Cost after iteration {i}" for i in (0, 1000, 2000)]


def test_nn_model_reaches_the_course_accuracy_on_the_flower(backend):
    X, Y = datasets.load_planar_dataset()
    parameters, costs = shallow.nn_model(X, Y, 4, num_iterations=10000, backend=backend,
                                         return_costs=True)
    predictions = shallow.predict(parameters, X)
    assert predictions.shape == (1, 400) and set(np.unique(predictions)) <= {0, 1}
    accuracy = float(np.mean(predictions == Y))
    assert 0.88 <= accuracy <= 0.93, accuracy  # the course reports about 90%
    assert len(costs) == 10 and costs[-1] < costs[0]


@needs_kernels
def test_nn_model_backends_agree():
    X, Y = datasets.load_planar_dataset()
    runs = {}
    for backend in ("numpy", "cython"):
        np.random.seed(5)
        runs[backend] = shallow.nn_model(X, Y, 4, num_iterations=500, backend=backend,
                                         return_costs=True)
    (p_np, c_np), (p_cy, c_cy) = runs["numpy"], runs["cython"]
    for key in p_np:
        assert_close(p_cy[key], p_np[key], rtol=1e-11, atol=1e-13, what=key)
    assert_close(c_cy, c_np)


def test_nn_model_trains_in_float32(backend):
    X, Y = datasets.load_planar_dataset()
    np.random.seed(4)
    parameters = shallow.nn_model(X.astype(np.float32), Y, 4, num_iterations=2000,
                                  backend=backend)
    assert all(v.dtype == np.float32 for v in parameters.values())
    assert np.mean(shallow.predict(parameters, X) == Y) > 0.85


@pytest.mark.parametrize("match, call", [
    pytest.param(r"Y must have shape \(n_y, m\) = \(1, 6\); got \(1, 5\)",
                 lambda p, X, Y: shallow.nn_model(X, Y[:, :5], 4), id="Y-shape"),
    pytest.param(r"Y must hold labels in \[0, 1\]",
                 lambda p, X, Y: shallow.nn_model(X, Y * 3, 4), id="Y-label-3"),
    pytest.param(r"parameters\['W1'\] must have shape \(n_1, n_0\) with n_0 = 2",
                 lambda p, X, Y: shallow.forward_propagation(X[:2], p), id="W1-shape"),
    pytest.param("parameters must describe 2 layers",
                 lambda p, X, Y: shallow.forward_propagation(
                     X, {**p, "W3": p["W2"], "b3": p["b2"]}),
                 id="parameters-3-layers"),
    pytest.param(r"A2 must hold probabilities in \[0, 1\]",
                 lambda p, X, Y: shallow.compute_cost(np.array([[1.5]]), np.array([[1.0]])),
                 id="A2-above-1"),
    pytest.param("cache lacks 'A1'",
                 lambda p, X, Y: shallow.backward_propagation(p, {"Z1": 0, "Z2": 0, "A2": 0}, X, Y),
                 id="cache-missing-A1"),
    pytest.param("n_h must be a positive integer",
                 lambda p, X, Y: shallow.nn_model(X, Y, 0), id="n_h-0"),
])
def test_errors_name_the_argument(match, call):
    parameters, X, Y = random_network([3, 4, 1], 6)
    with pytest.raises(ValueError, match=match):
        call(parameters, X, Y)
