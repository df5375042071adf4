# Tests in the shape of the newest ("v3.0") revision: the learning phase is set globally with
# tf.keras.backend.set_learning_phase instead of a training= argument; rows of the resume are
# checked; the convolutional block is also checked for its shape with s=4.
import numpy as np
import tensorflow as tf
from tensorflow.keras.initializers import constant


def identity_block_test(target):
    np.random.seed(1)
    tf.random.set_seed(2)
    X1 = np.ones((1, 4, 4, 3)) * -1
    X2 = np.ones((1, 4, 4, 3)) * 1
    X3 = np.ones((1, 4, 4, 3)) * 3
    X = np.concatenate((X1, X2, X3), axis=0).astype(np.float32)

    tf.keras.backend.set_learning_phase(False)
    A3 = target(X, f=2, filters=[4, 4, 3], initializer=lambda seed=0: constant(value=1))
    resume = A3.numpy()[:, (0, -1), :, :].mean(axis=3)
    assert np.allclose(resume[1], [[192.99992, 192.99992, 192.99992, 96.99996],
                                   [96.99996, 96.99996, 96.99996, 48.99998]], atol=1e-5), "Wrong values with learning phase 0"

    np.random.seed(1)
    tf.random.set_seed(2)
    tf.keras.backend.set_learning_phase(True)
    A4 = target(X, f=3, filters=[3, 3, 3], initializer=lambda seed=0: constant(value=1))
    resume = A4.numpy()[:, (0, -1), :, :].mean(axis=3)
    assert np.allclose(resume[1], [[0.37390518, 0.37390518, 0.37390518, 0.37390518],
                                   [0.37390518, 0.37390518, 0.37390518, 0.37390518]], atol=1e-5), "Wrong values with learning phase 1"
    assert np.allclose(resume[2], [[3.2380054, 4.1391973, 4.1391973, 3.2380054],
                                   [3.2380054, 4.1391973, 4.1391973, 3.2380054]], atol=1e-5), "Wrong values with learning phase 1"


def convolutional_block_test(target):
    np.random.seed(1)
    tf.random.set_seed(2)
    X1 = np.ones((1, 4, 4, 3)) * -1
    X2 = np.ones((1, 4, 4, 3)) * 1
    X3 = np.ones((1, 4, 4, 3)) * 3
    X = np.concatenate((X1, X2, X3), axis=0).astype(np.float32)
    tf.keras.backend.set_learning_phase(False)
    C = target(X, f=2, filters=[2, 4, 6], s=4)
    assert tuple(C.shape) == (3, 1, 1, 6), "Wrong shape with s=4."
