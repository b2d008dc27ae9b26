# mistake: each W is drawn as (n_prev, n) and transposed, so the numbers are in the wrong places
import numpy as np


def initialize_parameters_deep(layer_dims):
    parameters = {}
    for l in range(1, len(layer_dims)):
        W = np.random.randn(layer_dims[l - 1], layer_dims[l]).T / np.sqrt(layer_dims[l - 1])
        parameters["W" + str(l)] = W
        parameters["b" + str(l)] = np.zeros((layer_dims[l], 1))
    return parameters
