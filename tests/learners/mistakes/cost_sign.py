# mistake: the cost lacks its leading minus
import numpy as np


def compute_cost(AL, Y):
    m = Y.shape[1]
    cost = 1 / m * np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL))
    cost = np.squeeze(cost)
    return cost
