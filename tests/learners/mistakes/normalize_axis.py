# mistake: the norm is taken over axis 0 (each column) instead of each row
import numpy as np


def normalizeRows(x):
    x_norm = np.linalg.norm(x, axis=0, keepdims=True)
    return x / x_norm
