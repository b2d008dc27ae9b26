import numpy as np


def sigmoid(x):
    """sigmoid of a number or of every entry of an array"""
    s = 1 / (1 + np.exp(-x))
    return s


def sigmoid_derivative(x):
    """slope of the sigmoid: s * (1 - s)"""
    s = sigmoid(x)
    ds = s * (1 - s)
    return ds


def softmax(x):
    """softmax of each row of x"""
    x_exp = np.exp(x)
    row_sums = np.sum(x_exp, axis=1, keepdims=True)
    return x_exp / row_sums


def normalizeRows(x):
    """each row divided by its length"""
    x_norm = np.linalg.norm(x, axis=1, keepdims=True)
    x = x / x_norm
    return x
