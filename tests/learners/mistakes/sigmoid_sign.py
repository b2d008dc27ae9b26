# mistake: the exponent has the wrong sign, exp(x) instead of exp(-x)
import numpy as np


def sigmoid(x):
    s = 1 / (1 + np.exp(x))
    return s
