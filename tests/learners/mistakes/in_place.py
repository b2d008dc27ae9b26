# mistake: dZ = dA makes no copy, so zeroing dZ also changes the caller's dA
import numpy as np


def relu_backward(dA, cache):
    Z = cache
    dZ = dA
    dZ[Z <= 0] = 0
    return dZ
