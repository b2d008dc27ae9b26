"""Every hand-derived gradient of cnn_core equals JAX's automatic differentiation.

The tests run over ``cnn_core.reference.registry.REGISTRY`` (one entry per backward), on
both backends and both dtypes; they also check the references against central
differences, show that wrong gradients are caught (the wrong variants of
``tests/mutants.py``), and fail when a backward is not registered.
"""
import inspect

import numpy as np
import pytest

jax = pytest.importorskip("jax", reason="JAX comes with the test extra: pip install -e '.[test]'")
import jax.numpy as jnp  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from cnn_core import reference  # noqa: E402  (turns on float64 in JAX)
from cnn_core.reference.registry import REGISTRY, TOLERANCE, sample_inputs  # noqa: E402

from cnn_core import (_backend, _ops, activations, conv, convnet, deep, improving,  # noqa: E402
                      logistic, shallow, training)
from cnn_core.verify import relative_difference  # noqa: E402

from conftest import BACKENDS  # noqa: E402
from helpers import random_network  # noqa: E402
from mutants import MUTANTS, applicable_mutants  # noqa: E402

DTYPES = [np.float64, np.float32]
ENTRIES = {entry.name: entry for entry in REGISTRY}


def test_float64_is_on():
    assert jnp.zeros(1).dtype == np.float64


def test_relu_reference_has_slope_0_at_0():
    """jnp.maximum(z, 0) would give 0.5 there; cnn_core's relu_backward gives 0."""
    assert float(jax.grad(reference.ops.relu)(0.0)) == 0.0
    assert float(jax.grad(lambda z: jnp.maximum(z, 0.0))(0.0)) == 0.5
    assert deep.relu_backward(np.ones((1, 1)), np.zeros((1, 1)))[0, 0] == 0.0


def _worst(analytic, expected):
    return max(relative_difference(analytic.get(k), expected[k]) if k in analytic else np.inf
               for k in expected)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", list(ENTRIES))
def test_analytic_gradient_equals_autodiff(name, backend, dtype):
    entry = ENTRIES[name]
    inputs = sample_inputs(entry, seed=1, dtype=dtype)
    expected = entry.reference(sample_inputs(entry, seed=1))
    analytic = entry.analytic(inputs, backend)
    for key in expected:
        assert analytic[key].shape == expected[key].shape, key
        assert analytic[key].dtype == dtype or analytic[key].ndim == 0, key
    assert _worst(analytic, expected) <= TOLERANCE[np.dtype(dtype)]


@pytest.mark.parametrize("name", list(ENTRIES))
def test_reference_equals_central_differences(name):
    """The JAX reference is checked by a third oracle on the same small case."""
    entry = ENTRIES[name]
    inputs = sample_inputs(entry, seed=2)
    expected = entry.reference(inputs)
    args = {k: jnp.asarray(v) for k, v in inputs.items() if k != "m"}
    for key in entry.wrt:
        base = np.asarray(inputs[key], dtype=np.float64)
        numeric = np.zeros(base.size)
        for i in range(base.size):
            step = np.zeros(base.size)
            step[i] = 1e-6
            up = float(entry.scalar({**args, key: jnp.asarray(base + step.reshape(base.shape))}))
            down = float(entry.scalar({**args, key: jnp.asarray(base - step.reshape(base.shape))}))
            numeric[i] = (up - down) / 2e-6
        numeric = numeric.reshape(base.shape) * float(inputs["m"]) ** entry.scale.get(key, 0)
        assert relative_difference(expected[key], numeric) <= 1e-7, key


@pytest.mark.parametrize("name", list(ENTRIES))
def test_every_entry_can_fail(name):
    """Each applicable wrong variant, injected through the analytic hook, is reported."""
    entry = ENTRIES[name]
    mutants = applicable_mutants(entry)
    assert mutants, f"{name} has no wrong variant to show that its check can fail"
    inputs = sample_inputs(entry, seed=3)
    expected = entry.reference(inputs)
    backend = BACKENDS[-1]
    assert _worst(entry.analytic(inputs, backend), expected) <= 1e-10
    for mutant in mutants:
        wrong = MUTANTS[mutant][0](entry, inputs, backend)
        assert _worst(wrong, expected) > 1e-3, f"{name}: {mutant} went unnoticed"


def _registered_targets():
    return {id(t) for entry in REGISTRY for t in entry.targets if t is not None}


def _backward_callables():
    found = {}
    for module in (activations, deep, shallow, logistic, _ops, training, improving, conv,
                   convnet):
        for attr, value in vars(module).items():
            if attr.startswith("_") or not inspect.isfunction(value):
                continue
            if value.__module__ != module.__name__:
                continue
            if "backward" in attr or attr in ("propagate", "gradient_descent"):
                found[f"{module.__name__}.{attr}"] = value
        for attr, value in vars(module).items():  # trainers and first-layer strategies
            if inspect.isclass(value) and value.__module__ == module.__name__ and (
                    attr.endswith("Trainer") or attr.endswith("FirstLayer")):
                found[f"{module.__name__}.{attr}"] = value
    for name, act in activations.ACTIVATIONS.items():
        found[f"ACTIVATIONS[{name!r}].slope"] = act.slope
    kernels = _backend.kernels()
    if kernels is not None:
        for attr in dir(kernels):
            if "backward" in attr or attr.endswith("Trainer"):
                found[f"kernels.{attr}"] = getattr(kernels, attr)
    return found


def test_every_backward_is_registered():
    registered = _registered_targets()
    missing = [name for name, fn in _backward_callables().items() if id(fn) not in registered]
    assert not missing, f"backward functions without a registry entry: {missing}"


def test_the_registry_check_notices_a_new_unregistered_backward(monkeypatch):
    def softplus_backward(dA, cache):
        return dA

    monkeypatch.setattr(deep, "softplus_backward", softplus_backward, raising=False)
    softplus_backward.__module__ = deep.__name__
    assert "cnn_core.deep.softplus_backward" in _backward_callables()
    assert id(softplus_backward) not in _registered_targets()


@given(widths=st.lists(st.integers(1, 64), min_size=0, max_size=5),
       n_x=st.integers(1, 64), m=st.integers(1, 256), seed=st.integers(0, 2**16))
def test_random_architectures_match_autodiff(widths, n_x, m, seed):
    dims = [n_x, *widths, 1]
    parameters, X, Y = random_network(dims, m, seed=seed)
    cost, expected = jax.value_and_grad(reference.L_model_cost)(parameters, X, Y)
    for backend in BACKENDS:
        AL, caches = deep.L_model_forward(X, parameters, backend=backend)
        grads = deep.L_model_backward(AL, Y, caches, backend=backend)
        assert float(deep.compute_cost(AL, Y, backend=backend)) == pytest.approx(
            float(cost), rel=1e-10)
        for key in parameters:
            # ReLU's kink: an entry of Z within rounding of 0 can flip a unit's slope
            # between two exact implementations; with continuous random data it has
            # probability zero, and the tolerance stays that of float64.
            assert relative_difference(grads["d" + key], expected[key]) <= 1e-10, key


def _jax_step(cost, parameters, X, Y, rate):
    grads = jax.grad(cost)(parameters, X, Y)
    return {k: np.asarray(parameters[k]) - rate * np.asarray(grads[k]) for k in parameters}


@pytest.mark.parametrize("backend", BACKENDS)
def test_one_step_of_each_model_is_a_jax_gradient_step(backend):
    _, X, Y = random_network([6, 1], 12, seed=4)
    # L_layer_model and two_layer_model seed 1 and initialise as the notes do.
    np.random.seed(1)
    start = deep.initialize_parameters_deep([6, 5, 3, 1])
    stepped = deep.L_layer_model(X, Y, [6, 5, 3, 1], learning_rate=0.3, num_iterations=1,
                                 backend=backend)
    want = _jax_step(reference.L_model_cost, start, X, Y, 0.3)
    assert max(relative_difference(stepped[k], want[k]) for k in want) <= 1e-12

    np.random.seed(1)
    start = deep.initialize_parameters(6, 4, 1)
    stepped = deep.two_layer_model(X, Y, (6, 4, 1), learning_rate=0.3, num_iterations=1,
                                   backend=backend)
    want = _jax_step(reference.L_model_cost, start, X, Y, 0.3)
    assert max(relative_difference(stepped[k], want[k]) for k in want) <= 1e-12

    np.random.seed(7)
    start = shallow.initialize_parameters(6, 4, 1)
    np.random.seed(7)
    stepped = shallow.nn_model(X, Y, 4, num_iterations=1, backend=backend)
    want = _jax_step(reference.shallow_cost, start, X, Y, 1.2)
    assert max(relative_difference(stepped[k], want[k]) for k in want) <= 1e-12

    d = logistic.model(X, Y, X, Y, num_iterations=1, learning_rate=0.5, backend=backend)
    start = {"w": np.zeros((6, 1)), "b": np.asarray(0.0)}
    want = _jax_step(lambda p, X_, Y_: reference.logistic_cost(p["w"], p["b"], X_, Y_),
                     start, X, Y, 0.5)
    assert relative_difference(d["w"], want["w"]) <= 1e-12
    assert d["b"] == pytest.approx(float(want["b"]), rel=1e-12)
