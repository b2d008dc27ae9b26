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
