"""Single operations in JAX, as cnn_core defines them. Shapes: columns are examples."""
import jax
import jax.numpy as jnp


def linear(A_prev, W, b):
    """``Z = W A_prev + b``: A_prev (n_prev, m), W (n, n_prev), b (n, 1)."""
    return W @ A_prev + b


def relu(Z):
    """max(Z, 0) with derivative 0 at exactly 0, as cnn_core's relu_backward."""
    return jax.nn.relu(Z)


def sigmoid(Z):
    return jax.nn.sigmoid(Z)


def tanh(Z):
    return jnp.tanh(Z)


def identity(Z):
    return Z


ACTIVATIONS = {"relu": relu, "sigmoid": sigmoid, "tanh": tanh, "identity": identity}


def cross_entropy_with_logits(Z, Y):
    """Mean cross-entropy against labels Y (n, m), as cnn_core's compute_cost, written
    from the logits Z: the sum over all entries of -(y log s + (1 - y) log(1 - s)),
    s = sigmoid(z), divided by m."""
    m = Y.shape[1]
    return -jnp.sum(Y * jax.nn.log_sigmoid(Z) + (1 - Y) * jax.nn.log_sigmoid(-Z)) / m
