"""The optimizers' updates in JAX: each step as a pure function of the gradient.

An independent statement of the three update rules of ``cnn_core.improving`` (the
follow-on course's gradient descent, momentum and bias-corrected Adam), for checking
them by value and for differentiating a step with respect to the gradient
(``jax.jacfwd``). Nothing here reads or changes its arguments: each function returns
new dicts.

Every dict is keyed by parameter name (``"W1"``, ``"b1"``, ..., ``"WL"``, ``"bL"``), the
same keys for the parameters, their gradients and the optimizer's state; the arrays are
``W{l}`` ``(n_l, n_{l-1})`` and ``b{l}`` ``(n_l, 1)``, and each gradient or state array
has its parameter's shape. (cnn_core's public functions key the gradients and the
states ``"dW1"``, ``"db1"``, ... as the course does; the registry renames them.)
Every operation is elementwise, so the update of one parameter entry depends on the
same entry of the gradient and of the state only.
"""
import jax
import jax.numpy as jnp


def _map(fn, *trees):
    return jax.tree_util.tree_map(fn, *trees)


def gd_update(parameters, gradients, learning_rate):
    """Gradient descent: ``W - learning_rate * dW`` for every parameter.

    Arguments:
        parameters, gradients: dicts of arrays keyed by parameter name, same shapes.
        learning_rate: a positive scalar.

    Returns:
        The new parameters, a dict of the parameters' keys and shapes.
    """
    return _map(lambda p, g: p - learning_rate * g, parameters, gradients)


def momentum_update(parameters, gradients, v, beta, learning_rate):
    """Gradient descent with momentum, one step.

    ``v = beta * v + (1 - beta) * dW``, then ``W = W - learning_rate * v`` (the new
    velocity), for every parameter.

    Arguments:
        parameters, gradients, v: dicts of arrays keyed by parameter name, same shapes
            (``v`` the velocity before the step).
        beta: the momentum, in [0, 1).
        learning_rate: a positive scalar.

    Returns:
        ``(parameters, v)``: the new parameters and the new velocity, dicts of the same
        keys and shapes.
    """
    new_v = _map(lambda v_, g: beta * v_ + (1 - beta) * g, v, gradients)
    new_parameters = _map(lambda p, v_: p - learning_rate * v_, parameters, new_v)
    return new_parameters, new_v


def adam_update(parameters, gradients, v, s, t, learning_rate, beta1, beta2, epsilon):
    """Adam, one step, bias-corrected; ``t`` is the number of this step, from 1.

    ``v = beta1 v + (1 - beta1) dW``, ``s = beta2 s + (1 - beta2) dW**2``,
    ``v_hat = v / (1 - beta1**t)``, ``s_hat = s / (1 - beta2**t)``, and
    ``W = W - learning_rate * v_hat / (sqrt(s_hat) + epsilon)``, elementwise.

    Arguments:
        parameters, gradients, v, s: dicts of arrays keyed by parameter name, same shapes
            (``v``, ``s`` the averages before the step).
        t: the step's number, an integer >= 1 (counted per mini-batch by the course).
        learning_rate: a positive scalar.
        beta1, beta2: the averages' coefficients, in [0, 1).
        epsilon: > 0.

    Returns:
        ``(parameters, v, s, v_hat, s_hat)``, dicts of the parameters' keys and shapes.
    """
    new_v = _map(lambda v_, g: beta1 * v_ + (1 - beta1) * g, v, gradients)
    new_s = _map(lambda s_, g: beta2 * s_ + (1 - beta2) * jnp.square(g), s, gradients)
    v_hat = _map(lambda v_: v_ / (1 - beta1 ** t), new_v)
    s_hat = _map(lambda s_: s_ / (1 - beta2 ** t), new_s)
    new_parameters = _map(lambda p, vh, sh: p - learning_rate * vh / (jnp.sqrt(sh) + epsilon),
                          parameters, v_hat, s_hat)
    return new_parameters, new_v, new_s, v_hat, s_hat


def adam_run(parameters, gradient_sequence, v, s, t0, learning_rate, beta1, beta2, epsilon):
    """Consecutive Adam steps numbered ``t0, t0 + 1, ...``, one per gradient dict.

    Arguments:
        gradient_sequence: a list of gradient dicts (the k-th is used at step
            ``t0 + k``); the rest as in :func:`adam_update`.

    Returns:
        The ``(parameters, v, s, v_hat, s_hat)`` after the last step.
    """
    v_hat = s_hat = None
    for k, gradients in enumerate(gradient_sequence):
        parameters, v, s, v_hat, s_hat = adam_update(parameters, gradients, v, s, t0 + k,
                                                     learning_rate, beta1, beta2, epsilon)
    return parameters, v, s, v_hat, s_hat


def momentum_run(parameters, gradient_sequence, v, beta, learning_rate):
    """Consecutive momentum steps, one per gradient dict of ``gradient_sequence``.

    Returns:
        The ``(parameters, v)`` after the last step.
    """
    for gradients in gradient_sequence:
        parameters, v = momentum_update(parameters, gradients, v, beta, learning_rate)
    return parameters, v
