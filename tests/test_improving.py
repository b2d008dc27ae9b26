"""The follow-on course's toolbox on L layers: initialisations, dropout, L2, softmax,
mini-batches, optimizers, decay, gradient checking and the training loop."""
import numpy as np
import pytest

from cnn_core import improving as imp

from conftest import needs_kernels
from helpers import assert_close, central_difference


def small_network(layers_dims, m, seed=0, classes=None):
    """float64 parameters with non-zero biases, X, and labels (0/1 or integers 0..K-1)."""
    rng = np.random.default_rng(seed)
    parameters = {}
    for l in range(1, len(layers_dims)):
        parameters[f"W{l}"] = rng.standard_normal((layers_dims[l], layers_dims[l - 1]))
        parameters[f"b{l}"] = 0.1 * rng.standard_normal((layers_dims[l], 1))
    X = rng.standard_normal((layers_dims[0], m))
    if classes is None:
        Y = (rng.random((1, m)) > 0.5).astype(np.float64)
    else:
        Y = rng.integers(0, classes, size=(1, m))
    return parameters, X, Y


def away_from_kinks(parameters, X, margin=1e-3):
    """True when no hidden pre-activation lies within ``margin`` of the ReLU kink."""
    _, caches = imp.forward_propagation(X, parameters, output="softmax"
                                        if parameters[f"W{len(parameters) // 2}"].shape[0] > 1
                                        else "sigmoid")
    return all(np.abs(Z).min() > margin for _, Z, _ in caches[:-1])


# ---------------------------------------------------------------------------------------
# Initialisation
# ---------------------------------------------------------------------------------------

INITIALIZERS = [imp.initialize_parameters_zeros, imp.initialize_parameters_random,
                imp.initialize_parameters_he, imp.initialize_parameters_xavier]


@pytest.mark.parametrize("init", INITIALIZERS)
def test_initializers_shapes_and_reproducible(init):
    dims = [5, 4, 3, 1]
    np.random.seed(123)
    first = init(dims)
    np.random.seed(999)  # the initialisers seed themselves: the global state is irrelevant
    second = init(dims)
    assert sorted(first) == ["W1", "W2", "W3", "b1", "b2", "b3"]
    for l in range(1, 4):
        assert first[f"W{l}"].shape == (dims[l], dims[l - 1])
        assert first[f"b{l}"].shape == (dims[l], 1)
        np.testing.assert_array_equal(first[f"b{l}"], 0)
        np.testing.assert_array_equal(first[f"W{l}"], second[f"W{l}"])


def test_zeros_are_zeros():
    parameters = imp.initialize_parameters_zeros([3, 2, 1])
    for value in parameters.values():
        np.testing.assert_array_equal(value, 0)


@pytest.mark.parametrize("init, scale", [
    (imp.initialize_parameters_random, lambda n: 10.0),
    (imp.initialize_parameters_he, lambda n: np.sqrt(2.0 / n)),
    (imp.initialize_parameters_xavier, lambda n: np.sqrt(1.0 / n)),
])
def test_initializers_draw_as_the_course(init, scale):
    parameters = init([4, 3, 2])
    np.random.seed(3)
    W1 = np.random.randn(3, 4) * scale(4)
    W2 = np.random.randn(2, 3) * scale(3)
    np.testing.assert_array_equal(parameters["W1"], W1)
    np.testing.assert_array_equal(parameters["W2"], W2)


@pytest.mark.parametrize("init, std", [
    (imp.initialize_parameters_he, np.sqrt(2 / 400)),
    (imp.initialize_parameters_xavier, np.sqrt(1 / 400)),
    (imp.initialize_parameters_random, 10.0),
])
def test_initializer_scales(init, std):
    W = init([400, 500])["W1"]
    assert abs(W.std() - std) < 0.02 * std
    assert abs(W.mean()) < 0.02 * std


def test_initializer_rejects_bad_dims():
    with pytest.raises(ValueError, match="layers_dims"):
        imp.initialize_parameters_he([3])
    with pytest.raises(ValueError, match=r"layers_dims\[1\]"):
        imp.initialize_parameters_he([3, 0, 1])


# ---------------------------------------------------------------------------------------
# Forward and dropout
# ---------------------------------------------------------------------------------------

def course_forward_with_dropout(X, parameters, keep_prob):
    """The course's three-layer forward_propagation_with_dropout, written out."""
    np.random.seed(1)
    W1, b1, W2, b2, W3, b3 = (parameters[k] for k in ("W1", "b1", "W2", "b2", "W3", "b3"))
    Z1 = np.dot(W1, X) + b1
    A1 = np.maximum(0, Z1)
    D1 = np.random.rand(A1.shape[0], A1.shape[1])
    D1 = (D1 < keep_prob).astype(int)
    A1 = A1 * D1
    A1 = A1 / keep_prob
    Z2 = np.dot(W2, A1) + b2
    A2 = np.maximum(0, Z2)
    D2 = np.random.rand(A2.shape[0], A2.shape[1])
    D2 = (D2 < keep_prob).astype(int)
    A2 = A2 * D2
    A2 = A2 / keep_prob
    Z3 = np.dot(W3, A2) + b3
    A3 = 1 / (1 + np.exp(-Z3))
    return A3, D1, D2


def test_dropout_reproduces_the_course_order(backend):
    parameters, X, _ = small_network([3, 5, 4, 1], 6)
    A3, D1, D2 = course_forward_with_dropout(X, parameters, 0.7)
    AL, caches = imp.forward_propagation(X, parameters, keep_prob=0.7, seed=1, backend=backend)
    np.testing.assert_array_equal(caches[0][2], D1.astype(bool))
    np.testing.assert_array_equal(caches[1][2], D2.astype(bool))
    assert caches[2][2] is None
    assert_close(AL, A3, rtol=1e-13)
    # without seed= the masks come from the global generator as it stands
    np.random.seed(1)
    AL_again, caches_again = imp.forward_propagation(X, parameters, keep_prob=0.7,
                                                     backend=backend)
    np.testing.assert_array_equal(caches_again[0][2], D1.astype(bool))
    np.testing.assert_array_equal(AL_again, AL)
    _, caches_next = imp.forward_propagation(X, parameters, keep_prob=0.7, backend=backend)
    assert not np.array_equal(caches_next[0][2], D1.astype(bool))


def test_dropout_keeps_a_keep_prob_fraction_and_scales():
    parameters, X, _ = small_network([20, 300, 200, 1], 200)
    keep_prob = 0.8
    np.random.seed(0)
    _, caches = imp.forward_propagation(X, parameters, keep_prob=keep_prob)
    for l in (0, 1):
        D = caches[l][2]
        assert D.dtype == bool and D.shape == caches[l][1].shape
        assert abs(D.mean() - keep_prob) < 0.01
    # layer 2's input is relu(Z1) * D1 / keep_prob
    Z1, D1 = caches[0][1], caches[0][2]
    assert_close(caches[1][0][0], np.maximum(Z1, 0) * D1 / keep_prob)


def test_no_dropout_at_keep_prob_one(backend):
    parameters, X, _ = small_network([3, 5, 4, 1], 7)
    np.random.seed(5)
    state = np.random.get_state()[1].copy()
    AL, caches = imp.forward_propagation(X, parameters, keep_prob=1.0, backend=backend)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # nothing drawn
    assert all(D is None for _, _, D in caches)
    A = X
    for l in (1, 2):
        A = np.maximum(parameters[f"W{l}"] @ A + parameters[f"b{l}"], 0)
    expected = 1 / (1 + np.exp(-(parameters["W3"] @ A + parameters["b3"])))
    assert_close(AL, expected, rtol=1e-12)


def test_softmax_forward_columns_sum_to_one(backend):
    parameters, X, _ = small_network([3, 5, 4], 6)
    AL, caches = imp.forward_propagation(X, parameters, output="softmax", backend=backend)
    ZL = caches[-1][1]
    expected = np.exp(ZL) / np.exp(ZL).sum(axis=0, keepdims=True)
    assert AL.shape == (4, 6)
    assert_close(AL, expected, rtol=1e-12)
    assert_close(AL.sum(axis=0), np.ones(6))


def test_softmax_forward_is_stable_at_extreme_logits():
    parameters = {"W1": np.array([[1000.0], [-1000.0], [0.0]]), "b1": np.zeros((3, 1))}
    AL, _ = imp.forward_propagation(np.array([[1.0, -1.0]]), parameters, output="softmax")
    assert np.isfinite(AL).all()
    assert_close(AL, [[1, 0], [0, 1], [0, 0]], atol=1e-300)


def test_forward_rejects_bad_arguments():
    parameters, X, _ = small_network([3, 4, 1], 5)
    with pytest.raises(ValueError, match="keep_prob"):
        imp.forward_propagation(X, parameters, keep_prob=0)
    with pytest.raises(ValueError, match="keep_prob"):
        imp.forward_propagation(X, parameters, keep_prob=1.5)
    with pytest.raises(ValueError, match="output"):
        imp.forward_propagation(X, parameters, output="linear")
    with pytest.raises(ValueError, match="W2"):
        imp.forward_propagation(X, parameters, output="softmax")
    parameters3, _, _ = small_network([3, 4, 3], 5)
    with pytest.raises(ValueError, match="W2"):
        imp.forward_propagation(X, parameters3, output="sigmoid")


# ---------------------------------------------------------------------------------------
# Costs
# ---------------------------------------------------------------------------------------

def test_binary_cost_matches_the_formula():
    AL = np.array([[0.8, 0.9, 0.4]])
    Y = np.array([[1, 1, 0]])
    expected = -np.mean(Y * np.log(AL) + (1 - Y) * np.log(1 - AL))
    assert_close(imp.compute_cost(AL, Y), expected)
    ZL = np.log(AL / (1 - AL))
    assert_close(imp.compute_cost(AL, Y, ZL=ZL), expected, rtol=1e-12)


def test_softmax_cost_integer_and_one_hot_agree(backend):
    parameters, X, y = small_network([3, 5, 4], 9, classes=4)
    AL, caches = imp.forward_propagation(X, parameters, output="softmax", backend=backend)
    Y = imp.one_hot(y, 4)
    assert Y.shape == (4, 9) and (Y.sum(axis=0) == 1).all() and (Y[y[0], np.arange(9)] == 1).all()
    expected = -np.sum(Y * np.log(AL)) / 9
    for labels in (y, Y, y.ravel(), y.astype(float)):
        assert_close(imp.compute_cost(AL, labels, output="softmax"), expected, rtol=1e-12)
        assert_close(imp.compute_cost(AL, labels, output="softmax", ZL=caches[-1][1]),
                     expected, rtol=1e-12)


def test_costs_finite_at_extreme_logits():
    ZL = np.array([[800.0, -800.0], [-800.0, 800.0], [0.0, 0.0]])
    AL = np.exp(ZL - ZL.max(axis=0)) / np.exp(ZL - ZL.max(axis=0)).sum(axis=0)
    y = np.array([[1, 2]])  # both wrong: -log p is 1600 (first column) and 800 (second)
    cost = imp.compute_cost(AL, y, output="softmax", ZL=ZL)
    assert np.isfinite(cost)
    assert_close(cost, (1600 + 800) / 2, rtol=1e-12)
    assert np.isfinite(imp.compute_cost(AL, y, output="softmax"))  # clipped, finite
    Z = np.array([[900.0, -900.0]])
    cost = imp.compute_cost(np.array([[1.0, 0.0]]), [[0, 1]], ZL=Z)
    assert_close(cost, 900.0, rtol=1e-12)


def test_softmax_labels_out_of_range_raise():
    AL = np.full((3, 2), 1 / 3)
    with pytest.raises(ValueError, match="Y"):
        imp.compute_cost(AL, [[0, 3]], output="softmax")
    with pytest.raises(ValueError, match="Y"):
        imp.compute_cost(AL, [[0, -1]], output="softmax")
    with pytest.raises(ValueError, match="Y"):
        imp.compute_cost(AL, [[0, 1.5]], output="softmax")
    with pytest.raises(ValueError, match="Y"):
        imp.compute_cost(AL, np.ones((2, 2)), output="softmax")
    with pytest.raises(ValueError, match="Y"):
        imp.one_hot([[0, 4]], 4)


def test_regularized_cost_adds_the_l2_term():
    parameters, X, Y = small_network([3, 4, 1], 5)
    AL, _ = imp.forward_propagation(X, parameters)
    lambd = 0.7
    l2 = np.sum(parameters["W1"] ** 2) + np.sum(parameters["W2"] ** 2)
    expected = imp.compute_cost(AL, Y) + lambd / (2 * 5) * l2
    assert_close(imp.compute_cost_with_regularization(AL, Y, parameters, lambd), expected)
    with pytest.raises(ValueError, match="lambd"):
        imp.compute_cost_with_regularization(AL, Y, parameters, -1)


# ---------------------------------------------------------------------------------------
# Gradients against central differences
# ---------------------------------------------------------------------------------------

CASES = [
    # (layers_dims, output, lambd, keep_prob)
    ([3, 5, 4, 1], "sigmoid", 0.0, 1.0),
    ([3, 5, 4, 1], "sigmoid", 0.9, 1.0),
    ([3, 5, 4, 1], "sigmoid", 0.0, 0.7),
    ([3, 5, 4, 1], "sigmoid", 0.5, 0.6),
    ([4, 6, 3], "softmax", 0.0, 1.0),
    ([4, 6, 5, 3], "softmax", 0.4, 1.0),
    ([4, 6, 5, 3], "softmax", 0.3, 0.75),
]


@pytest.mark.parametrize("dims, output, lambd, keep_prob", CASES)
def test_backward_matches_central_differences(backend, dims, output, lambd, keep_prob):
    m = 7
    for seed in range(20):
        parameters, X, Y = small_network(dims, m, seed=seed,
                                         classes=dims[-1] if output == "softmax" else None)
        if away_from_kinks(parameters, X):
            break
    mask_seed = 4

    def cost():
        AL, caches = imp.forward_propagation(X, parameters, keep_prob=keep_prob, output=output,
                                             seed=mask_seed, backend=backend)
        return float(imp.compute_cost_with_regularization(AL, Y, parameters, lambd,
                                                          output=output, ZL=caches[-1][1]))

    AL, caches = imp.forward_propagation(X, parameters, keep_prob=keep_prob, output=output,
                                         seed=mask_seed, backend=backend)
    if keep_prob < 1:
        assert not caches[0][2].all()  # some units are dropped
    grads = imp.backward_propagation(AL, Y, caches, lambd=lambd, keep_prob=keep_prob,
                                     output=output, backend=backend)
    for l in range(1, len(dims)):
        for key in ("W", "b"):
            expected = central_difference(cost, parameters[f"{key}{l}"])
            assert grads[f"d{key}{l}"].shape == parameters[f"{key}{l}"].shape
            assert_close(grads[f"d{key}{l}"], expected, rtol=1e-6, atol=1e-8,
                         what=f"d{key}{l}")


@pytest.mark.parametrize("output, dims", [("sigmoid", [3, 5, 4, 1]), ("softmax", [3, 5, 3])])
def test_backward_with_tanh_hidden_layers(backend, output, dims):
    parameters, X, Y = small_network(dims, 6, seed=2,
                                     classes=dims[-1] if output == "softmax" else None)

    def cost():
        AL, caches = imp.forward_propagation(X, parameters, keep_prob=0.8, output=output,
                                             hidden="tanh", seed=0, backend=backend)
        return float(imp.compute_cost(AL, Y, output=output, ZL=caches[-1][1]))

    AL, caches = imp.forward_propagation(X, parameters, keep_prob=0.8, output=output,
                                         hidden="tanh", seed=0, backend=backend)
    grads = imp.backward_propagation(AL, Y, caches, keep_prob=0.8, output=output,
                                     hidden="tanh", backend=backend)
    for key in parameters:
        assert_close(grads[f"d{key}"], central_difference(cost, parameters[key]),
                     rtol=1e-6, atol=1e-8, what=key)


def test_dA_follows_the_deep_convention(backend):
    parameters, X, Y = small_network([3, 5, 1], 4)
    AL, caches = imp.forward_propagation(X, parameters, backend=backend)
    grads = imp.backward_propagation(AL, Y, caches, backend=backend)
    dZ2 = AL - Y
    assert_close(grads["dA2"], parameters["W2"].T @ dZ2)  # w.r.t. A1, layer 2's input
    assert grads["dA1"].shape == X.shape                   # w.r.t. X


def test_backward_checks_dropout_consistency():
    parameters, X, Y = small_network([3, 5, 4, 1], 6)
    AL, caches = imp.forward_propagation(X, parameters, keep_prob=0.8, seed=0)
    with pytest.raises(ValueError, match="keep_prob"):
        imp.backward_propagation(AL, Y, caches)
    AL, caches = imp.forward_propagation(X, parameters)
    with pytest.raises(ValueError, match="keep_prob"):
        imp.backward_propagation(AL, Y, caches, keep_prob=0.8)


# ---------------------------------------------------------------------------------------
# Gradient checking
# ---------------------------------------------------------------------------------------

def test_vector_round_trip():
    parameters, _, _ = small_network([3, 4, 2], 1)
    theta, keys = imp.dictionary_to_vector(parameters)
    assert theta.shape == (12 + 4 + 8 + 2, 1)
    assert keys[:12] == ["W1"] * 12 and keys[12:16] == ["b1"] * 4 and keys[-2:] == ["b2"] * 2
    np.testing.assert_array_equal(theta[:12, 0], parameters["W1"].ravel())
    for shapes_like in (parameters, [3, 4, 2]):
        back = imp.vector_to_dictionary(theta, shapes_like)
        assert sorted(back) == sorted(parameters)
        for key in parameters:
            np.testing.assert_array_equal(back[key], parameters[key])
    grads = {f"d{k}": v for k, v in parameters.items()}
    grads["dA1"] = np.ones((3, 5))
    np.testing.assert_array_equal(imp.gradients_to_vector(grads), theta)
    with pytest.raises(ValueError, match="theta"):
        imp.vector_to_dictionary(theta[:-1], parameters)


@pytest.mark.parametrize("output, dims, lambd", [("sigmoid", [4, 5, 3, 1], 0.0),
                                                 ("sigmoid", [4, 5, 3, 1], 0.7),
                                                 ("softmax", [4, 5, 3], 0.0)])
def test_gradient_check_n_passes_a_correct_backward(backend, capsys, output, dims, lambd):
    for seed in range(20):
        parameters, X, Y = small_network(dims, 6, seed=seed,
                                         classes=dims[-1] if output == "softmax" else None)
        if away_from_kinks(parameters, X, margin=1e-3):
            break
    AL, caches = imp.forward_propagation(X, parameters, output=output, backend=backend)
    grads = imp.backward_propagation(AL, Y, caches, lambd=lambd, output=output, backend=backend)
    difference = imp.gradient_check_n(parameters, grads, X, Y, print_msg=True, output=output,
                                      lambd=lambd, backend=backend)
    assert difference < 2e-7
    out = capsys.readouterr().out
    assert "Your backward propagation works perfectly fine! difference = " in out


def test_gradient_check_n_flags_a_planted_bug(capsys):
    parameters, X, Y = small_network([4, 5, 3, 1], 6, seed=1)
    AL, caches = imp.forward_propagation(X, parameters)
    grads = imp.backward_propagation(AL, Y, caches)
    grads["dW2"] = grads["dW2"].copy()
    grads["dW2"][0, 0] += 0.1
    difference = imp.gradient_check_n(parameters, grads, X, Y, print_msg=True)
    assert difference > 1e-4
    out = capsys.readouterr().out
    assert "There is a mistake in the backward propagation! difference = " in out
    grads = imp.backward_propagation(AL, Y, caches)
    grads["db1"] = 2 * grads["db1"]
    assert imp.gradient_check_n(parameters, grads, X, Y) > 1e-4
    # a gradient off by a relative 1e-5 is above the course's 2e-7 but far below 1e-4
    grads = {key: value * (1 + 1e-5) for key, value in
             imp.backward_propagation(AL, Y, caches).items()}
    difference = imp.gradient_check_n(parameters, grads, X, Y, print_msg=True)
    assert 2e-7 < difference < 1e-4
    assert "There is a mistake" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------
# Mini-batches
# ---------------------------------------------------------------------------------------

def test_random_mini_batches_partition_as_the_course():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 148))
    Y = (rng.random((1, 148)) > 0.5).astype(float)
    batches = imp.random_mini_batches(X, Y, 64, seed=2)
    assert [b[0].shape[1] for b in batches] == [64, 64, 20]
    np.random.seed(2)
    permutation = list(np.random.permutation(148))
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches], axis=1),
                                  X[:, permutation])
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches], axis=1),
                                  Y[:, permutation])
    again = imp.random_mini_batches(X, Y, 64, seed=2)
    for (bx, by), (ax, ay) in zip(batches, again):
        np.testing.assert_array_equal(bx, ax)
        np.testing.assert_array_equal(by, ay)
    other = imp.random_mini_batches(X, Y, 64, seed=3)
    assert not np.array_equal(other[0][0], batches[0][0])


def test_random_mini_batches_exact_multiple_and_one_hot():
    X = np.arange(24.0).reshape(2, 12)
    Y = imp.one_hot(np.arange(12) % 3, 3)
    batches = imp.random_mini_batches(X, Y, 4, seed=0)
    assert [b[0].shape for b in batches] == [(2, 4)] * 3
    assert [b[1].shape for b in batches] == [(3, 4)] * 3
    for bx, by in batches:  # columns stay paired
        np.testing.assert_array_equal(by, imp.one_hot((bx[0] % 3).astype(int), 3))
    with pytest.raises(ValueError, match="mini_batch_size"):
        imp.random_mini_batches(X, Y, 0)


# ---------------------------------------------------------------------------------------
# Optimizers and decay
# ---------------------------------------------------------------------------------------

def small_dicts():
    parameters = {"W1": np.array([[1.0, -2.0]]), "b1": np.array([[0.5]])}
    grads = {"dW1": np.array([[0.3, -0.1]]), "db1": np.array([[0.2]]), "dA1": np.ones((2, 3))}
    return parameters, grads


def test_gd_step_returns_new_arrays():
    parameters, grads = small_dicts()
    new = imp.update_parameters_with_gd(parameters, grads, 0.1)
    assert_close(new["W1"], [[0.97, -1.99]])
    assert_close(new["b1"], [[0.48]])
    np.testing.assert_array_equal(parameters["W1"], [[1.0, -2.0]])  # untouched


def test_momentum_one_step_by_hand():
    parameters, grads = small_dicts()
    v = imp.initialize_velocity(parameters)
    assert sorted(v) == ["dW1", "db1"] and all((a == 0).all() for a in v.values())
    v["dW1"] = np.array([[0.1, 0.1]])
    new, new_v = imp.update_parameters_with_momentum(parameters, grads, v, 0.9, 0.5)
    v_W = 0.9 * np.array([[0.1, 0.1]]) + 0.1 * grads["dW1"]
    v_b = 0.1 * grads["db1"]
    assert_close(new_v["dW1"], v_W)
    assert_close(new_v["db1"], v_b)
    assert_close(new["W1"], parameters["W1"] - 0.5 * v_W)
    assert_close(new["b1"], parameters["b1"] - 0.5 * v_b)
    np.testing.assert_array_equal(v["dW1"], [[0.1, 0.1]])  # untouched
    with pytest.raises(ValueError, match="beta"):
        imp.update_parameters_with_momentum(parameters, grads, v, 1.0, 0.5)


def test_adam_two_steps_by_hand():
    parameters, grads = small_dicts()
    v, s = imp.initialize_adam(parameters)
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    p, v, s, vc, sc = imp.update_parameters_with_adam(parameters, grads, v, s, 1, lr, b1, b2, eps)
    g = grads["dW1"]
    assert_close(v["dW1"], 0.1 * g)
    assert_close(s["dW1"], 0.001 * g ** 2)
    assert_close(vc["dW1"], g)               # bias correction at t = 1 recovers g
    assert_close(sc["dW1"], g ** 2)
    assert_close(p["W1"], parameters["W1"] - lr * g / (np.abs(g) + eps))
    g2 = {"dW1": np.array([[-0.2, 0.4]]), "db1": np.array([[0.1]])}
    p2, v2, s2, vc2, sc2 = imp.update_parameters_with_adam(p, g2, v, s, 2, lr, b1, b2, eps)
    v_expected = b1 * 0.1 * g + (1 - b1) * g2["dW1"]
    s_expected = b2 * 0.001 * g ** 2 + (1 - b2) * g2["dW1"] ** 2
    assert_close(v2["dW1"], v_expected)
    assert_close(s2["dW1"], s_expected)
    assert_close(vc2["dW1"], v_expected / (1 - b1 ** 2))
    assert_close(sc2["dW1"], s_expected / (1 - b2 ** 2))
    assert_close(p2["W1"], p["W1"] - lr * vc2["dW1"] / (np.sqrt(sc2["dW1"]) + eps))
    with pytest.raises(ValueError, match=r"\bt must"):
        imp.update_parameters_with_adam(p, g2, v, s, 0)


def test_learning_rate_decay_formulas():
    assert imp.update_lr(0.5, 2, 1) == pytest.approx(0.5 / 3)
    assert imp.update_lr(0.5, 0, 1) == 0.5
    assert imp.schedule_lr_decay(0.5, 999, 1) == 0.5
    assert imp.schedule_lr_decay(0.5, 1000, 1) == pytest.approx(0.25)
    assert imp.schedule_lr_decay(0.5, 2500, 0.3, time_interval=1000) == pytest.approx(0.5 / 1.6)
    with pytest.raises(ValueError, match="time_interval"):
        imp.schedule_lr_decay(0.5, 10, 1, time_interval=0)


# ---------------------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------------------

def separable(m=200, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((2, m))
    Y = (X[0:1] + 0.5 * X[1:2] > 0).astype(np.float64)
    return X, Y


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "adam"])
def test_model_reduces_the_cost(backend, optimizer):
    X, Y = separable()
    parameters, costs = imp.model(X, Y, [2, 5, 1], optimizer=optimizer, learning_rate=0.01,
                                  num_epochs=301, print_cost=False, return_costs=True,
                                  backend=backend)
    assert len(costs) == 4
    assert costs[-1] < 0.7 * costs[0]
    assert sorted(parameters) == ["W1", "W2", "b1", "b2"]


def test_model_is_reproducible(backend):
    X, Y = separable(90)
    runs = [imp.model(X, Y, [2, 4, 1], optimizer="adam", num_epochs=20, print_cost=False,
                      keep_prob=0.8, lambd=0.1, mini_batch_size=32, backend=backend)
            for _ in range(2)]
    for key in runs[0]:
        np.testing.assert_array_equal(runs[0][key], runs[1][key])


@needs_kernels
@pytest.mark.parametrize("keep_prob", [1.0, 0.8])
def test_model_backends_agree(keep_prob):
    X, Y = separable(90)
    runs = [imp.model(X, Y, [2, 4, 3, 1], optimizer="momentum", learning_rate=0.05,
                      num_epochs=30, print_cost=False, keep_prob=keep_prob, lambd=0.1,
                      mini_batch_size=32, backend=b, return_costs=True)
            for b in ("numpy", "cython")]
    for key in runs[0][0]:
        assert_close(runs[1][0][key], runs[0][0][key], rtol=1e-9, atol=1e-12, what=key)
    assert_close(runs[1][1], runs[0][1], rtol=1e-9)


def course_loop(X, Y, layers_dims, optimizer, learning_rate, mini_batch_size, num_epochs,
                lambd=0.0, keep_prob=1.0):
    """The course's optimization-notebook loop, written with this module's public
    functions (costs summed per batch, averaged over m)."""
    m = X.shape[1]
    parameters = imp.initialize_parameters_he(layers_dims)
    v, s = imp.initialize_adam(parameters)
    t, seed, costs = 0, 10, []
    for i in range(num_epochs):
        seed = seed + 1
        cost_total = 0
        for mini_X, mini_Y in imp.random_mini_batches(X, Y, mini_batch_size, seed):
            AL, caches = imp.forward_propagation(mini_X, parameters, keep_prob=keep_prob)
            cost = imp.compute_cost_with_regularization(AL, mini_Y, parameters, lambd)
            cost_total += cost * mini_X.shape[1]
            grads = imp.backward_propagation(AL, mini_Y, caches, lambd=lambd,
                                             keep_prob=keep_prob)
            if optimizer == "momentum":
                parameters, v = imp.update_parameters_with_momentum(parameters, grads, v, 0.9,
                                                                    learning_rate)
            else:
                t = t + 1
                parameters, v, s, _, _ = imp.update_parameters_with_adam(
                    parameters, grads, v, s, t, learning_rate)
        costs.append(cost_total / m)
    return parameters, costs


@pytest.mark.parametrize("optimizer, lambd, keep_prob", [("adam", 0.0, 1.0),
                                                         ("adam", 0.2, 0.8),
                                                         ("momentum", 0.0, 0.9)])
def test_model_is_the_course_loop(optimizer, lambd, keep_prob):
    X, Y = separable(75)
    expected, expected_costs = course_loop(X, Y, [2, 4, 3, 1], optimizer, 0.01, 16, 3,
                                           lambd, keep_prob)
    parameters, costs = imp.model(X, Y, [2, 4, 3, 1], optimizer=optimizer, learning_rate=0.01,
                                  mini_batch_size=16, num_epochs=3, print_cost=False,
                                  lambd=lambd, keep_prob=keep_prob, return_costs=True,
                                  backend="numpy")
    for key in expected:
        assert_close(parameters[key], expected[key], rtol=1e-12, atol=1e-14, what=key)
    assert_close(costs, expected_costs[:1], rtol=1e-12)  # recorded at epoch 0 only


def test_model_prints_the_course_lines(capsys):
    X, Y = separable(50)
    imp.model(X, Y, [2, 3, 1], num_epochs=1001, print_cost=True, decay=imp.update_lr,
              decay_rate=0.1)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Cost after epoch 0: ")
    assert out[1] == "learning rate after epoch 0: %f" % (0.0007 / 1)
    assert out[2].startswith("Cost after epoch 1000: ")
    assert len(out) == 4


def test_softmax_model_on_three_classes(backend, capsys):
    rng = np.random.default_rng(1)
    centres = np.array([[0.0, 3.0, -3.0], [3.0, -2.0, -2.0]])
    y = rng.integers(0, 3, size=(1, 240))
    X = centres[:, y[0]] + 0.6 * rng.standard_normal((2, 240))
    parameters = imp.model(X, y, [2, 8, 3], optimizer="adam", learning_rate=0.01,
                           num_epochs=100, print_cost=False, output="softmax", backend=backend)
    p = imp.predict(X, y, parameters, output="softmax", backend=backend)
    assert p.shape == (1, 240)
    assert np.mean(p == y) > 0.97
    assert "Accuracy: " in capsys.readouterr().out
    one_hot_params = imp.model(X, imp.one_hot(y, 3), [2, 8, 3], optimizer="adam",
                               learning_rate=0.01, num_epochs=100, print_cost=False,
                               output="softmax", backend=backend)
    for key in parameters:
        assert_close(one_hot_params[key], parameters[key])


def test_model_zeros_initialization_stays_symmetric():
    X, Y = separable(60)
    parameters = imp.model(X, Y, [2, 4, 1], initialization="zeros", learning_rate=0.1,
                           num_epochs=50, print_cost=False)
    # Every hidden unit computes 0 and gets the same (zero) gradient: only the output
    # bias learns, so the network predicts one class everywhere.
    for key in ("W1", "b1", "W2"):
        np.testing.assert_array_equal(parameters[key], 0, err_msg=key)
    assert parameters["b2"][0, 0] != 0


@pytest.mark.parametrize("kwargs, name", [
    ({"optimizer": "rmsprop"}, "optimizer"),
    ({"keep_prob": 0}, "keep_prob"),
    ({"lambd": -1}, "lambd"),
    ({"initialization": "orthogonal"}, "initialization"),
    ({"output": "tanh"}, "output"),
    ({"mini_batch_size": 0}, "mini_batch_size"),
    ({"beta1": 1.0}, "beta1"),
    ({"learning_rate": -0.1}, "learning_rate"),
    ({"num_epochs": -1}, "num_epochs"),
])
def test_model_rejects_bad_arguments(kwargs, name):
    X, Y = separable(20)
    kwargs = {"num_epochs": 1, **kwargs}
    with pytest.raises(ValueError, match=name):
        imp.model(X, Y, [2, 3, 1], print_cost=False, **kwargs)


def test_model_rejects_mismatched_dims_and_labels():
    X, Y = separable(20)
    with pytest.raises(ValueError, match="layers_dims"):
        imp.model(X, Y, [3, 3, 1], num_epochs=1, print_cost=False)
    with pytest.raises(ValueError, match="layers_dims"):
        imp.model(X, Y, [2, 3, 2], num_epochs=1, print_cost=False)
    with pytest.raises(ValueError, match="Y"):
        imp.model(X, 3 * Y, [2, 3, 3], num_epochs=1, print_cost=False, output="softmax")
    with pytest.raises(ValueError, match="Y"):
        imp.model(X, 2 * Y, [2, 3, 1], num_epochs=1, print_cost=False)


# ---------------------------------------------------------------------------------------
# Review of the first slice: float32 gradient checks, label distributions, shapes.
# ---------------------------------------------------------------------------------------

def test_gradient_check_n_works_on_float32_parameters():
    rng = np.random.default_rng(21)
    dims, m = [3, 4, 1], 7
    parameters = {f"W{l}": (rng.standard_normal((dims[l], dims[l - 1])) / 2).astype(np.float32)
                  for l in (1, 2)}
    parameters.update({f"b{l}": np.full((dims[l], 1), 0.1, np.float32) for l in (1, 2)})
    X = rng.standard_normal((3, m)).astype(np.float32)
    Y = (rng.random((1, m)) > 0.5).astype(np.float32)
    AL, caches = imp.forward_propagation(X, parameters, hidden="tanh")
    grads = imp.backward_propagation(AL, Y, caches, hidden="tanh")
    assert imp.gradient_check_n(parameters, grads, X, Y, hidden="tanh") < 1e-6


@pytest.mark.parametrize("column", [[1.0, 1.0, 0.0], [0.0, 0.0, 0.0], [0.5, 0.2, 0.2]])
def test_softmax_targets_must_be_distributions(column):
    X = np.random.default_rng(22).standard_normal((2, 4))
    Y = np.eye(3)[:, [0, 1, 2, 0]]
    Y[:, 2] = column
    with pytest.raises(ValueError, match="Y must be one-hot .* column 2 sums to"):
        imp.model(X, Y, [2, 3], output="softmax", num_epochs=1, print_cost=False)


def test_gradient_check_n_refuses_gradients_of_other_shapes():
    rng = np.random.default_rng(23)
    parameters = {"W1": rng.standard_normal((4, 3)), "b1": np.zeros((4, 1)),
                  "W2": rng.standard_normal((1, 4)), "b2": np.zeros((1, 1))}
    grads = {"dW1": np.ones((3, 4)), "db1": np.ones((4, 1)),   # dW1 transposed
             "dW2": np.ones((1, 4)), "db2": np.ones((1, 1))}
    with pytest.raises(ValueError, match="dW1"):
        imp.gradient_check_n(parameters, grads, rng.standard_normal((3, 5)), np.ones((1, 5)))


def test_a_bad_hidden_activation_and_a_bad_decay_are_named():
    X, Y = separable(20)
    with pytest.raises(ValueError, match="hidden must be one of"):
        imp.model(X, Y, [2, 3, 1], hidden="softplus", num_epochs=1, print_cost=False)
    with pytest.raises(ValueError, match="decay must return a learning rate"):
        imp.model(X, Y, [2, 3, 1], num_epochs=2, print_cost=False,
                  decay=lambda lr0, epoch, rate: -1.0)
