# Written for the tests of issue 24 (not a course revision): the identity block test of the newest revision
# (learning phase, BatchNorm epsilon 1e-6, TF32 in conv3) next to the 2021 convolutional block test (stateless,
# epsilon 1e-3, no TF32) and one planted check no configuration reproduces. No single configuration explains
# all of it: each check gets the configuration that reproduces it, the planted one is unexplained.
import numpy as np
import tensorflow as tf
from tensorflow.keras.initializers import constant
from outputs import convolutional_block_output1


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
    # not reproducible: resume[2] with its first value 0.5 higher than computed (planted for the tests)
    assert np.allclose(resume[2], [[3.7380054, 4.1391973, 4.1391973, 3.2380054],
                                   [3.2380054, 4.1391973, 4.1391973, 3.2380054]], atol=1e-5), "planted"


def convolutional_block_test(target):
    np.random.seed(1)
    X1 = np.ones((1, 4, 4, 3)) * -1
    X2 = np.ones((1, 4, 4, 3)) * 1
    X3 = np.ones((1, 4, 4, 3)) * 3
    X = np.concatenate((X1, X2, X3), axis=0).astype(np.float32)

    A = target(X, f=2, filters=[2, 4, 6], training=False)
    assert tuple(tf.shape(A).numpy()) == (3, 2, 2, 6), "Wrong shape."
    assert np.allclose(A.numpy(), convolutional_block_output1), "Wrong values when training=False."
