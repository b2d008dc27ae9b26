import numpy as np


def load_my_data(path):
    """reads my csv into X (features x examples) and Y"""
    data = np.loadtxt(path, delimiter=",")
    X = data[:, :-1].T
    Y = data[:, -1].reshape(1, -1)
    return X, Y


def plot_it(x):
    import matplotlib.pyplot as plt
    plt.plot(x)
    plt.show()
