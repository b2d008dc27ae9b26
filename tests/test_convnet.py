"""cnn_core.convnet: the small convolutional network, its gradient against jax.grad, its
accuracy on the digits, and its input checks."""
import time

import numpy as np
import pytest

from cnn_core import convnet
from conftest import BACKENDS
from helpers import central_difference

#: The digits settings: at least 98 % test accuracy on load_digits()'s fixed split (the
#: issue's target); 99.3 % with seed 1, at least 98.7 % with seeds 1..5, in a few seconds
#: on the cython backend.
DIGITS_SETTINGS = dict(filters=((3, 16), (3, 32)), num_epochs=80, learning_rate=0.003,
                       mini_batch_size=64, seed=1)
#: The JAX check's tolerance (float64, different summation orders).
JAX_RTOL = 1e-9

GEOMETRIES = [  # (m, n_H0, n_W0, n_C0, filters, conv hparameters, pool hparameters, K)
    (3, 6, 6, 2, ((3, 3), (2, 4)), {"stride": 1, "pad": 1}, {"stride": 2, "f": 2}, 5),
    (4, 9, 7, 1, ((3, 4), (3, 3)), {"stride": 1, "pad": 0}, {"stride": 1, "f": 2}, 3),
    (2, 8, 8, 3, ((2, 2), (3, 5)), {"stride": 2, "pad": 1}, {"stride": 1, "f": 2}, 4),
]


def _network(rng, geometry):
    m, n_H0, n_W0, n_C0, filters, conv_hp, pool_hp, K = geometry
    hparameters = {"conv": conv_hp, "pool": pool_hp}
    parameters = convnet.initialize_parameters((n_H0, n_W0, n_C0), filters, K, seed=0,
                                               hparameters=hparameters)
    # Non-zero biases, so that the ReLUs cut somewhere other than at the He draw's sign.
    for key in ("b1", "b2", "b3"):
        parameters[key] = 0.1 * rng.standard_normal(parameters[key].shape)
    X = rng.standard_normal((m, n_H0, n_W0, n_C0))   # tie-free with probability 1
    labels = rng.integers(0, K, size=(1, m))
    Y = np.zeros((K, m))
    Y[labels[0], np.arange(m)] = 1
    return X, Y, labels, parameters, hparameters


def _jax_cost(reference_conv, jnp, hparameters):
    conv_hp, pool_hp = hparameters["conv"], hparameters["pool"]

    def cost(params, X, Y):
        Z1 = reference_conv.conv_layer(X, params["W1"], params["b1"], conv_hp["stride"],
                                       conv_hp["pad"])
        P1 = reference_conv.pool_layer(jnp.maximum(Z1, 0), pool_hp["f"], pool_hp["stride"],
                                       "max")
        Z2 = reference_conv.conv_layer(P1, params["W2"], params["b2"], conv_hp["stride"],
                                       conv_hp["pad"])
        P2 = reference_conv.pool_layer(jnp.maximum(Z2, 0), pool_hp["f"], pool_hp["stride"],
                                       "max")
        F = P2.reshape(P2.shape[0], -1).T
        Z3 = params["W3"] @ F + params["b3"]
        shifted = Z3 - Z3.max(axis=0, keepdims=True)
        log_softmax = shifted - jnp.log(jnp.sum(jnp.exp(shifted), axis=0, keepdims=True))
        return -jnp.sum(Y * log_softmax) / X.shape[0]

    return cost


@pytest.mark.parametrize("geometry", GEOMETRIES)
@pytest.mark.parametrize("backend", BACKENDS)
def test_backward_propagation_equals_jax_grad(backend, geometry):
    pytest.importorskip("jax", reason="JAX comes with the test extra: pip install -e '.[test]'")
    import jax
    import jax.numpy as jnp
    from cnn_core.reference import conv as reference_conv   # also enables JAX's float64

    rng = np.random.default_rng(7)
    X, Y, labels, parameters, hparameters = _network(rng, geometry)
    AL, caches = convnet.forward_propagation(X, parameters, hparameters, backend=backend)
    grads = convnet.backward_propagation(AL, Y, caches, backend=backend)
    cost = convnet.compute_cost(caches["Z3"], labels)

    jax_cost = _jax_cost(reference_conv, jnp, hparameters)
    params = {key: jnp.asarray(value) for key, value in parameters.items()}
    value, jax_grads = jax.value_and_grad(jax_cost, argnums=(0, 1))(params, jnp.asarray(X),
                                                                    jnp.asarray(Y))
    np.testing.assert_allclose(cost, float(value), rtol=JAX_RTOL)
    for key in convnet.PARAMETER_KEYS:
        expected = np.asarray(jax_grads[0][key])
        assert grads["d" + key].shape == parameters[key].shape
        assert np.abs(expected).max() > 0, key
        np.testing.assert_allclose(grads["d" + key], expected, rtol=JAX_RTOL,
                                   atol=JAX_RTOL * np.abs(expected).max(), err_msg=key)
    dA0 = np.asarray(jax_grads[1])
    np.testing.assert_allclose(grads["dA0"], dA0, rtol=JAX_RTOL,
                               atol=JAX_RTOL * np.abs(dA0).max())
    # The same targets as integer labels give the same gradients.
    grads_labels = convnet.backward_propagation(AL, labels, caches, backend=backend)
    for key in grads:
        np.testing.assert_array_equal(grads_labels[key], grads[key])


def test_shapes_and_initialisation():
    shapes = convnet.output_shapes((8, 8, 1), ((3, 8), (3, 16)))
    assert shapes == {"Z1": (8, 8, 8), "P1": (4, 4, 8), "Z2": (4, 4, 16), "P2": (2, 2, 16),
                      "n_flat": 64}
    parameters = convnet.initialize_parameters((8, 8, 1), ((3, 8), (3, 16)), 10, seed=1)
    assert {key: value.shape for key, value in parameters.items()} == {
        "W1": (3, 3, 1, 8), "b1": (1, 1, 1, 8), "W2": (3, 3, 8, 16), "b2": (1, 1, 1, 16),
        "W3": (10, 64), "b3": (10, 1)}
    np.random.seed(1)
    np.testing.assert_array_equal(parameters["W1"],
                                  np.random.randn(3, 3, 1, 8) * np.sqrt(2 / 9))
    np.testing.assert_array_equal(parameters["W2"],
                                  np.random.randn(3, 3, 8, 16) * np.sqrt(2 / 72))
    np.testing.assert_array_equal(parameters["W3"], np.random.randn(10, 64) * np.sqrt(2 / 64))
    assert not any(parameters[key].any() for key in ("b1", "b2", "b3"))
    # X.shape is accepted for one example's shape.
    again = convnet.initialize_parameters((5, 8, 8, 1), ((3, 8), (3, 16)), 10, seed=1)
    for key in parameters:
        np.testing.assert_array_equal(again[key], parameters[key])


def test_model_is_reproducible_and_backends_agree():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((37, 6, 6, 1))
    Y = rng.integers(0, 3, size=(1, 37))
    kwargs = dict(filters=((3, 4), (3, 4)), num_epochs=3, mini_batch_size=8,
                  return_costs=True, seed=2)
    runs = {backend: convnet.model(X, Y, backend=backend, **kwargs) for backend in BACKENDS}
    again = convnet.model(X, Y, backend=BACKENDS[0], **kwargs)
    first, costs = runs[BACKENDS[0]]
    assert len(costs) == 3 and costs[-1] < costs[0]
    for key in first:
        np.testing.assert_array_equal(again[0][key], first[key])
        for params, _ in runs.values():
            np.testing.assert_allclose(params[key], first[key], rtol=1e-9, atol=1e-12)


def _digits():
    datasets = pytest.importorskip("cnn_core.datasets")
    pytest.importorskip("sklearn", reason="the digits come with the data extra")
    X_train, Y_train, X_test, Y_test = datasets.load_digits()
    return (X_train.T.reshape(-1, 8, 8, 1), Y_train, X_test.T.reshape(-1, 8, 8, 1), Y_test)


def test_digits_reach_98_percent():
    X_train, Y_train, X_test, Y_test = _digits()
    backend = "cython" if "cython" in BACKENDS else "numpy"
    start = time.perf_counter()
    parameters, costs = convnet.model(X_train, Y_train, backend=backend, return_costs=True,
                                      **DIGITS_SETTINGS)
    elapsed = time.perf_counter() - start
    accuracy = float(np.mean(convnet.predict(X_test, parameters, backend=backend) == Y_test))
    print(f"digits: test accuracy {accuracy:.4f} in {elapsed:.1f} s ({backend})")
    assert costs[-1] < costs[0]
    assert accuracy >= 0.98


# ---------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------

@pytest.fixture
def small():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4, 8, 8, 1))
    parameters = convnet.initialize_parameters((8, 8, 1), ((3, 2), (3, 2)), 3)
    return X, np.array([[0, 1, 2, 1]]), parameters


def test_bad_X(small):
    X, Y, parameters = small
    with pytest.raises(ValueError, match=r"X must be a 4-D array \(m, n_H0, n_W0, n_C0\)"):
        convnet.forward_propagation(X.reshape(4, 64), parameters)
    with pytest.raises(ValueError, match="leading axis"):
        convnet.forward_propagation(X[0], parameters)
    with pytest.raises(ValueError, match="channel counts do not match"):
        convnet.forward_propagation(np.repeat(X, 3, axis=3), parameters)
    with pytest.raises(ValueError, match="W3 must have shape"):
        convnet.forward_propagation(X[:, :6, :6], parameters)
    bad = X.copy()
    bad[1, 2, 3, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        convnet.model(bad, Y, filters=((3, 2), (3, 2)), num_epochs=1)
    with pytest.raises(TypeError, match="real numeric"):
        convnet.predict(X.astype(complex), parameters)


def test_bad_labels(small):
    X, Y, parameters = small
    with pytest.raises(ValueError, match=r"class labels in 0..1 \(K = 2 classes\); found 2"):
        convnet.model(X, Y, filters=((3, 2), (3, 2)), n_classes=2, num_epochs=1)
    with pytest.raises(ValueError, match="class labels"):
        convnet.model(X, np.array([[0, 1, -1, 1]]), num_epochs=1)
    with pytest.raises(ValueError, match="m = 4 labels"):
        convnet.model(X, Y[:, :3], num_epochs=1)
    with pytest.raises(ValueError, match="integer class labels"):
        convnet.model(X, np.array([[0, 1, 0.5, 1]]), num_epochs=1)
    AL, caches = convnet.forward_propagation(X, parameters)
    with pytest.raises(ValueError, match="class labels in 0..2"):
        convnet.backward_propagation(AL, np.array([[0, 1, 3, 1]]), caches)
    with pytest.raises(ValueError, match="AL must have shape"):
        convnet.backward_propagation(AL[:, :3], Y[:, :3], caches)
    with pytest.raises(ValueError, match="caches must be"):
        convnet.backward_propagation(AL, Y, (1, 2))
    with pytest.raises(ValueError, match="class labels in 0..2"):
        convnet.compute_cost(caches["Z3"], np.array([[0, 1, 5, 1]]))


def test_bad_hyperparameters(small):
    X, Y, parameters = small
    with pytest.raises(ValueError, match="lacks 'pad'"):
        convnet.model(X, Y, conv_hparameters={"stride": 1}, num_epochs=1)
    with pytest.raises(ValueError, match="lacks 'f'"):
        convnet.model(X, Y, pool_hparameters={"stride": 2}, num_epochs=1)
    with pytest.raises(ValueError, match="positive integer"):
        convnet.model(X, Y, conv_hparameters={"stride": 0, "pad": 1}, num_epochs=1)
    with pytest.raises(ValueError, match="non-negative integer"):
        convnet.model(X, Y, conv_hparameters={"stride": 1, "pad": -1}, num_epochs=1)
    with pytest.raises(ValueError, match="lacks 'pool'"):
        convnet.forward_propagation(X, parameters, {"conv": {"stride": 1, "pad": 1}})
    with pytest.raises(TypeError, match="hparameters must be a dict"):
        convnet.forward_propagation(X, parameters, [1, 1])
    with pytest.raises(ValueError, match="filters must be two pairs"):
        convnet.model(X, Y, filters=((3, 8),), num_epochs=1)
    with pytest.raises(ValueError, match="larger than the padded input"):
        convnet.model(X, Y, filters=((11, 8), (3, 8)), num_epochs=1)
    with pytest.raises(ValueError, match="pooling window"):
        convnet.model(X, Y, filters=((3, 2), (3, 2)), pool_hparameters={"stride": 1, "f": 9},
                      num_epochs=1)
    with pytest.raises(ValueError, match="learning_rate"):
        convnet.model(X, Y, learning_rate=0, num_epochs=1)
    with pytest.raises(ValueError, match="num_epochs"):
        convnet.model(X, Y, num_epochs=-1)
    with pytest.raises(ValueError, match="mini_batch_size"):
        convnet.model(X, Y, mini_batch_size=0, num_epochs=1)
    with pytest.raises(ValueError, match="n_classes must be at least 2"):
        convnet.initialize_parameters((8, 8, 1), n_classes=1)
    with pytest.raises(ValueError, match="input_shape"):
        convnet.initialize_parameters((8, 8))


def test_bad_parameters(small):
    X, _, parameters = small
    with pytest.raises(ValueError, match=r"parameters lacks \['b2'\]"):
        convnet.forward_propagation(X, {k: v for k, v in parameters.items() if k != "b2"})
    with pytest.raises(ValueError, match=r"parameters\['W3'\] must be a 2-D array"):
        convnet.forward_propagation(X, {**parameters, "W3": parameters["W3"][None]})
    with pytest.raises(ValueError, match="b3 must have shape"):
        convnet.forward_propagation(X, {**parameters, "b3": parameters["b3"][:2]})
    with pytest.raises(ValueError, match="channel counts do not match"):
        convnet.forward_propagation(X, {**parameters, "W2": parameters["W2"][:, :, :1]})


@pytest.mark.parametrize("backend", BACKENDS)
def test_tied_maxima_on_a_blank_background_give_the_true_gradient(backend):
    """Digits are half zeros: with positive biases a blank window holds equal maxima,
    relu(b1), which move together with b1. The gradient must count such a window once
    (the first maximum), not once per tied entry: db1 and db2 against central
    differences of the cost."""
    datasets = pytest.importorskip("cnn_core.datasets")
    pytest.importorskip("sklearn", reason="the digits come from scikit-learn (data extra)")
    X_train, Y_train, _, _ = datasets.load_digits()
    X = X_train.T.reshape(-1, 8, 8, 1)[:16]
    labels = Y_train[:, :16]
    parameters = convnet.initialize_parameters((8, 8, 1), ((3, 4), (3, 4)), 10, seed=0)
    parameters["b1"][:] = 0.1
    parameters["b2"][:] = 0.1
    AL, caches = convnet.forward_propagation(X, parameters, backend=backend)
    grads = convnet.backward_propagation(AL, labels, caches, backend=backend)

    def cost():
        _, caches = convnet.forward_propagation(X, parameters, backend=backend)
        return convnet.compute_cost(caches["Z3"], labels)

    for key in ("b1", "b2"):
        expected = central_difference(cost, parameters[key])
        np.testing.assert_allclose(grads["d" + key], expected, rtol=1e-6, atol=1e-8,
                                   err_msg=key)
