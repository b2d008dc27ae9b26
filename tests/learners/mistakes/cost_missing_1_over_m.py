# mistake: the cost is summed over the examples but not divided by m
import numpy as np


def compute_cost(A2, Y, parameters):
    logprobs = np.multiply(np.log(A2), Y) + np.multiply(np.log(1 - A2), 1 - Y)
    cost = -np.sum(logprobs)
    cost = np.squeeze(cost)
    return cost
