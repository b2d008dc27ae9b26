"""Helpers the tests share: small random networks, tolerances and finite differences."""
import numpy as np


def random_network(layer_dims, m, seed=0, dtype=np.float64):
    """Parameters, X and 0/1 labels for a small network, from a private generator."""
    rng = np.random.default_rng(seed)
    parameters = {}
    for l in range(1, len(layer_dims)):
        parameters[f"W{l}"] = (rng.standard_normal((layer_dims[l], layer_dims[l - 1]))
                               / np.sqrt(layer_dims[l - 1])).astype(dtype)
        parameters[f"b{l}"] = (0.1 * rng.standard_normal((layer_dims[l], 1))).astype(dtype)
    X = rng.standard_normal((layer_dims[0], m)).astype(dtype)
    Y = (rng.random((1, m)) > 0.5).astype(dtype)
    return parameters, X, Y


def assert_close(actual, expected, rtol=1e-12, atol=1e-14, what=""):
    """Relative agreement with a small absolute floor for entries near zero."""
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=what)


def central_difference(f, x, eps=1e-6):
    """The gradient of the scalar function ``f`` at array ``x`` by central differences.

    ``x`` is perturbed in place one entry at a time and restored.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    for index in np.ndindex(x.shape):
        saved = x[index]
        x[index] = saved + eps
        up = f()
        x[index] = saved - eps
        down = f()
        x[index] = saved
        grad[index] = (up - down) / (2 * eps)
    return grad


def biases_away_from_relu_kinks(parameters, X, masks=None, keep_prob=1.0, grid=201,
                                max_logit=None):
    """A copy of ``parameters`` whose hidden biases keep every ReLU pre-activation off 0.

    ``parameters`` is ``{"W1", "b1", ..., "WL", "bL"}`` (``W{l}`` ``(n_l, n_{l-1})``,
    ``b{l}`` ``(n_l, 1)``), ``X`` ``(n_x, m)``, ``masks`` ``{l: D_l}`` with ``D_l``
    ``(n_l, m)`` of 0/1 for the hidden layers (inverted dropout, as
    ``reference.costs.L_model_cost_general`` takes them) or None. Layer by layer, for each
    hidden unit j the bias is the point of a grid on [-1, 1] farthest from every value
    that would make one of the m pre-activations ``(W A)_j + b_j`` zero; with m values
    the distance is at least about ``1 / (m + 1)``. With ``max_logit``, the output
    layer's ``W{L}`` and ``b{L}`` are scaled down (if needed) so that every output logit
    is at most ``max_logit`` in absolute value, away from saturation, where the output's
    ``dZ = A - Y`` loses its relative precision; otherwise it is left as it is.

    Returns ``(parameters, margin)``: the new dict (new arrays) and the smallest
    ``|Z|`` over the hidden layers' pre-activations (inf with no hidden layer).
    """
    L = len(parameters) // 2
    out = {k: np.array(v, dtype=np.float64) for k, v in parameters.items()}
    points = np.linspace(-1.0, 1.0, grid)
    A = np.asarray(X, dtype=np.float64)
    margin = np.inf
    for l in range(1, L):
        P = out[f"W{l}"] @ A
        # distance[j, q] = min over examples of |P[j, i] + points[q]|
        distance = np.abs(P[:, :, None] + points[None, None, :]).min(axis=1)
        out[f"b{l}"] = points[distance.argmax(axis=1)][:, None]
        Z = P + out[f"b{l}"]
        margin = min(margin, float(np.abs(Z).min()))
        A = np.maximum(Z, 0.0)
        if masks is not None and l in masks:
            A = A * masks[l] / keep_prob
    if max_logit is not None:
        largest = float(np.abs(out[f"W{L}"] @ A + out[f"b{L}"]).max())
        if largest > max_logit:
            out[f"W{L}"] *= max_logit / largest
            out[f"b{L}"] *= max_logit / largest
    return out, margin
