# mistake: softmax sums over axis 0 (the columns) instead of each row
import numpy as np


def softmax(x):
    x_exp = np.exp(x)
    x_sum = np.sum(x_exp, axis=0, keepdims=True)
    s = x_exp / x_sum
    return s
