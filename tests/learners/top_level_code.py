import os
import numpy as np

# leave a mark if this file is ever run
open(os.environ["CNN_CORE_SENTINEL"], "w").write("ran")


def sigmoid(x):
    """1 / (1 + e^-x), works on arrays too"""
    return 1.0 / (1.0 + np.exp(-x))


answer = input("press enter")
print(sigmoid(np.array([1, 2, 3])))


def softmax(x):
    """row by row softmax"""
    e = np.exp(x)
    total = np.sum(e, axis=1, keepdims=True)
    return e / total


print(softmax(np.array([[9, 2, 5, 0, 0], [7, 5, 0, 0, 0]])))

# wait here until someone stops me
while True:
    pass
