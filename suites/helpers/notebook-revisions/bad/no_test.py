import numpy as np


def helper(x):
    return np.ones((3, 4, 4, 3)) * x


VALUES = [1.0, 2.0, 3.0]
