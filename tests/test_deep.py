"""The L-layer network: the notes' helpers, caches, gradient keys and models."""
import numpy as np
import pytest

from cnn_core import deep, shallow

from conftest import needs_kernels
from helpers import assert_close, central_difference, random_network


def textbook_L_cost(parameters, X, Y):
    """The notes' forward pass and cost, written out independently of cnn_core."""
    L = len(parameters) // 2
    A = X
    for l in range(1, L):
        A = np.maximum(0, parameters[f"W{l}"] @ A + parameters[f"b{l}"])
    AL = 1 / (1 + np.exp(-(parameters[f"W{L}"] @ A + parameters[f"b{L}"])))
    m = Y.shape[1]
    return float((-Y @ np.log(AL).T - (1 - Y) @ np.log(1 - AL).T)[0, 0] / m)


def test_initialize_parameters_deep_draws_layer_by_layer():
    np.random.seed(3)
    parameters = deep.initialize_parameters_deep([5, 4, 3])
    np.random.seed(3)
    W1 = np.random.randn(4, 5) / np.sqrt(5)
    W2 = np.random.randn(3, 4) / np.sqrt(4)
    np.testing.assert_array_equal(parameters["W1"], W1)
    np.testing.assert_array_equal(parameters["W2"], W2)
    assert parameters["b1"].shape == (4, 1) and parameters["b2"].shape == (3, 1)
    assert sorted(parameters) == ["W1", "W2", "b1", "b2"]


def test_two_layer_initialisation_is_the_shallow_one():
    assert deep.initialize_parameters is shallow.initialize_parameters


def test_linear_forward_and_its_cache(backend):
    parameters, A, _ = random_network([3, 2], 4)
    W, b = parameters["W1"], parameters["b1"]
    Z, cache = deep.linear_forward(A, W, b, backend=backend)
    assert_close(Z, W @ A + b)
    assert isinstance(cache, tuple) and len(cache) == 3
    for cached, original in zip(cache, (A, W, b)):
        np.testing.assert_array_equal(cached, original)


def test_activation_helpers_return_A_and_Z():
    Z = np.array([[-1.0, 0.0, 2.0]])
    A, cache = deep.sigmoid(Z)
    assert_close(A, 1 / (1 + np.exp(-Z)))
    np.testing.assert_array_equal(cache, Z)
    A, cache = deep.relu(Z)
    np.testing.assert_array_equal(A, [[0.0, 0.0, 2.0]])
    np.testing.assert_array_equal(cache, Z)


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_linear_activation_forward_cache(backend, activation):
    parameters, A_prev, _ = random_network([3, 2], 4)
    W, b = parameters["W1"], parameters["b1"]
    A, cache = deep.linear_activation_forward(A_prev, W, b, activation, backend=backend)
    (cached_A_prev, cached_W, cached_b), Z = cache
    assert_close(Z, W @ A_prev + b)
    g = (lambda z: np.maximum(0, z)) if activation == "relu" else (lambda z: 1 / (1 + np.exp(-z)))
    assert_close(A, g(Z))
    np.testing.assert_array_equal(cached_A_prev, A_prev)


def test_L_model_forward(backend):
    parameters, X, Y = random_network([5, 4, 3, 1], 6)
    AL, caches = deep.L_model_forward(X, parameters, backend=backend)
    assert AL.shape == (1, 6) and len(caches) == 3
    assert [cache[1].shape for cache in caches] == [(4, 6), (3, 6), (1, 6)]
    assert deep.compute_cost(AL, Y) == pytest.approx(textbook_L_cost(parameters, X, Y), rel=1e-13)


def test_compute_cost_shape_and_saturation(backend):
    cost = deep.compute_cost(np.array([[0.8, 0.9, 0.4]]), np.array([[1, 1, 0]]), backend=backend)
    assert cost.shape == ()
    expected = -(np.log(0.8) + np.log(0.9) + np.log(0.6)) / 3
    assert cost == pytest.approx(expected, rel=1e-14)
    saturated = deep.compute_cost(np.array([[1.0, 0.0]]), np.array([[0, 1]]), backend=backend)
    assert np.isfinite(saturated)
    perfect = deep.compute_cost(np.array([[1.0, 0.0]]), np.array([[1, 0]]), backend=backend)
    assert 0 <= perfect < 1e-15


def test_linear_backward(backend):
    parameters, A_prev, _ = random_network([4, 3], 5)
    W, b = parameters["W1"], parameters["b1"]
    dZ = np.random.default_rng(1).standard_normal((3, 5))
    dA_prev, dW, db = deep.linear_backward(dZ, (A_prev, W, b), backend=backend)
    assert_close(dW, dZ @ A_prev.T / 5)
    assert_close(db, dZ.sum(axis=1, keepdims=True) / 5)
    assert_close(dA_prev, W.T @ dZ)


def test_relu_and_sigmoid_backward(backend):
    Z = np.array([[-1.0, 0.0, 2.0], [3.0, -0.5, 0.1]])
    dA = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    np.testing.assert_array_equal(deep.relu_backward(dA, Z, backend=backend),
                                  [[0, 0, 3], [4, 0, 6]])
    s = 1 / (1 + np.exp(-Z))
    assert_close(deep.sigmoid_backward(dA, Z, backend=backend), dA * s * (1 - s))


def test_linear_activation_backward_composes_the_two(backend):
    parameters, A_prev, _ = random_network([4, 3], 5, seed=2)
    A, cache = deep.linear_activation_forward(A_prev, parameters["W1"], parameters["b1"], "relu")
    dA = np.random.default_rng(3).standard_normal(A.shape)
    dA_prev, dW, db = deep.linear_activation_backward(dA, cache, "relu", backend=backend)
    dZ = deep.relu_backward(dA, cache[1])
    expected = deep.linear_backward(dZ, cache[0])
    for got, want in zip((dA_prev, dW, db), expected):
        assert_close(got, want)


@pytest.mark.parametrize("dims", [[3, 1], [4, 3, 1], [5, 4, 3, 2, 1]])
def test_L_model_backward_keys_and_central_differences(backend, dims):
    parameters, X, Y = random_network(dims, 6, seed=len(dims))
    AL, caches = deep.L_model_forward(X, parameters, backend=backend)
    grads = deep.L_model_backward(AL, Y, caches, backend=backend)
    L = len(dims) - 1
    assert set(grads) == {f"{p}{l}" for p in ("dA", "dW", "db") for l in range(1, L + 1)}
    for key in parameters:
        numeric = central_difference(lambda: textbook_L_cost(parameters, X, Y), parameters[key])
        assert_close(grads["d" + key], numeric, rtol=1e-6, atol=1e-9, what=key)
    # dA1 is, in the notes' keying, the gradient with respect to X (times m: the cost is a mean).
    numeric_dX = central_difference(lambda: textbook_L_cost(parameters, X, Y), X)
    assert_close(grads["dA1"], numeric_dX * X.shape[1], rtol=1e-6, atol=1e-9)


def test_L_model_backward_equals_the_notes_dAL_route(backend):
    parameters, X, Y = random_network([4, 3, 1], 5, seed=9)
    AL, caches = deep.L_model_forward(X, parameters, backend=backend)
    grads = deep.L_model_backward(AL, Y, caches, backend=backend)
    dAL = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
    dA1, dW2, db2 = deep.linear_activation_backward(dAL, caches[1], "sigmoid")
    dA0, dW1, db1 = deep.linear_activation_backward(dA1, caches[0], "relu")
    for key, value in {"dA2": dA1, "dW2": dW2, "db2": db2, "dA1": dA0, "dW1": dW1, "db1": db1}.items():
        assert_close(grads[key], value, rtol=1e-12, atol=1e-15, what=key)


def test_L_model_backward_is_finite_when_AL_saturates(backend):
    parameters = {"W1": np.array([[50.0, -50.0]]), "b1": np.array([[0.0]])}
    X = np.array([[20.0, -20.0], [-20.0, 20.0]])
    Y = np.array([[1.0, 0.0]])
    AL, caches = deep.L_model_forward(X, parameters, backend=backend)
    assert AL.tolist() == [[1.0, 0.0]]
    grads = deep.L_model_backward(AL, Y, caches, backend=backend)
    assert all(np.isfinite(g).all() for g in grads.values())


def _course_L_model_backward_case():
    """The course's own test case: its AL is a normal draw, not the sigmoid of Z2."""
    np.random.seed(3)
    AL = np.random.randn(1, 2)
    Y = np.array([[1, 0]])
    A1, W1, b1, Z1 = (np.random.randn(*shape) for shape in [(4, 2), (3, 4), (3, 1), (3, 2)])
    A2, W2, b2, Z2 = (np.random.randn(*shape) for shape in [(3, 2), (1, 3), (1, 1), (1, 2)])
    return AL, Y, (((A1, W1, b1), Z1), ((A2, W2, b2), Z2))


def test_L_model_backward_gives_the_course_published_gradients(backend):
    AL, Y, caches = _course_L_model_backward_case()
    assert_close(AL, np.array([[1.78862847, 0.43650985]]), rtol=1e-8)
    grads = deep.L_model_backward(AL, Y, caches, backend=backend)
    printed = 5e-9  # the course prints 8 decimals
    assert_close(grads["dW1"][0], np.array([0.41010002, 0.07807203, 0.13798444, 0.10502167]),
                 rtol=0, atol=printed, what="dW1[0]")
    assert_close(grads["db1"], np.array([[-0.22007063], [0.0], [-0.02835349]]), rtol=0,
                 atol=printed, what="db1")
    # The gradient with respect to A1, which the notes key "dA2".
    assert_close(grads["dA2"], np.array([[0.12913162, -0.44014127], [-0.14175655, 0.48317296],
                                         [0.01663708, -0.05670698]]), rtol=0, atol=printed,
                 what="dA2")


def test_L_model_backward_refuses_to_divide_by_zero_off_the_sigmoid():
    AL, Y, caches = _course_L_model_backward_case()
    AL = np.array([[1.0, 0.4]])  # 1.0 is not sigmoid(Z2[0, 0]): dAL = 0/0
    with pytest.raises(ValueError, match=r"AL is 1.0 at index \(0, 0\).*divides by zero"):
        deep.L_model_backward(AL, Y, caches)


@pytest.mark.parametrize("module", [deep, shallow])
def test_update_parameters_stores_new_arrays_in_the_given_dict(module):
    parameters, _, _ = random_network([3, 2, 1], 1)
    grads = {f"d{k}": np.full_like(v, 2.0) for k, v in parameters.items()}
    grads["dA1"] = np.zeros((3, 1))  # extra keys are ignored
    old = dict(parameters)
    before = {k: v.copy() for k, v in parameters.items()}
    returned = module.update_parameters(parameters, grads, 0.1)
    assert returned is parameters
    for key in before:
        assert_close(parameters[key], before[key] - 0.2, what=key)
        np.testing.assert_array_equal(old[key], before[key])  # not modified in place
        assert parameters[key] is not old[key]


@pytest.mark.parametrize("module", [deep, shallow])
def test_a_learner_loop_that_does_not_reassign_still_trains(module):
    parameters, X, Y = random_network([3, 2, 1], 8, seed=4)
    costs = []
    for _ in range(20):
        AL, caches = deep.L_model_forward(X, parameters)
        costs.append(float(deep.compute_cost(AL, Y)))
        module.update_parameters(parameters, deep.L_model_backward(AL, Y, caches), 0.5)
    assert costs[-1] < costs[0] - 1e-3


@pytest.mark.parametrize("bad, message", [
    ({"dW2": np.ones((3, 3))}, r"grads\['dW2'\] must have shape"),
    ({"db1": None}, "grads lacks 'db1'"),
])
def test_update_parameters_rejects_bad_grads_and_leaves_the_dict_alone(bad, message):
    parameters, _, _ = random_network([3, 2, 1], 1)
    grads = {f"d{k}": np.full_like(v, 2.0) for k, v in parameters.items()}
    grads.update(bad)
    grads = {k: v for k, v in grads.items() if v is not None}
    before = dict(parameters)
    with pytest.raises(ValueError, match=message):
        deep.update_parameters(parameters, grads, 0.1)
    assert all(parameters[k] is before[k] for k in before)


def test_models_seed_1_and_initialise_as_the_notes():
    X = np.random.default_rng(0).standard_normal((6, 8))
    Y = np.ones((1, 8))
    two = deep.two_layer_model(X, Y, (6, 3, 1), num_iterations=0)
    np.random.seed(1)
    expected = shallow.initialize_parameters(6, 3, 1)
    deep_params = deep.L_layer_model(X, Y, [6, 5, 2, 1], num_iterations=0)
    np.random.seed(1)
    expected_deep = deep.initialize_parameters_deep([6, 5, 2, 1])
    for key in expected:
        np.testing.assert_array_equal(two[key], expected[key])
    for key in expected_deep:
        np.testing.assert_array_equal(deep_params[key], expected_deep[key])


def test_model_print_formats(capsys):
    parameters, X, Y = random_network([4, 3, 1], 10)
    deep.two_layer_model(X, Y, (4, 3, 1), num_iterations=101, print_cost=True)
    two_lines = capsys.readouterr().out.splitlines()
    deep.L_layer_model(X, Y, [4, 3, 1], num_iterations=101, print_cost=True)
    l_lines = capsys.readouterr().out.splitlines()
    assert [line.split(": ")[0] for line in two_lines] == ["Cost after iteration 0",
                                                           "Cost after iteration 100"]
    # two_layer_model prints the full repr (str.format); L_layer_model prints %f.
    assert len(two_lines[0].split(": ")[1]) > 8
    assert len(l_lines[0].split(": ")[1]) == 8 and l_lines[1].startswith("Cost after iteration 100")


def test_one_training_step_is_one_gradient_descent_step(backend):
    parameters, X, Y = random_network([5, 4, 1], 9)
    trained = deep.L_layer_model(X, Y, [5, 4, 1], learning_rate=0.1, num_iterations=1,
                                 backend=backend)
    np.random.seed(1)
    start = deep.initialize_parameters_deep([5, 4, 1])
    AL, caches = deep.L_model_forward(X, start)
    expected = deep.update_parameters(start, deep.L_model_backward(AL, Y, caches), 0.1)
    for key in expected:
        assert_close(trained[key], expected[key], what=key)


@needs_kernels
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-4)])
def test_backends_agree_on_a_whole_run(dtype, rtol):
    _, X, Y = random_network([30, 1], 40, seed=11, dtype=dtype)
    runs = {b: deep.L_layer_model(X, Y, [30, 8, 5, 1], learning_rate=0.05, num_iterations=300,
                                  backend=b, return_costs=True) for b in ("numpy", "cython")}
    (p_np, c_np), (p_cy, c_cy) = runs["numpy"], runs["cython"]
    for key in p_np:
        assert p_cy[key].dtype == dtype
        assert_close(p_cy[key], p_np[key], rtol=rtol, atol=rtol * 1e-2, what=key)
    assert_close(c_cy, c_np, rtol=rtol)


def test_predict_prints_the_accuracy(capsys, backend):
    parameters = {"W1": np.array([[1.0, -1.0]]), "b1": np.array([[0.0]])}
    X = np.array([[2.0, -1.0, 0.5], [1.0, 1.0, 3.0]])
    p = deep.predict(X, np.array([[1, 0, 1]]), parameters, backend=backend)
    np.testing.assert_array_equal(p, [[1.0, 0.0, 0.0]])
    assert capsys.readouterr().out.strip() == "Accuracy: " + str(2 / 3)
    deep.predict(X, None, parameters)
    assert capsys.readouterr().out == ""


def test_public_functions_accept_views_and_read_only_arrays(backend):
    parameters, X, Y = random_network([6, 3, 1], 8)
    wide = np.zeros((6, 16))
    wide[:, ::2] = X
    strided = wide[:, ::2]  # a non-contiguous view of the same values
    frozen = {k: v.copy() for k, v in parameters.items()}
    for v in frozen.values():
        v.setflags(write=False)
    AL_view, _ = deep.L_model_forward(strided, frozen, backend=backend)
    AL, _ = deep.L_model_forward(X, parameters, backend=backend)
    assert_close(AL_view, AL)


def _with_nan_at_1_2(X):
    bad = X.copy()
    bad[1, 2] = np.nan
    return bad


def _backward_with_a_wrong_cache(parameters, X, Y):
    AL, caches = deep.L_model_forward(X, parameters)
    broken = [caches[0], ((np.ones((2, 5)), np.ones((1, 2)), np.ones((1, 1))), caches[1][1])]
    return deep.L_model_backward(AL, Y, broken)


@pytest.mark.parametrize("error, match, call", [
    pytest.param(ValueError, r"X must be a 2-D array; got ndim=1",
                 lambda p, X, Y: deep.L_model_forward(X[0], p), id="X-1-D"),
    pytest.param(ValueError, r"X must be finite \(no NaN or infinity\); found nan at index \(1, 2\)",
                 lambda p, X, Y: deep.L_model_forward(_with_nan_at_1_2(X), p), id="X-nan"),
    pytest.param(TypeError, "X must be a real numeric array; got dtype complex128",
                 lambda p, X, Y: deep.L_model_forward(X.astype(complex), p), id="X-complex"),
    pytest.param(ValueError, r"parameters lacks 'b2'",
                 lambda p, X, Y: deep.L_model_forward(X, {"W1": p["W1"], "b1": p["b1"],
                                                          "W2": p["W2"], "c2": p["b2"]}),
                 id="parameters-missing-b2"),
    pytest.param(ValueError, r"W must have shape \(n, n_prev\) with n_prev = A_prev.shape\[0\] = 4",
                 lambda p, X, Y: deep.linear_activation_forward(X, np.ones((3, 5)), np.ones((3, 1)),
                                                                "relu"),
                 id="W-shape"),
    pytest.param(ValueError, r"b must have shape \(n, 1\) = \(3, 1\); got \(1, 3\)",
                 lambda p, X, Y: deep.linear_activation_forward(X, np.ones((3, 4)), np.ones((1, 3)),
                                                                "relu"),
                 id="b-shape"),
    pytest.param(ValueError, "activation must be one of",
                 lambda p, X, Y: deep.linear_activation_forward(X, np.ones((3, 4)), np.ones((3, 1)),
                                                                "softplus"),
                 id="activation-unknown"),
    pytest.param(ValueError, r"dZ must have shape \(n, m\) = \(3, 5\)",
                 lambda p, X, Y: deep.linear_backward(np.ones((3, 4)),
                                                      (X, np.ones((3, 4)), np.ones((3, 1)))),
                 id="dZ-shape"),
    pytest.param(ValueError, r"dA must have shape Z.shape = \(2, 2\)",
                 lambda p, X, Y: deep.relu_backward(np.ones((2, 3)), np.ones((2, 2))),
                 id="dA-shape"),
    pytest.param(ValueError, r"AL must hold probabilities in \[0, 1\]",
                 lambda p, X, Y: deep.compute_cost(np.array([[1.2]]), np.array([[1.0]])),
                 id="AL-above-1"),
    pytest.param(ValueError, r"Y must have shape \(1, m\) = \(1, 5\)",
                 lambda p, X, Y: deep.L_layer_model(X, Y[:, :4], [4, 3, 1]), id="Y-shape"),
    pytest.param(ValueError, r"Y must hold labels in \[0, 1\]; found -1",
                 lambda p, X, Y: deep.L_layer_model(X, -Y, [4, 3, 1]), id="Y-negative"),
    pytest.param(ValueError, "layers_dims must start with n_x = X.shape",
                 lambda p, X, Y: deep.L_layer_model(X, Y, [3, 3, 1]), id="layers_dims-n_x"),
    pytest.param(ValueError, r"layers_dims must be \(n_x, n_h, 1\)",
                 lambda p, X, Y: deep.two_layer_model(X, Y, (4, 3, 2, 1)),
                 id="two_layer_model-layers_dims"),
    pytest.param(ValueError, "num_iterations must be a non-negative integer",
                 lambda p, X, Y: deep.L_layer_model(X, Y, [4, 3, 1], num_iterations=2.5),
                 id="num_iterations-float"),
    pytest.param(ValueError, r"caches\[1\] takes 2 inputs but layer 1 has 3 units",
                 _backward_with_a_wrong_cache, id="caches-wrong-width"),
])
def test_errors_name_the_argument(error, match, call):
    parameters, X, Y = random_network([4, 3, 1], 5)
    with pytest.raises(error, match=match):
        call(parameters, X, Y)


def test_math_level_functions_accept_soft_labels():
    parameters, X, _ = random_network([4, 3, 1], 5)
    soft = np.array([[0.1, 0.9, 0.5, 0.3, 0.7]])
    AL, caches = deep.L_model_forward(X, parameters)
    assert np.isfinite(deep.compute_cost(AL, soft))
    grads = deep.L_model_backward(AL, soft, caches)
    for key in parameters:
        numeric = central_difference(lambda: textbook_L_cost(parameters, X, soft), parameters[key])
        assert_close(grads["d" + key], numeric, rtol=1e-6, atol=1e-9)


def _callback_runs():
    """Each model with 250 iterations (nn_model: 2500), recording into a list."""
    from cnn_core import logistic

    _, X, Y = random_network([3, 1], 12, seed=5)
    return {
        "L_layer_model": (100, lambda cb: deep.L_layer_model(
            X, Y, [3, 4, 1], 0.1, 250, print_cost=True, return_costs=True, callback=cb)[1]),
        "two_layer_model": (100, lambda cb: deep.two_layer_model(
            X, Y, [3, 4, 1], 0.1, 250, print_cost=True, return_costs=True, callback=cb)[1]),
        "nn_model": (1000, lambda cb: shallow.nn_model(
            X, Y, 4, 2500, print_cost=True, return_costs=True, callback=cb)[1]),
        "logistic.model": (100, lambda cb: logistic.model(
            X, Y, X, Y, 250, 0.1, print_cost=True, callback=cb)["costs"]),
    }


@pytest.mark.parametrize("name", ["L_layer_model", "two_layer_model", "nn_model",
                                  "logistic.model"])
def test_callback_sees_every_recorded_cost_after_its_printed_line(name, capsys):
    every, run = _callback_runs()[name]
    seen = []
    costs = run(lambda i, cost: seen.append((i, cost, capsys.readouterr().out)))
    assert [i for i, _, _ in seen] == [0, every, 2 * every]
    assert [c for _, c, _ in seen] == [float(c) for c in costs]
    for i, _, printed in seen:  # the line print_cost prints comes first
        assert printed.splitlines()[-1].startswith(f"Cost after iteration {i}: ")


@pytest.mark.parametrize("name", ["L_layer_model", "nn_model", "logistic.model"])
def test_callback_must_be_callable(name):
    _, run = _callback_runs()[name]
    with pytest.raises(TypeError, match="callback must be callable"):
        run("not callable")


def test_seed_replaces_the_notes_seed_1():
    _, X, Y = random_network([3, 1], 12, seed=5)
    default = deep.L_layer_model(X, Y, [3, 4, 1], num_iterations=1)
    seeded_1 = deep.L_layer_model(X, Y, [3, 4, 1], num_iterations=1, seed=1)
    seeded_2 = deep.L_layer_model(X, Y, [3, 4, 1], num_iterations=1, seed=2)
    np.testing.assert_array_equal(default["W1"], seeded_1["W1"])
    assert not np.array_equal(default["W1"], seeded_2["W1"])
