"""The JAX statement of the second course's costs (``reference.costs.L_model_cost_general``).

Its value is checked against the same cost written directly in NumPy at a random point,
and its ``jax.grad`` against central differences of itself in float64: for a sigmoid and
a softmax output, with the L2 term and with given dropout masks.
"""
import numpy as np
import pytest

jax = pytest.importorskip("jax", reason="JAX comes with the test extra: pip install -e '.[test]'")
import jax.numpy as jnp  # noqa: E402

from cnn_core import reference  # noqa: E402  (turns on float64 in JAX)
from cnn_core.reference.costs import (  # noqa: E402
    L_model_cost, L_model_cost_general, softmax_cross_entropy_with_logits,
)

LAYERS = [4, 5, 3, 3]  # n_x, two hidden layers, K = 3 outputs
M = 7


# ---------------------------------------------------------------------------------------
# A random point, and the cost in plain NumPy.
# ---------------------------------------------------------------------------------------

def _point(seed, layers=LAYERS, m=M, output="sigmoid", keep_prob=None):
    rng = np.random.default_rng(seed)
    parameters = {}
    for l in range(1, len(layers)):
        parameters[f"W{l}"] = rng.normal(size=(layers[l], layers[l - 1])) / np.sqrt(layers[l - 1])
        parameters[f"b{l}"] = rng.normal(size=(layers[l], 1)) * 0.1
    X = rng.normal(size=(layers[0], m))
    K = layers[-1]
    if output == "sigmoid":
        Y = (rng.random((K, m)) < 0.5).astype(np.float64)
    else:
        labels = rng.integers(0, K, m)
        Y = np.eye(K)[:, labels]
    masks = None
    if keep_prob is not None:
        masks = {l: (rng.random((layers[l], m)) < keep_prob).astype(np.float64)
                 for l in range(1, len(layers) - 1)}
    return parameters, X, Y, masks


def _numpy_cost(parameters, X, Y, output, hidden="relu", lambd=0.0, masks=None, keep_prob=1.0):
    g = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh,
         "sigmoid": lambda z: 1 / (1 + np.exp(-z)), "identity": lambda z: z}[hidden]
    L = len(parameters) // 2
    m = X.shape[1]
    A = X
    for l in range(1, L):
        A = g(parameters[f"W{l}"] @ A + parameters[f"b{l}"])
        if masks is not None and l in masks:
            A = A * masks[l] / keep_prob
    Z = parameters[f"W{L}"] @ A + parameters[f"b{L}"]
    if output == "sigmoid":
        S = 1 / (1 + np.exp(-Z))
        cross_entropy = -np.sum(Y * np.log(S) + (1 - Y) * np.log(1 - S)) / m
    else:
        E = np.exp(Z - Z.max(axis=0, keepdims=True))
        P = E / E.sum(axis=0, keepdims=True)
        cross_entropy = -np.sum(Y * np.log(P)) / m
    l2 = sum(np.sum(parameters[f"W{l}"] ** 2) for l in range(1, L + 1))
    return cross_entropy + lambd / (2 * m) * l2


def _central_differences(f, parameters, h=1e-6):
    grads = {}
    for key, value in parameters.items():
        value = np.asarray(value, dtype=np.float64)
        grad = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            plus, minus = value.copy(), value.copy()
            plus[index] += h
            minus[index] -= h
            grad[index] = (float(f({**parameters, key: plus}))
                           - float(f({**parameters, key: minus}))) / (2 * h)
        grads[key] = grad
    return grads


def _relative(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300)


CASES = {
    "sigmoid": dict(output="sigmoid"),
    "softmax": dict(output="softmax"),
    "sigmoid, tanh hidden": dict(output="sigmoid", hidden="tanh"),
    "sigmoid, L2": dict(output="sigmoid", lambd=0.7),
    "softmax, L2": dict(output="softmax", lambd=0.7),
    "sigmoid, dropout": dict(output="sigmoid", keep_prob=0.8),
    "softmax, dropout, L2": dict(output="softmax", keep_prob=0.6, lambd=0.3),
}


def _case(name, seed=0):
    options = dict(CASES[name])
    keep_prob = options.pop("keep_prob", None)
    parameters, X, Y, masks = _point(seed, output=options["output"], keep_prob=keep_prob)
    if keep_prob is not None:
        options.update(masks=masks, keep_prob=keep_prob)
    return parameters, X, Y, options


def test_float64_is_on():
    assert jnp.zeros(1).dtype == np.float64


@pytest.mark.parametrize("name", list(CASES))
def test_value_equals_the_numpy_formula(name):
    parameters, X, Y, options = _case(name)
    expected = _numpy_cost(parameters, X, Y, **options)
    actual = float(L_model_cost_general(
        {k: jnp.asarray(v) for k, v in parameters.items()}, jnp.asarray(X), jnp.asarray(Y),
        **options))
    assert actual == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize("name", list(CASES))
def test_grad_equals_central_differences(name):
    parameters, X, Y, options = _case(name)
    X, Y = jnp.asarray(X), jnp.asarray(Y)
    cost = jax.jit(lambda p: L_model_cost_general(p, X, Y, **options))
    analytic = jax.grad(cost)({k: jnp.asarray(v) for k, v in parameters.items()})
    numeric = _central_differences(cost, parameters)
    for key in parameters:
        assert _relative(analytic[key], numeric[key]) < 1e-7, key


def test_defaults_are_the_first_courses_cost():
    parameters, X, Y, _ = _point(3, layers=[4, 5, 3, 1])
    assert float(L_model_cost_general(parameters, X, Y)) == pytest.approx(
        float(L_model_cost(parameters, X, Y)), rel=1e-15)


def test_softmax_takes_integer_labels_as_one_hot():
    parameters, X, Y, _ = _point(4, output="softmax")
    labels = np.argmax(Y, axis=0)[None, :]
    assert float(L_model_cost_general(parameters, X, labels, output="softmax")) == pytest.approx(
        float(L_model_cost_general(parameters, X, Y, output="softmax")), rel=1e-15)


def test_softmax_cross_entropy_is_finite_for_huge_logits():
    Z = jnp.array([[1000.0, -1000.0], [0.0, 0.0], [-1000.0, 1000.0]])
    Y = jnp.eye(3)[:, [2, 2]]
    value = float(softmax_cross_entropy_with_logits(Z, Y))
    assert value == pytest.approx((2000.0 + 0.0) / 2)
    grad = jax.grad(softmax_cross_entropy_with_logits)(Z, Y)
    assert np.all(np.isfinite(grad))


def test_softmax_logit_gradient_is_A_minus_Y_over_m():
    rng = np.random.default_rng(5)
    Z = rng.normal(size=(4, 6))
    Y = np.eye(4)[:, rng.integers(0, 4, 6)]
    A = np.exp(Z) / np.exp(Z).sum(axis=0)
    grad = jax.grad(softmax_cross_entropy_with_logits)(jnp.asarray(Z), jnp.asarray(Y))
    np.testing.assert_allclose(grad, (A - Y) / 6, rtol=1e-12, atol=1e-15)


def test_all_ones_masks_with_keep_prob_1_change_nothing():
    parameters, X, Y, _ = _point(6)
    masks = {1: np.ones((5, M)), 2: np.ones((3, M))}
    assert float(L_model_cost_general(parameters, X, Y, masks=masks)) == pytest.approx(
        float(L_model_cost_general(parameters, X, Y)), rel=1e-15)


def test_a_dropped_unit_gets_no_gradient_and_passes_none_on():
    parameters, X, Y, _ = _point(7)
    masks = {1: np.ones((5, M)), 2: np.ones((3, M))}
    masks[1][2, :] = 0.0  # unit 2 of layer 1 dropped on every example
    grads = jax.grad(L_model_cost_general)(
        {k: jnp.asarray(v) for k, v in parameters.items()}, X, Y, masks=masks, keep_prob=0.5)
    assert np.all(np.asarray(grads["W1"])[2] == 0) and float(grads["b1"][2, 0]) == 0
    assert np.all(np.asarray(grads["W2"])[:, 2] == 0)


def test_l2_gradient_adds_lambd_over_m_times_W():
    parameters, X, Y, _ = _point(8)
    p = {k: jnp.asarray(v) for k, v in parameters.items()}
    plain = jax.grad(L_model_cost_general)(p, X, Y)
    regularised = jax.grad(L_model_cost_general)(p, X, Y, lambd=0.9)
    for key in parameters:
        extra = 0.9 / M * parameters[key] if key.startswith("W") else 0.0
        np.testing.assert_allclose(regularised[key], np.asarray(plain[key]) + extra,
                                   rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("kwargs, message", [
    (dict(output="tanh"), "output must be"),
    (dict(hidden="softplus"), "hidden must be one of"),
    (dict(keep_prob=0.0), r"keep_prob must be in \(0, 1\]"),
    (dict(keep_prob=0.5), "needs the dropout masks"),
    (dict(masks={3: np.ones((3, M))}, keep_prob=0.5), "hidden layers 1..2"),
])
def test_bad_options_are_refused(kwargs, message):
    parameters, X, Y, _ = _point(9)
    with pytest.raises(ValueError, match=message):
        L_model_cost_general(parameters, X, Y, **kwargs)


def test_exported_by_the_package():
    assert reference.L_model_cost_general is L_model_cost_general
    assert reference.softmax_cross_entropy_with_logits is softmax_cross_entropy_with_logits
