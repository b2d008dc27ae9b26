# mistake: the sigmoid's derivative is taken as s instead of s * (1 - s)
import numpy as np


def sigmoid_backward(dA, cache):
    Z = cache
    s = 1 / (1 + np.exp(-Z))
    dZ = dA * s
    return dZ
