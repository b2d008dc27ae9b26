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

A second table, :data:`UPDATES`, holds the optimizers' updates (an :class:`UpdateEntry`
each): a step is a function of the gradient, checked by value against its JAX statement
in :mod:`.optimizers` and, through ``jax.jacfwd``, by its derivative with respect to the
gradient against a hand-derived diagonal. ``tests/test_optimizers_reference.py`` runs
that table and fails when an ``update_parameters_with_*`` function of
``cnn_core.improving`` is not listed there.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from cnn_core import _backend, _ops, activations, deep, improving, logistic, shallow, training
from cnn_core import conv, convnet  # the fourth course's layers, entries at the end

from . import ops, optimizers
from .conv import conv_layer, pool_layer
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


def dropout_masks(dims, m, keep_prob, seed=DROPOUT_SEED):
    """The masks ``improving.forward_propagation(..., keep_prob, seed=seed)`` draws.

    ``np.random.seed(seed)``, then for each hidden layer l = 1..L-1 in order
    ``np.random.rand(n_l, m) < keep_prob``, as float64 0/1 arrays ``(n_l, m)`` keyed by l
    (the ``masks`` of :func:`.costs.L_model_cost_general`); None when ``keep_prob >= 1``
    (nothing is drawn). ``dims`` is ``[n_x, n_1, ..., n_L]``. Reseeds ``np.random``.
    """
    if keep_prob >= 1:
        return None
    np.random.seed(seed)
    return {l: (np.random.rand(dims[l], m) < keep_prob).astype(np.float64)
            for l in range(1, len(dims) - 1)}


def _improving_sample(dims, m, output, labels="one-hot"):
    base = _network_sample(dims, m)

    def sample(rng):
        inputs = base(rng)
        if output == "softmax":
            classes = rng.integers(0, dims[-1], m)
            # One-hot (K, m), or the integer labels (1, m) (as floats: the samples are
            # cast to the dtype under test) that both cnn_core and the reference expand.
            inputs["Y"] = (np.eye(dims[-1])[:, classes] if labels == "one-hot"
                           else classes[None, :].astype(np.float64))
        return inputs
    return sample


def _improving_backward(dims, output, lambd, keep_prob, hidden="relu"):
    def analytic(inputs, backend):
        params = _params(inputs)
        AL, caches = improving.forward_propagation(
            inputs["X"], params, keep_prob=keep_prob, output=output, hidden=hidden,
            seed=DROPOUT_SEED if keep_prob < 1 else None, backend=backend)
        grads = improving.backward_propagation(AL, inputs["Y"], caches, lambd=lambd,
                                               keep_prob=keep_prob, output=output,
                                               hidden=hidden, backend=backend)
        return {k: grads[f"d{k}"] for k in params}

    def scalar(a):
        masks = dropout_masks(dims, a["X"].shape[1], keep_prob)
        return L_model_cost_general(_params(a), a["X"], a["Y"], output=output, hidden=hidden,
                                    lambd=lambd, masks=masks, keep_prob=keep_prob)
    return analytic, scalar


def _improving_entry(name, dims, output, lambd=0.0, keep_prob=1.0, m=10, hidden="relu",
                     labels="one-hot"):
    analytic, scalar = _improving_backward(dims, output, lambd, keep_prob, hidden)
    keys = _network_keys(dims)
    return Entry(
        name=name, targets=(improving.backward_propagation,),
        sample=_improving_sample(dims, m, output, labels), analytic=analytic, scalar=scalar,
        wrt=keys,
        weights=tuple(k for k in keys if k[0] == "W"), biases=tuple(k for k in keys if k[0] == "b"),
        # With no hidden layer (dims [n_x, n_L]) no activation derivative enters: the
        # output's dZ = AL - Y is the whole chain.
        activation=len(dims) > 2,
    )



# The epoch trainers (improving.model's loop): one epoch whose one batch is all m columns
# in order, at rate 1 with plain gradient descent, is one step by the gradient of the
# batch's cost (with its L2 term and dropout masks), ``before - after``.

def _epoch_step(output, lambd, keep_prob, gram, hidden="relu"):
    def analytic(inputs, backend):
        params = {k: np.array(v, order="C") for k, v in _params(inputs).items()}
        before = {k: v.copy() for k, v in params.items()}
        X = inputs["X"]
        m = X.shape[1]
        trainer = training.make_epoch_trainer(
            X, np.ascontiguousarray(inputs["Y"], dtype=X.dtype), params, hidden=hidden,
            output=output, optimizer="gd", mini_batch_size=m, lambd=lambd,
            keep_prob=keep_prob, gram=gram, backend=backend)
        draws = None
        if trainer.draw_count:
            # The stream dropout_masks draws from: np.random.seed, then layer by layer.
            np.random.seed(DROPOUT_SEED)
            draws = np.random.rand(trainer.draw_count)
        trainer.run_epoch(np.arange(m), 1.0, draws=draws)
        return {k: before[k] - params[k] for k in params}

    def scalar(a):
        masks = dropout_masks(_dims_of(a), a["X"].shape[1], keep_prob)
        return L_model_cost_general(_params(a), a["X"], a["Y"], output=output, hidden=hidden,
                                    lambd=lambd, masks=masks, keep_prob=keep_prob)
    return analytic, scalar


def _dims_of(inputs):
    """``[n_x, n_1, ..., n_L]`` of the inputs' weights."""
    L = sum(1 for k in inputs if k.startswith("W"))
    return [inputs["X"].shape[0]] + [inputs[f"W{l}"].shape[0] for l in range(1, L + 1)]


def _epoch_entry(name, targets, dims, output, lambd=0.0, keep_prob=1.0, gram=False, m=10):
    analytic, scalar = _epoch_step(output, lambd, keep_prob, gram)
    keys = _network_keys(dims)
    return Entry(
        name=name, targets=targets, sample=_improving_sample(dims, m, output),
        analytic=analytic, scalar=scalar, wrt=keys,
        weights=tuple(k for k in keys if k[0] == "W"), biases=tuple(k for k in keys if k[0] == "b"),
        activation=len(dims) > 2,
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
    _epoch_entry("epoch trainer, softmax with L2 and dropout (improving.model)",
                 (training.NumpyEpochTrainer, training.make_epoch_trainer,
                  _kernel("EpochTrainer")),
                 [5, 4, 3, 3], "softmax", lambd=0.3, keep_prob=0.8),
    _epoch_entry("epoch trainer, sigmoid", (training.NumpyEpochTrainer,
                                            _kernel("EpochTrainer")),
                 [4, 5, 1], "sigmoid"),
    _epoch_entry("epoch trainer, Gram path (n_x > m), sigmoid with L2 and dropout",
                 (training.GramEpochFirstLayer,),
                 [30, 4, 3, 1], "sigmoid", lambd=0.5, keep_prob=0.8, gram=True, m=8),
    _epoch_entry("epoch trainer, Gram path, softmax on one layer",
                 (training.GramEpochFirstLayer,), [20, 3], "softmax", gram=True, m=6),
    # The L2 term alone on the sigmoid output (above it only comes with dropout), on one
    # hidden layer and on four layers; the bare output layer (no hidden layer, so no
    # mask and no activation derivative: logistic and softmax regression with L2); one
    # hidden layer's single mask; every term at once on four layers with tanh hidden
    # layers; and the softmax's integer labels (1, m), expanded to one-hot by cnn_core.
    _improving_entry("improving.backward_propagation, sigmoid with L2, one hidden layer",
                     [4, 5, 1], "sigmoid", lambd=0.5),
    _improving_entry("improving.backward_propagation, sigmoid with L2, four layers",
                     [5, 4, 4, 3, 1], "sigmoid", lambd=0.9),
    _improving_entry("improving.backward_propagation, sigmoid with L2, no hidden layer",
                     [4, 1], "sigmoid", lambd=0.4),
    _improving_entry("improving.backward_propagation, softmax with L2, no hidden layer",
                     [4, 3], "softmax", lambd=0.4),
    _improving_entry("improving.backward_propagation, sigmoid with dropout, one hidden layer",
                     [4, 6, 1], "sigmoid", keep_prob=0.6),
    _improving_entry("improving.backward_propagation, softmax with L2 and dropout, four tanh "
                     "layers", [5, 6, 5, 4, 4], "softmax", lambd=0.2, keep_prob=0.75,
                     hidden="tanh"),
    _improving_entry("improving.backward_propagation, softmax with integer labels (1, m)",
                     [4, 5, 3], "softmax", lambd=0.1, labels="integer"),
]


# ---------------------------------------------------------------------------------------
# The fourth course's layers (cnn_core.conv): convolution and pooling, NHWC.
#
# Each layer is checked through a fixed cotangent G drawn with the inputs: the scalar is
# sum(layer(inputs) * G), so jax.grad of it is the layer's backward given dZ = G (dA = G
# for pooling). The course's conv_backward sums over the examples with no 1/m, hence
# scale power 0 throughout. Max pooling is sampled tie-free (distinct input values):
# there the maximum is differentiable and JAX and the course's mask agree.
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ConvEntry(Entry):
    """An :class:`Entry` of a convolution or pooling layer of :mod:`cnn_core.conv`.

    Attributes (besides :class:`Entry`'s):
        layer: ``"conv"`` or ``"pool"``.
        hparameters: the layer's course dict, ``{"stride", "pad"}`` or ``{"stride", "f"}``.
        mode: the pooling mode, ``"max"`` or ``"average"`` (None for a convolution).

    The inputs are NHWC: ``A_prev`` ``(m, n_H_prev, n_W_prev, n_C_prev)``, for a
    convolution ``W`` ``(f, f, n_C_prev, n_C)``, ``b`` ``(1, 1, 1, n_C)`` and the
    cotangent ``dZ`` ``(m, n_H, n_W, n_C)``; for pooling the cotangent ``dA``
    ``(m, n_H, n_W, n_C)``.
    """

    layer: str = "conv"
    hparameters: dict = dataclasses.field(default_factory=dict)
    mode: str = None


def _distinct_values(rng, shape, low=-2.0, high=2.0):
    """Values in [low, high] in a random order, no two closer than ``0.4 (high - low) / n``
    (n entries): no window has tied maxima, even after a cast to float32 or a central
    difference's step."""
    n = int(np.prod(shape))
    ranks = rng.permutation(n) + rng.uniform(0.2, 0.8, n)
    return (low + (high - low) * ranks / n).reshape(shape)


def _conv_entry(m, n_H_prev, n_W_prev, n_C_prev, n_C, f, stride, pad):
    hparameters = {"stride": stride, "pad": pad}
    n_H = (n_H_prev - f + 2 * pad) // stride + 1
    n_W = (n_W_prev - f + 2 * pad) // stride + 1

    def sample(rng):
        return {"A_prev": rng.standard_normal((m, n_H_prev, n_W_prev, n_C_prev)),
                "W": rng.standard_normal((f, f, n_C_prev, n_C)) / np.sqrt(f * f * n_C_prev),
                "b": 0.1 * rng.standard_normal((1, 1, 1, n_C)),
                "dZ": rng.standard_normal((m, n_H, n_W, n_C)), "m": m}

    def analytic(inputs, backend):
        _, cache = conv.conv_forward(inputs["A_prev"], inputs["W"], inputs["b"], hparameters,
                                     backend=backend)
        dA_prev, dW, db = conv.conv_backward(inputs["dZ"], cache, backend=backend)
        return {"A_prev": dA_prev, "W": dW, "b": db}

    return ConvEntry(
        name=f"conv.conv_backward, f = {f}, stride {stride}, pad {pad}",
        targets=(conv.conv_backward, _kernel("conv_backward")), sample=sample,
        analytic=analytic,
        scalar=lambda a: jnp.sum(conv_layer(a["A_prev"], a["W"], a["b"], stride, pad) * a["dZ"]),
        wrt=("A_prev", "W", "b"), weights=("W",), biases=("b",),
        layer="conv", hparameters=hparameters,
    )


def _pool_entry(mode, m, n_H_prev, n_W_prev, n_C, f, stride):
    hparameters = {"stride": stride, "f": f}
    n_H, n_W = (n_H_prev - f) // stride + 1, (n_W_prev - f) // stride + 1

    def sample(rng):
        return {"A_prev": _distinct_values(rng, (m, n_H_prev, n_W_prev, n_C)),
                "dA": rng.standard_normal((m, n_H, n_W, n_C)), "m": m}

    def analytic(inputs, backend):
        _, cache = conv.pool_forward(inputs["A_prev"], hparameters, mode, backend=backend)
        return {"A_prev": conv.pool_backward(inputs["dA"], cache, mode, backend=backend)}

    return ConvEntry(
        name=f"conv.pool_backward[{mode}], f = {f}, stride {stride}",
        targets=(conv.pool_backward, _kernel("pool_backward")), sample=sample,
        analytic=analytic,
        scalar=lambda a: jnp.sum(pool_layer(a["A_prev"], f, stride, mode) * a["dA"]),
        wrt=("A_prev",), layer="pool", hparameters=hparameters, mode=mode,
    )


# Heights and widths differ, so that a swapped axis is seen. The convolutions: the
# course's "same" layer (f = 3, stride 1, pad 1), a strided one, and a stride larger
# than the filter (inputs that no window reads get no gradient); the pools: the course's
# f = 2, stride 2, and overlapping windows (stride < f), where contributions add.
REGISTRY += [
    _conv_entry(2, 5, 6, 3, 4, f=3, stride=1, pad=1),
    _conv_entry(2, 5, 7, 3, 4, f=3, stride=2, pad=1),
    _conv_entry(3, 6, 5, 2, 3, f=2, stride=3, pad=2),
    _pool_entry("max", 2, 6, 7, 3, f=2, stride=2),
    _pool_entry("max", 2, 7, 6, 2, f=3, stride=2),
    _pool_entry("average", 2, 6, 7, 3, f=2, stride=2),
    _pool_entry("average", 2, 5, 6, 2, f=3, stride=1),
]


# The small convolutional network (cnn_core.convnet): conv -> ReLU -> max pool -> conv ->
# ReLU -> max pool -> flatten -> softmax, the mean cross-entropy over m = 3 examples.

_CONVNET_HPARAMETERS = {"conv": {"stride": 1, "pad": 1}, "pool": {"stride": 2, "f": 2}}


def _convnet_sample(rng):
    m, K = 3, 4
    params = convnet.initialize_parameters((6, 6, 2), ((3, 3), (2, 4)), K,
                                           hparameters=_CONVNET_HPARAMETERS)
    # Biases away from zero and drawn weights: no ReLU input at 0, no tied maximum
    # among the units that pass a gradient.
    for key in params:
        params[key] = (rng.standard_normal(params[key].shape)
                       * (0.5 if key.startswith("W") else 0.1))
    classes = rng.integers(0, K, m)
    return {**params, "X": rng.standard_normal((m, 6, 6, 2)),
            "Y": np.eye(K)[:, classes], "m": m}


def _convnet_analytic(inputs, backend):
    params = {key: inputs[key] for key in convnet.PARAMETER_KEYS}
    AL, caches = convnet.forward_propagation(inputs["X"], params, _CONVNET_HPARAMETERS,
                                             backend=backend)
    grads = convnet.backward_propagation(AL, inputs["Y"], caches, backend=backend)
    return {key: grads["d" + key] for key in convnet.PARAMETER_KEYS}


def _convnet_cost(a):
    conv_hp, pool_hp = _CONVNET_HPARAMETERS["conv"], _CONVNET_HPARAMETERS["pool"]
    A = a["X"]
    for l in (1, 2):
        Z = conv_layer(A, a[f"W{l}"], a[f"b{l}"], conv_hp["stride"], conv_hp["pad"])
        A = pool_layer(jnp.maximum(Z, 0), pool_hp["f"], pool_hp["stride"], "max")
    F = A.reshape(A.shape[0], -1).T
    Z3 = a["W3"] @ F + a["b3"]
    shifted = Z3 - Z3.max(axis=0, keepdims=True)
    log_softmax = shifted - jnp.log(jnp.sum(jnp.exp(shifted), axis=0, keepdims=True))
    return -jnp.sum(a["Y"] * log_softmax) / A.shape[0]


REGISTRY.append(Entry(
    name="convnet.backward_propagation", targets=(convnet.backward_propagation,),
    sample=_convnet_sample, analytic=_convnet_analytic, scalar=_convnet_cost,
    wrt=convnet.PARAMETER_KEYS, weights=("W1", "W2", "W3"), biases=("b1", "b2", "b3"),
))


def sample_inputs(entry, seed=0, dtype=np.float64):
    """``entry``'s sample inputs from a seeded generator, cast to ``dtype``."""
    return _with_dtype(entry.sample(np.random.default_rng(seed)), dtype)


# ---------------------------------------------------------------------------------------
# The optimizers' updates: each step a function of the gradient.
# ---------------------------------------------------------------------------------------

#: The outputs an update may return, each a dict keyed by parameter name: the new
#: parameters, the state after the step (``v``, ``s``) and Adam's corrected averages.
UPDATE_OUTPUTS = ("parameters", "v", "s", "v_corrected", "s_corrected")


@dataclass(frozen=True)
class UpdateEntry:
    """One optimizer update of cnn_core and its JAX statement.

    The inputs (``sample(rng)``) are a dict: ``"parameters"``, a dict ``{"W1", "b1",
    ...}`` of arrays ``W{l}`` ``(n_l, n_{l-1})`` and ``b{l}`` ``(n_l, 1)``;
    ``"gradients"``, a list of dicts of the same keys and shapes, one per step (the
    update is applied once per element, in order); ``"state"``, the optimizer's state
    before the first step, a dict of ``"v"`` (and ``"s"``) each keyed like the
    parameters, or None to start from cnn_core's ``initialize_velocity`` /
    ``initialize_adam`` (zeros for the reference); ``"t"``, the number of the first step
    (Adam); and ``"hyper"``, the step's keyword arguments (floats).

    Attributes:
        name: how tests and reports call it.
        optimizer: ``"gd"``, ``"momentum"`` or ``"adam"`` (the wrong variants of the
            tests act on one optimizer).
        targets: the cnn_core callables this entry checks.
        sample: ``rng -> inputs`` (float64 arrays).
        analytic: ``(inputs, backend) -> {output: {key: array}}`` (outputs of
            :data:`UPDATE_OUTPUTS`, keyed by parameter name), computed by cnn_core's
            public functions, looked up on ``cnn_core.improving`` at each call (the hook
            through which tests inject wrong variants).
        jax_update: ``(inputs, last_gradients) -> {output: {key: jnp array}}``: the same
            steps in JAX (:mod:`.optimizers`), as a function of the last step's gradients
            (a dict keyed by parameter name), so that ``jax.jacfwd`` differentiates it.
        derivative: for one-step entries, ``inputs -> {output: {key: array}}``, the
            hand-derived derivative of each output entry with respect to the same entry
            of the gradient (every update is elementwise, so its Jacobian is diagonal and
            this is the diagonal, in the parameter's shape); None for several steps.
    """

    name: str
    optimizer: str
    targets: tuple
    sample: Callable
    analytic: Callable
    jax_update: Callable
    derivative: Callable = None

    def reference(self, inputs):
        """The expected outputs, from the JAX statement in float64."""
        last = _jnp_tree(inputs["gradients"][-1])
        out = self.jax_update(_as_float64(inputs), last)
        return {name: {k: np.asarray(a) for k, a in d.items()} for name, d in out.items()}


def _jnp_tree(tree):
    return {k: jnp.asarray(np.asarray(v, dtype=np.float64)) for k, v in tree.items()}


def _cast_tree(value, dtype):
    if isinstance(value, dict):
        return {k: _cast_tree(v, dtype) for k, v in value.items()}
    if isinstance(value, list):
        return [_cast_tree(v, dtype) for v in value]
    if isinstance(value, np.ndarray):
        return value.astype(dtype)
    return value


def _as_float64(inputs):
    return _cast_tree(inputs, np.float64)


def _course_keys(tree):
    """``{"W1": ...}`` -> ``{"dW1": ...}``: the course's keys of gradients and states."""
    return {f"d{k}": v for k, v in tree.items()}


def _parameter_keys(tree):
    """``{"dW1": ...}`` -> ``{"W1": ...}``, dropping keys that are not a parameter's."""
    return {k[1:]: v for k, v in tree.items() if k[:1] == "d" and k[1:2] in ("W", "b")}


def _update_sample(dims, optimizer, steps=1, state="drawn", t=1):
    """Parameters of a network ``dims``, ``steps`` gradients and the hyperparameters.

    The gradients' entries have magnitudes spread over 1e-4..1 (a log-uniform scale per
    entry, kept across the steps), so that Adam's ``epsilon`` and its square root are
    both exercised; the state, when drawn, has the magnitudes of the gradients (``s`` of
    their squares, so nonnegative).
    """
    def sample(rng):
        params = {}
        for l in range(1, len(dims)):
            params[f"W{l}"] = rng.standard_normal((dims[l], dims[l - 1])) / np.sqrt(dims[l - 1])
            params[f"b{l}"] = 0.1 * rng.standard_normal((dims[l], 1))
        scales = {k: 10.0 ** rng.uniform(-4, 0, v.shape) for k, v in params.items()}
        gradients = [{k: _away_from_zero(rng, v.shape, 0.2, 1.0) * scales[k]
                      for k, v in params.items()} for _ in range(steps)]
        hyper = {"learning_rate": float(rng.uniform(0.05, 0.5))}
        if optimizer == "momentum":
            hyper["beta"] = float(rng.uniform(0.5, 0.95))
        elif optimizer == "adam":
            hyper.update(beta1=float(rng.uniform(0.8, 0.95)),
                         beta2=float(rng.uniform(0.99, 0.9999)), epsilon=1e-8)
        drawn = None
        if optimizer != "gd" and state == "drawn":
            drawn = {"v": {k: rng.standard_normal(v.shape) * scales[k] for k, v in params.items()}}
            if optimizer == "adam":
                drawn["s"] = {k: (rng.standard_normal(v.shape) * scales[k]) ** 2
                              for k, v in params.items()}
        return {"parameters": params, "gradients": gradients, "state": drawn, "t": t,
                "hyper": hyper}
    return sample


def _initial_state(inputs, optimizer):
    """cnn_core's starting state, course keys: the drawn one or the initializer's zeros."""
    params = inputs["parameters"]
    if inputs["state"] is not None:
        return {name: _course_keys(tree) for name, tree in inputs["state"].items()}
    if optimizer == "momentum":
        return {"v": improving.initialize_velocity(params)}
    v, s = improving.initialize_adam(params)
    return {"v": v, "s": s}


def _gd_analytic(inputs, backend):
    params = dict(inputs["parameters"])
    with _backend.use_backend(backend):
        for gradients in inputs["gradients"]:
            params = improving.update_parameters_with_gd(params, _course_keys(gradients),
                                                         **inputs["hyper"])
    return {"parameters": params}


def _momentum_analytic(inputs, backend):
    params = dict(inputs["parameters"])
    v = _initial_state(inputs, "momentum")["v"]
    with _backend.use_backend(backend):
        for gradients in inputs["gradients"]:
            params, v = improving.update_parameters_with_momentum(
                params, _course_keys(gradients), v, **inputs["hyper"])
    return {"parameters": params, "v": _parameter_keys(v)}


def _adam_analytic(inputs, backend):
    params = dict(inputs["parameters"])
    state = _initial_state(inputs, "adam")
    v, s = state["v"], state["s"]
    with _backend.use_backend(backend):
        for k, gradients in enumerate(inputs["gradients"]):
            params, v, s, v_corrected, s_corrected = improving.update_parameters_with_adam(
                params, _course_keys(gradients), v, s, inputs["t"] + k, **inputs["hyper"])
    return {"parameters": params, "v": _parameter_keys(v), "s": _parameter_keys(s),
            "v_corrected": _parameter_keys(v_corrected),
            "s_corrected": _parameter_keys(s_corrected)}


def _reference_state(inputs, name):
    if inputs["state"] is not None:
        return _jnp_tree(inputs["state"][name])
    return {k: jnp.zeros(np.shape(v)) for k, v in inputs["parameters"].items()}


def _gd_jax(inputs, last):
    params = _jnp_tree(inputs["parameters"])
    for gradients in [*map(_jnp_tree, inputs["gradients"][:-1]), last]:
        params = optimizers.gd_update(params, gradients, inputs["hyper"]["learning_rate"])
    return {"parameters": params}


def _momentum_jax(inputs, last):
    sequence = [*map(_jnp_tree, inputs["gradients"][:-1]), last]
    params, v = optimizers.momentum_run(_jnp_tree(inputs["parameters"]), sequence,
                                        _reference_state(inputs, "v"), **inputs["hyper"])
    return {"parameters": params, "v": v}


def _adam_jax(inputs, last):
    sequence = [*map(_jnp_tree, inputs["gradients"][:-1]), last]
    out = optimizers.adam_run(_jnp_tree(inputs["parameters"]), sequence,
                              _reference_state(inputs, "v"), _reference_state(inputs, "s"),
                              inputs["t"], **inputs["hyper"])
    return dict(zip(("parameters", "v", "s", "v_corrected", "s_corrected"), out))


# The hand-derived diagonals of d(output)/d(gradient), elementwise, for one step.

def _gd_derivative(inputs):
    lr = inputs["hyper"]["learning_rate"]
    return {"parameters": {k: np.full(np.shape(p), -lr) for k, p in inputs["parameters"].items()}}


def _momentum_derivative(inputs):
    """``v' = beta v + (1 - beta) g`` and ``W' = W - lr v'``: ``dv'/dg = 1 - beta`` and
    ``dW'/dg = -lr (1 - beta)``, whatever the velocity before."""
    lr, beta = inputs["hyper"]["learning_rate"], inputs["hyper"]["beta"]
    shapes = {k: np.shape(p) for k, p in inputs["parameters"].items()}
    return {"parameters": {k: np.full(shape, -lr * (1 - beta)) for k, shape in shapes.items()},
            "v": {k: np.full(shape, 1 - beta) for k, shape in shapes.items()}}


def _adam_derivative(inputs):
    """With ``c1 = 1 - beta1**t``, ``c2 = 1 - beta2**t``, ``v' = beta1 v + (1 - beta1) g``,
    ``s' = beta2 s + (1 - beta2) g**2``, ``v_hat = v'/c1``, ``r = sqrt(s'/c2)`` and
    ``D = r + epsilon``, the step ``W' = W - lr v_hat / D`` has

    * ``dv'/dg = 1 - beta1``, ``ds'/dg = 2 (1 - beta2) g``;
    * ``dv_hat/dg = (1 - beta1) / c1``, ``ds_hat/dg = 2 (1 - beta2) g / c2``;
    * ``dr/dg = (ds_hat/dg) / (2 r) = (1 - beta2) g / (c2 r)``;
    * ``dW'/dg = -lr (dv_hat/dg D - v_hat dr/dg) / D**2``
      ``= -lr [(1 - beta1) / (c1 D) - v_hat (1 - beta2) g / (c2 r D**2)]``.
    """
    h = inputs["hyper"]
    lr, b1, b2, eps, t = h["learning_rate"], h["beta1"], h["beta2"], h["epsilon"], inputs["t"]
    c1, c2 = 1 - b1 ** t, 1 - b2 ** t
    out = {name: {} for name in UPDATE_OUTPUTS}
    for k, p in inputs["parameters"].items():
        g = np.asarray(inputs["gradients"][0][k], dtype=np.float64)
        if inputs["state"] is None:
            v = s = np.zeros_like(g)
        else:
            v, s = inputs["state"]["v"][k], inputs["state"]["s"][k]
        v_hat = (b1 * v + (1 - b1) * g) / c1
        r = np.sqrt((b2 * s + (1 - b2) * g * g) / c2)
        D = r + eps
        out["v"][k] = np.full(g.shape, 1 - b1)
        out["s"][k] = 2 * (1 - b2) * g
        out["v_corrected"][k] = np.full(g.shape, (1 - b1) / c1)
        out["s_corrected"][k] = 2 * (1 - b2) * g / c2
        out["parameters"][k] = -lr * ((1 - b1) / (c1 * D) - v_hat * (1 - b2) * g / (c2 * r * D * D))
    return out


_UPDATE_PARTS = {
    "gd": ((improving.update_parameters_with_gd,), _gd_analytic, _gd_jax, _gd_derivative),
    "momentum": ((improving.update_parameters_with_momentum, improving.initialize_velocity),
                 _momentum_analytic, _momentum_jax, _momentum_derivative),
    "adam": ((improving.update_parameters_with_adam, improving.initialize_adam),
             _adam_analytic, _adam_jax, _adam_derivative),
}


def _update_entry(name, optimizer, dims, steps=1, state="drawn", t=1):
    targets, analytic, jax_update, derivative = _UPDATE_PARTS[optimizer]
    return UpdateEntry(name=name, optimizer=optimizer, targets=targets,
                       sample=_update_sample(dims, optimizer, steps, state, t),
                       analytic=analytic, jax_update=jax_update,
                       derivative=derivative if steps == 1 else None)


UPDATES = [
    _update_entry("update_parameters_with_gd", "gd", [4, 3, 2]),
    _update_entry("update_parameters_with_momentum, drawn velocity", "momentum", [4, 3, 2]),
    _update_entry("update_parameters_with_momentum, 5 steps from initialize_velocity",
                  "momentum", [3, 4, 1], steps=5, state="zeros"),
    _update_entry("update_parameters_with_adam, t = 1 from initialize_adam", "adam", [4, 3, 2],
                  state="zeros"),
    _update_entry("update_parameters_with_adam, t = 7 from a drawn state", "adam", [4, 3, 2],
                  t=7),
    _update_entry("update_parameters_with_adam, 5 steps t = 1..5 from initialize_adam", "adam",
                  [3, 4, 1], steps=5, state="zeros"),
]


def update_inputs(entry, seed=0, dtype=np.float64):
    """``entry``'s sample inputs (an :class:`UpdateEntry`) from a seeded generator, every
    array cast to ``dtype`` (the hyperparameters stay Python floats)."""
    return _cast_tree(entry.sample(np.random.default_rng(seed)), dtype)
