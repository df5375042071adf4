import numpy as np


def identity_block_test(target):
    X = np.ones((3, 4, 4, 3)).astype(np.float32)
    A = target(X, f=2, filters=[4, 4, 5], training=False)
    assert tuple(A.shape) == (3, 4, 4, 5)
