"""The backward functions' gradients by ``jax.grad``, at the inputs a case hands in.

Each entry of :data:`GRADIENTS` takes a case's arguments and returns
``[(path, array)]``: where in the function's output a gradient sits (a tuple of keys
and indices) and its value by automatic differentiation of cnn_core's JAX statement of
the cost (``cnn_core.reference``). The course mixes two conventions, and so do these:
parameter gradients are of the mean cost; the gradients handed down to the previous
layer (``dA_prev``, ``dZ``, the notes' ``dA{l}``) are of the summed loss, that is m
times the mean cost's.

JAX is optional (the ``check`` and ``verify`` extras): :func:`available` says whether it
can be imported, and the checker reports the comparison as skipped when it cannot.
"""
from __future__ import annotations

import importlib

import numpy as np

__all__ = ["GRADIENTS", "available"]

_reference = None


def available():
    """The reference package (JAX with float64 on), or None when JAX is missing."""
    global _reference
    if _reference is None:
        try:
            importlib.import_module("jax")
        except ImportError:
            return None
        from cnn_core.verify import load_reference
        _reference = load_reference()
    return _reference


def _jnp():
    return importlib.import_module("jax.numpy"), importlib.import_module("jax")


def _grads(f, *args):
    """``jax.grad`` of ``f`` with respect to every argument, compiled as one function
    (eager JAX would compile each operation separately, for every new shape)."""
    _, jax = _jnp()
    values = jax.jit(jax.grad(f, argnums=tuple(range(len(args)))))(
        *[np.asarray(a, dtype=np.float64) for a in args])
    return [np.asarray(v) for v in values]


def _sigmoid_derivative(x):
    _, jax = _jnp()
    x = np.asarray(x, dtype=np.float64)
    (slope,) = _grads(lambda z: jax.nn.sigmoid(z).sum(), x)
    return [((), slope)]


def _activation_backward(name):
    def gradients(dA, Z):
        ops = available().ops
        (dZ,) = _grads(lambda z, d: (ops.ACTIVATIONS[name](z) * d).sum(), Z, dA)[:1]
        return [((), dZ)]
    return gradients


def _layer_scalar(activation):
    def scalar(A_prev, W, b, dA):
        ops = available().ops
        return (ops.ACTIVATIONS[activation](ops.linear(A_prev, W, b)) * dA).sum()
    return scalar


def _layer_gradients(dA, A_prev, W, b, activation):
    m = A_prev.shape[1]
    dA_prev, dW, db, _ = _grads(_layer_scalar(activation), A_prev, W, b, dA)
    return [((0,), dA_prev), ((1,), dW / m), ((2,), db / m)]


def _linear_backward(dZ, cache):
    A_prev, W, b = cache
    return _layer_gradients(dZ, A_prev, W, b, "identity")


def _linear_activation_backward(dA, cache, activation):
    (A_prev, W, b), _ = cache
    return _layer_gradients(dA, A_prev, W, b, activation)


def _propagate(w, b, X, Y):
    reference = available()
    b = np.asarray(b, dtype=np.float64)
    dw, db, _, _ = _grads(reference.logistic_cost, w, b, X, Y)
    cost = float(reference.logistic_cost(np.asarray(w), b, X, Y))
    return [((0, "dw"), dw), ((0, "db"), db), ((1,), np.asarray(cost))]


def _backward_propagation(parameters, cache, X, Y):
    reference = available()
    keys = ("W1", "b1", "W2", "b2")
    values = _grads(lambda *a: reference.shallow_cost(dict(zip(keys, a[:4])), a[4], a[5]),
                    *(parameters[k] for k in keys), X, Y)
    return [(("d" + k,), v) for k, v in zip(keys, values)]


def _L_model_backward(AL, Y, caches):
    """The notes' keys: ``dW{l}``, ``db{l}`` and ``dA{l}``, the gradient of A^[l-1].

    The gradients with respect to the layers' inputs come from zero offsets added to
    each input: the cost's gradient with respect to an offset is that with respect to
    the input it is added to. One compiled function gives them all.
    """
    _, jax = _jnp()
    L = len(caches)
    X = np.asarray(caches[0][0][0], dtype=np.float64)
    weights = [np.asarray(c[0][1], dtype=np.float64) for c in caches]
    biases = [np.asarray(c[0][2], dtype=np.float64) for c in caches]
    offsets = [np.zeros_like(np.asarray(c[0][0], dtype=np.float64)) for c in caches]
    m = X.shape[1]
    ops = available().ops

    def cost(weights, biases, offsets, X, Y):
        A = X
        for l in range(L):
            Z = weights[l] @ (A + offsets[l]) + biases[l]
            A = jax.nn.relu(Z) if l < L - 1 else Z
        return ops.cross_entropy_with_logits(A, Y)

    dW, db, dA, _, _ = jax.jit(jax.grad(cost, argnums=(0, 1, 2, 3, 4)))(
        weights, biases, offsets, X, np.asarray(Y, dtype=np.float64))
    out = []
    for l in range(1, L + 1):
        out += [((f"dW{l}",), np.asarray(dW[l - 1])), ((f"db{l}",), np.asarray(db[l - 1])),
                ((f"dA{l}",), np.asarray(dA[l - 1]) * m)]
    return out


GRADIENTS = {
    "sigmoid_derivative": _sigmoid_derivative,
    "relu_backward": _activation_backward("relu"),
    "sigmoid_backward": _activation_backward("sigmoid"),
    "linear_backward": _linear_backward,
    "linear_activation_backward": _linear_activation_backward,
    "propagate": _propagate,
    "backward_propagation": _backward_propagation,
    "L_model_backward": _L_model_backward,
}
