"""Single operations in JAX, as cnn_core defines them. Shapes: columns are examples."""
import importlib

import jax
import jax.numpy as jnp

from cnn_core.activations import ACTIVATIONS as _TABLE


def linear(A_prev, W, b):
    """``Z = W A_prev + b``: A_prev (n_prev, m), W (n, n_prev), b (n, 1)."""
    return W @ A_prev + b


def _jax_function(dotted):
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


#: Each layer activation of cnn_core's table (``cnn_core.activations.ACTIVATIONS``) as
#: the JAX function its ``jax`` entry names.
ACTIVATIONS = {name: _jax_function(entry.jax) for name, entry in _TABLE.items()}
relu, sigmoid, tanh, identity = (ACTIVATIONS[name]
                                 for name in ("relu", "sigmoid", "tanh", "identity"))


def cross_entropy_with_logits(Z, Y):
    """Mean cross-entropy against labels Y (n, m), as cnn_core's compute_cost, written
    from the logits Z: the sum over all entries of -(y log s + (1 - y) log(1 - s)),
    s = sigmoid(z), divided by m."""
    m = Y.shape[1]
    return -jnp.sum(Y * jax.nn.log_sigmoid(Z) + (1 - Y) * jax.nn.log_sigmoid(-Z)) / m
