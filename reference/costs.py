"""The models' costs in JAX. Shapes follow cnn_core: ``X`` is ``(n_x, m)``, ``Y`` ``(1, m)``
(``(K, m)`` one-hot for a softmax output)."""
import jax
import jax.numpy as jnp

from .ops import ACTIVATIONS as _ACTIVATIONS
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


def softmax_cross_entropy_with_logits(Z, Y):
    """Mean categorical cross-entropy from the logits ``Z`` ``(K, m)``, classes on axis 0.

    ``Y`` is one-hot ``(K, m)`` (any nonnegative columns summing to 1 give the same
    formula), or integer class indices ``(1, m)`` when ``K > 1``, turned into one-hot
    columns here. The cost is ``-sum(Y * log_softmax(Z, axis=0)) / m``.
    """
    K, m = Z.shape
    if Y.shape[0] == 1 and K > 1:
        Y = jax.nn.one_hot(jnp.asarray(Y)[0].astype(jnp.int32), K, dtype=Z.dtype).T
    return -jnp.sum(Y * jax.nn.log_softmax(Z, axis=0)) / m


def L_model_cost_general(parameters, X, Y, output="sigmoid", hidden="relu", lambd=0.0,
                         masks=None, keep_prob=1.0):
    """The L-layer network of the second course: ``[LINEAR -> hidden] * (L-1) -> LINEAR -> output``.

    Arguments:
        parameters: ``{"W1", "b1", ..., "WL", "bL"}`` as cnn_core builds them.
        X: inputs ``(n_x, m)``.
        Y: labels ``(n_L, m)``; for ``output="softmax"``, one-hot ``(K, m)`` or integer
            class indices ``(1, m)``.
        output: ``"sigmoid"`` (binary cross-entropy from the logits, summed over the
            output rows) or ``"softmax"`` (categorical cross-entropy from the logits,
            ``jax.nn.log_softmax`` over axis 0, the class axis); both divided by ``m``.
        hidden: the hidden layers' activation, a name of cnn_core's table
            (``relu``, ``tanh``, ``sigmoid``, ``identity``).
        lambd: the L2 strength; adds ``lambd / (2 m) * sum_l ||W_l||_F^2`` over all L
            weight matrices (biases are not penalised).
        masks: inverted dropout, ``{l: D_l}`` with ``D_l`` ``(n_l, m)`` of 0s and 1s for
            hidden layers ``l`` in 1..L-1 (layers not listed are kept whole); each hidden
            activation becomes ``A_l * D_l / keep_prob`` before the next layer reads it.
            The masks are inputs, not drawn, so the cost is a deterministic function of
            the parameters and ``jax.grad`` is the gradient of the forward pass that
            used those masks.
        keep_prob: the keep probability the masks were drawn with.

    Returns:
        The scalar cost (cross-entropy plus the L2 term).

    Raises:
        ValueError: an unknown ``output`` or ``hidden``, ``keep_prob`` outside (0, 1],
            ``keep_prob < 1`` without masks, or a mask for a layer that is not hidden.
    """
    if output not in ("sigmoid", "softmax"):
        raise ValueError(f"output must be 'sigmoid' or 'softmax', not {output!r}")
    if hidden not in _ACTIVATIONS:
        raise ValueError(f"hidden must be one of {sorted(_ACTIVATIONS)}, not {hidden!r}")
    if not 0.0 < keep_prob <= 1.0:
        raise ValueError(f"keep_prob must be in (0, 1], not {keep_prob!r}")
    L = len(parameters) // 2
    masks = {} if masks is None else {int(l): D for l, D in masks.items()}
    if keep_prob < 1.0 and not masks:
        raise ValueError("keep_prob < 1 needs the dropout masks: the cost of a dropout "
                         "forward pass is a function of the masks it drew")
    if any(not 1 <= l < L for l in masks):
        raise ValueError(f"masks are for the hidden layers 1..{L - 1}; got layers {sorted(masks)}")
    g = _ACTIVATIONS[hidden]
    m = X.shape[1]
    A = X
    for l in range(1, L):
        A = g(parameters[f"W{l}"] @ A + parameters[f"b{l}"])
        if l in masks:
            A = A * masks[l] / keep_prob
    Z = parameters[f"W{L}"] @ A + parameters[f"b{L}"]
    if output == "sigmoid":
        cost = _cross_entropy(Z, Y)
    else:
        cost = softmax_cross_entropy_with_logits(Z, Y)
    l2 = sum(jnp.sum(jnp.square(parameters[f"W{l}"])) for l in range(1, L + 1))
    return cost + lambd / (2 * m) * l2
