"""Hand-derived gradients equal JAX's automatic differentiation of independent costs."""
import numpy as np
import pytest

jax = pytest.importorskip("jax", reason="JAX comes with the test extra: pip install -e '.[test]'")
import reference  # noqa: E402  (turns on float64 in JAX)

from cnn_core import deep, logistic, shallow  # noqa: E402

from helpers import assert_close, random_network  # noqa: E402


def _autodiff(cost, parameters, X, Y):
    value, grads = jax.value_and_grad(cost)(parameters, X, Y)
    return float(value), {k: np.asarray(v) for k, v in grads.items()}


def test_float64_is_on():
    assert jax.numpy.zeros(1).dtype == np.float64


def test_relu_reference_has_slope_0_at_0():
    slope = jax.grad(lambda z: jax.nn.relu(z))(0.0)
    assert float(slope) == 0.0


@pytest.mark.parametrize("dims", [[3, 1], [5, 4, 1], [6, 5, 4, 3, 1]])
@pytest.mark.parametrize("m", [1, 7])
def test_L_model_backward_equals_autodiff(backend, dims, m):
    parameters, X, Y = random_network(dims, m, seed=len(dims) + m)
    AL, caches = deep.L_model_forward(X, parameters, backend=backend)
    grads = deep.L_model_backward(AL, Y, caches, backend=backend)
    cost, expected = _autodiff(reference.L_model_cost, parameters, X, Y)
    assert float(deep.compute_cost(AL, Y, backend=backend)) == pytest.approx(cost, rel=1e-12)
    for key in parameters:
        assert_close(grads["d" + key], expected[key], rtol=1e-10, atol=1e-13, what=key)


def test_shallow_backward_equals_autodiff(backend):
    parameters, X, Y = random_network([2, 4, 1], 9, seed=1)
    A2, cache = shallow.forward_propagation(X, parameters, backend=backend)
    grads = shallow.backward_propagation(parameters, cache, X, Y, backend=backend)
    cost, expected = _autodiff(reference.shallow_cost, parameters, X, Y)
    assert float(shallow.compute_cost(A2, Y, backend=backend)) == pytest.approx(cost, rel=1e-12)
    for key in parameters:
        assert_close(grads["d" + key], expected[key], rtol=1e-10, atol=1e-13, what=key)


def test_propagate_equals_autodiff(backend):
    rng = np.random.default_rng(5)
    w, X, Y = rng.standard_normal((4, 1)), rng.standard_normal((4, 11)), rng.random((1, 11))
    grads, cost = logistic.propagate(w, 0.25, X, Y, backend=backend)
    value, (dw, db) = jax.value_and_grad(reference.logistic_cost, argnums=(0, 1))(w, 0.25, X, Y)
    assert float(cost) == pytest.approx(float(value), rel=1e-12)
    assert_close(grads["dw"], np.asarray(dw), rtol=1e-10, atol=1e-13)
    assert grads["db"] == pytest.approx(float(db), rel=1e-10)


def test_the_comparison_catches_a_wrong_gradient():
    """A gradient missing its 1/m, as a learner might write it, is not within tolerance."""
    parameters, X, Y = random_network([5, 4, 1], 7, seed=3)
    AL, caches = deep.L_model_forward(X, parameters)
    grads = deep.L_model_backward(AL, Y, caches)
    _, expected = _autodiff(reference.L_model_cost, parameters, X, Y)
    with pytest.raises(AssertionError):
        assert_close(grads["dW1"] * X.shape[1], expected["W1"], rtol=1e-10)
