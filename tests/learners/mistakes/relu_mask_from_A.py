# mistake: the relu mask is taken from A = max(0, Z), which is never negative, so nothing is cut
import numpy as np


def relu_backward(dA, cache):
    Z = cache
    A = np.maximum(0, Z)
    dZ = np.array(dA, copy=True)
    dZ[A < 0] = 0
    return dZ
