"""The models' costs in JAX. Shapes follow cnn_core: ``X`` is ``(n_x, m)``, ``Y`` ``(1, m)``."""
import jax
import jax.numpy as jnp

from .ops import cross_entropy_with_logits as _cross_entropy


def logistic_cost(w, b, X, Y):
    """Logistic regression: ``J(w, b)`` with ``w`` ``(n_x, 1)`` and scalar ``b``."""
    return _cross_entropy(w.T @ X + b, Y)


def shallow_cost(parameters, X, Y):
    """The tanh network: ``LINEAR -> TANH -> LINEAR -> SIGMOID``, cost of ``{"W1", ..., "b2"}``."""
    A1 = jnp.tanh(parameters["W1"] @ X + parameters["b1"])
    return _cross_entropy(parameters["W2"] @ A1 + parameters["b2"], Y)


def L_model_cost(parameters, X, Y):
    """The L-layer network: ``[LINEAR -> RELU] * (L-1) -> LINEAR -> SIGMOID``.

    ReLU is ``jax.nn.relu``, whose derivative at exactly 0 is 0 as in cnn_core (the
    gradient of ``jnp.maximum(z, 0)`` there would be 0.5).
    """
    L = len(parameters) // 2
    A = X
    for l in range(1, L):
        A = jax.nn.relu(parameters[f"W{l}"] @ A + parameters[f"b{l}"])
    return _cross_entropy(parameters[f"W{L}"] @ A + parameters[f"b{L}"], Y)
