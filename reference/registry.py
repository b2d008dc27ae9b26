"""Every hand-derived backward of cnn_core, each with its JAX reference: one registry.

An :class:`Entry` names the cnn_core callables it verifies (``targets``), builds sample
inputs away from kinks and saturation (``sample``), computes the analytic gradients on
a backend (``analytic``, the hook through which tests inject wrong variants), and states
the same gradients as ``jax.grad`` of a scalar (``scalar``, times ``scale`` per input:
the course's conventions mix gradients of the mean cost, for parameters, with
gradients of the summed loss, for the activations handed down).

``tests/test_gradients.py`` runs every entry on both backends and both dtypes, checks
every JAX reference against central differences, injects the wrong variants of
``tests/mutants.py`` (test machinery, not installed), and fails when a backward of
cnn_core is not listed here.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from cnn_core import _backend, _ops, activations, deep, improving, logistic, shallow, training

from . import ops
from .costs import L_model_cost, L_model_cost_general, logistic_cost, shallow_cost

#: Normwise relative tolerance against autodiff, by dtype.
TOLERANCE = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 1e-4}


@dataclass(frozen=True)
class Entry:
    """One hand-derived backward and its reference.

    Attributes:
        name: how tests and reports call it.
        targets: the cnn_core callables whose gradients this entry checks.
        sample: ``rng -> inputs`` (a dict of float64 arrays; ``"m"`` holds the number
            of examples).
        analytic: ``(inputs, backend) -> {input name: gradient}``, computed by cnn_core.
        scalar: ``inputs -> jnp scalar`` whose gradient, times ``scale[name]`` (a
            multiple of 1/m or m, by ``inputs["m"]``), is the expected gradient.
        wrt: the input names differentiated.
        scale: ``{name: power}``: the reference gradient is ``grad * m ** power``.
        weights / biases: the names that are weight and bias gradients (the wrong
            variants in ``tests/mutants.py`` act on them).
        activation: whether an activation derivative enters the result.
    """

    name: str
    targets: tuple
    sample: Callable
    analytic: Callable
    scalar: Callable
    wrt: tuple
    scale: dict = dataclasses.field(default_factory=dict)
    weights: tuple = ()
    biases: tuple = ()
    activation: bool = False

    def reference(self, inputs):
        """The expected gradients, from ``jax.grad`` in float64."""
        args = {k: jnp.asarray(np.asarray(v, dtype=np.float64)) for k, v in inputs.items()
                if k != "m"}
        grads = jax.grad(lambda sub: self.scalar({**args, **sub}))({k: args[k] for k in self.wrt})
        m = inputs["m"]
        return {k: np.asarray(grads[k]) * float(m) ** self.scale.get(k, 0) for k in self.wrt}


# ---------------------------------------------------------------------------------------
# Samples: bounded, away from ReLU's kink and from saturation.
# ---------------------------------------------------------------------------------------

def _away_from_zero(rng, shape, low=0.1, high=2.0):
    return rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], shape)


def _layer_sample(rng, n=3, n_prev=4, m=6):
    return {"A_prev": rng.standard_normal((n_prev, m)),
            "W": rng.standard_normal((n, n_prev)) / np.sqrt(n_prev),
            "b": 0.1 * rng.standard_normal((n, 1)),
            "dZ": rng.standard_normal((n, m)), "m": m}


def _activation_sample(rng, shape=(4, 7)):
    return {"Z": _away_from_zero(rng, shape), "dA": rng.standard_normal(shape), "m": shape[1]}


def _network_sample(dims, m):
    def sample(rng):
        params = {}
        for l in range(1, len(dims)):
            params[f"W{l}"] = rng.standard_normal((dims[l], dims[l - 1])) / np.sqrt(dims[l - 1])
            params[f"b{l}"] = 0.1 * rng.standard_normal((dims[l], 1))
        return {**params, "X": rng.standard_normal((dims[0], m)),
                "Y": (rng.random((1, m)) > 0.5).astype(float), "m": m}
    return sample


def _params(inputs):
    return {k: v for k, v in inputs.items() if k[0] in "Wb" and k[1:].isdigit()}


def _with_dtype(inputs, dtype):
    return {k: (v if k == "m" else np.asarray(v, dtype=dtype)) for k, v in inputs.items()}


# ---------------------------------------------------------------------------------------
# The entries.
# ---------------------------------------------------------------------------------------

def _kernel(name):
    return getattr(_backend.kernels(), name, None) if _backend.HAVE_EXTENSION else None


def _activation_entry(name):
    def analytic(inputs, backend):
        return {"Z": _ops.activation_backward(inputs["dA"], inputs["Z"], name, backend)}

    return Entry(
        name=f"activation_backward[{name}]",
        targets=(_ops.activation_backward, activations.ACTIVATIONS[name].slope,
                 _kernel("activation_backward")),
        sample=_activation_sample, analytic=analytic,
        scalar=lambda a: jnp.sum(a["dA"] * ops.ACTIVATIONS[name](a["Z"])),
        wrt=("Z",), activation=True,
    )


def _deep_activation_entry(name, fn):
    return Entry(
        name=f"deep.{name}_backward",
        targets=(fn,), sample=_activation_sample,
        analytic=lambda inputs, backend: {"Z": fn(inputs["dA"], inputs["Z"], backend=backend)},
        scalar=lambda a: jnp.sum(a["dA"] * ops.ACTIVATIONS[name](a["Z"])),
        wrt=("Z",), activation=True,
    )


def _linear_backward(inputs, backend):
    dA_prev, dW, db = deep.linear_backward(
        inputs["dZ"], (inputs["A_prev"], inputs["W"], inputs["b"]), backend=backend)
    return {"A_prev": dA_prev, "W": dW, "b": db}


def _linear_activation_entry(name):
    def sample(rng):
        inputs = _layer_sample(rng)
        # Keep Z away from relu's kink: shift b so that no |Z| is below 0.05.
        Z = inputs["W"] @ inputs["A_prev"] + inputs["b"]
        inputs["b"] = inputs["b"] + np.where(np.abs(Z).min(axis=1, keepdims=True) < 0.05, 0.3, 0)
        inputs["dA"] = inputs.pop("dZ")
        return inputs

    def analytic(inputs, backend):
        _, cache = deep.linear_activation_forward(inputs["A_prev"], inputs["W"], inputs["b"],
                                                  name, backend=backend)
        dA_prev, dW, db = deep.linear_activation_backward(inputs["dA"], cache, name,
                                                          backend=backend)
        return {"A_prev": dA_prev, "W": dW, "b": db}

    return Entry(
        name=f"deep.linear_activation_backward[{name}]",
        targets=(deep.linear_activation_backward,), sample=sample, analytic=analytic,
        scalar=lambda a: jnp.sum(a["dA"] * ops.ACTIVATIONS[name](ops.linear(a["A_prev"], a["W"], a["b"]))),
        wrt=("A_prev", "W", "b"), scale={"W": -1, "b": -1},
        weights=("W",), biases=("b",), activation=True,
    )


def _L_model_backward(inputs, backend):
    params = _params(inputs)
    AL, caches = deep.L_model_forward(inputs["X"], params, backend=backend)
    grads = deep.L_model_backward(AL, inputs["Y"], caches, backend=backend)
    return {**{k: grads["d" + k] for k in params}, "X": grads["dA1"]}


def _backward_propagation(inputs, backend):
    params = _params(inputs)
    _, cache = shallow.forward_propagation(inputs["X"], params, backend=backend)
    grads = shallow.backward_propagation(params, cache, inputs["X"], inputs["Y"], backend=backend)
    return {k: grads["d" + k] for k in params}


def _propagate(inputs, backend):
    grads, _ = logistic.propagate(inputs["w"], float(inputs["b"]), inputs["X"], inputs["Y"],
                                  backend=backend)
    return {"w": grads["dw"], "b": np.asarray(grads["db"])}


def _logistic_sample(rng):
    m = 9
    return {"w": 0.5 * rng.standard_normal((4, 1)), "b": np.asarray(0.2),
            "X": rng.standard_normal((4, m)), "Y": (rng.random((1, m)) > 0.5).astype(float),
            "m": m}


def _training_step(hidden, gram=False):
    """One gradient descent step with rate 1: the gradient is ``before - after``."""
    def analytic(inputs, backend):
        params = {k: np.array(v, order="C") for k, v in _params(inputs).items()}
        before = {k: v.copy() for k, v in params.items()}
        training.gradient_descent(inputs["X"], inputs["Y"].astype(inputs["X"].dtype), params,
                                   hidden, 1.0, 1, 1, lambda i, c: None, backend, gram)
        return {k: before[k] - params[k] for k in params}
    return analytic


def _network_keys(dims):
    return tuple(f"{p}{l}" for l in range(1, len(dims)) for p in ("W", "b"))


def _network_entry(name, targets, dims, analytic, scalar, m=8, with_X=False, activation=True):
    keys = _network_keys(dims)
    return Entry(
        name=name, targets=targets, sample=_network_sample(dims, m), analytic=analytic,
        scalar=scalar, wrt=keys + (("X",) if with_X else ()),
        scale={"X": 1} if with_X else {},
        weights=tuple(k for k in keys if k[0] == "W"), biases=tuple(k for k in keys if k[0] == "b"),
        activation=activation,
    )


# The second course's network (cnn_core.improving): sigmoid or softmax output, the L2
# term and inverted dropout. Dropout masks are drawn by the forward pass from np.random
# after np.random.seed(DROPOUT_SEED), layer by layer; the reference draws the same masks
# the same way and gives them to the JAX cost as inputs.
DROPOUT_SEED = 7


def _dropout_masks(dims, m, keep_prob):
    if keep_prob >= 1:
        return None
    np.random.seed(DROPOUT_SEED)
    return {l: (np.random.rand(dims[l], m) < keep_prob).astype(np.float64)
            for l in range(1, len(dims) - 1)}


def _improving_sample(dims, m, output):
    base = _network_sample(dims, m)

    def sample(rng):
        inputs = base(rng)
        if output == "softmax":
            labels = rng.integers(0, dims[-1], m)
            inputs["Y"] = np.eye(dims[-1])[:, labels]
        return inputs
    return sample


def _improving_backward(dims, output, lambd, keep_prob):
    def analytic(inputs, backend):
        params = _params(inputs)
        AL, caches = improving.forward_propagation(
            inputs["X"], params, keep_prob=keep_prob, output=output,
            seed=DROPOUT_SEED if keep_prob < 1 else None, backend=backend)
        grads = improving.backward_propagation(AL, inputs["Y"], caches, lambd=lambd,
                                               keep_prob=keep_prob, output=output,
                                               backend=backend)
        return {k: grads[f"d{k}"] for k in params}

    def scalar(a):
        masks = _dropout_masks(dims, a["X"].shape[1], keep_prob)
        return L_model_cost_general(_params(a), a["X"], a["Y"], output=output, lambd=lambd,
                                    masks=masks, keep_prob=keep_prob)
    return analytic, scalar


def _improving_entry(name, dims, output, lambd=0.0, keep_prob=1.0, m=10):
    analytic, scalar = _improving_backward(dims, output, lambd, keep_prob)
    keys = _network_keys(dims)
    return Entry(
        name=name, targets=(improving.backward_propagation,),
        sample=_improving_sample(dims, m, output), analytic=analytic, scalar=scalar, wrt=keys,
        weights=tuple(k for k in keys if k[0] == "W"), biases=tuple(k for k in keys if k[0] == "b"),
        activation=True,
    )


REGISTRY = [
    *[_activation_entry(name) for name in ("relu", "sigmoid", "tanh", "identity")],
    _deep_activation_entry("relu", deep.relu_backward),
    _deep_activation_entry("sigmoid", deep.sigmoid_backward),
    Entry(
        name="deep.linear_backward",
        targets=(deep.linear_backward, _ops.linear_backward, _kernel("linear_backward")),
        sample=_layer_sample, analytic=_linear_backward,
        scalar=lambda a: jnp.sum(a["dZ"] * ops.linear(a["A_prev"], a["W"], a["b"])),
        wrt=("A_prev", "W", "b"), scale={"W": -1, "b": -1}, weights=("W",), biases=("b",),
    ),
    _linear_activation_entry("relu"),
    _linear_activation_entry("sigmoid"),
    _network_entry(
        "deep.L_model_backward", (deep.L_model_backward, _ops.backward_layers),
        [5, 4, 3, 1], _L_model_backward,
        lambda a: L_model_cost(_params(a), a["X"], a["Y"]), with_X=True,
    ),
    _network_entry(
        "shallow.backward_propagation", (shallow.backward_propagation,),
        [3, 4, 1], _backward_propagation,
        lambda a: shallow_cost(_params(a), a["X"], a["Y"]),
    ),
    Entry(
        name="logistic.propagate", targets=(logistic.propagate,), sample=_logistic_sample,
        analytic=_propagate, scalar=lambda a: logistic_cost(a["w"], a["b"], a["X"], a["Y"]),
        wrt=("w", "b"), weights=("w",), biases=("b",),
    ),
    _network_entry(
        "training step, relu (L_layer_model, two_layer_model)",
        (training.gradient_descent, training.NumpyTrainer, training.DirectFirstLayer,
         _ops.backward_layers, _kernel("Trainer")),
        [5, 4, 3, 1], _training_step("relu"),
        lambda a: L_model_cost(_params(a), a["X"], a["Y"]),
    ),
    _network_entry(
        "training step, tanh (nn_model)", (training.gradient_descent, _kernel("Trainer")),
        [3, 4, 1], _training_step("tanh"),
        lambda a: shallow_cost(_params(a), a["X"], a["Y"]),
    ),
    _network_entry(
        "training step, Gram path (n_x > m)", (training.use_gram_path, training.GramFirstLayer),
        [30, 4, 3, 1], _training_step("relu", gram=True),
        lambda a: L_model_cost(_params(a), a["X"], a["Y"]),
    ),
    _network_entry(
        "training step, one layer (logistic model)", (training.gradient_descent,
                                                      _kernel("Trainer")),
        [4, 1], _training_step("identity"),
        lambda a: L_model_cost(_params(a), a["X"], a["Y"]), activation=False,
    ),
    _improving_entry("improving.backward_propagation, sigmoid with L2 and dropout",
                     [5, 4, 3, 1], "sigmoid", lambd=0.7, keep_prob=0.8),
    _improving_entry("improving.backward_propagation, softmax with L2",
                     [5, 4, 3], "softmax", lambd=0.3),
    _improving_entry("improving.backward_propagation, softmax with dropout",
                     [5, 6, 4, 3], "softmax", keep_prob=0.7),
]


def sample_inputs(entry, seed=0, dtype=np.float64):
    """``entry``'s sample inputs from a seeded generator, cast to ``dtype``."""
    return _with_dtype(entry.sample(np.random.default_rng(seed)), dtype)
