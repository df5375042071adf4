# Tests in the shape of the 2023 revision: tf.random.set_seed(2) before each call, expected
# arrays written inside public_tests.py (values: the revision's published ones).
import numpy as np
import tensorflow as tf
from tensorflow.keras.initializers import constant, glorot_uniform


def identity_block_test(target):
    np.random.seed(1)
    tf.random.set_seed(2)
    X1 = np.ones((1, 4, 4, 3)) * -1
    X2 = np.ones((1, 4, 4, 3)) * 1
    X3 = np.ones((1, 4, 4, 3)) * 3
    X = np.concatenate((X1, X2, X3), axis=0).astype(np.float32)

    A3 = target(X, f=2, filters=[4, 4, 3], initializer=lambda seed=0: constant(value=1), training=False)
    A3np = A3.numpy()
    resume = A3np[:, (0, -1), :, :].mean(axis=3)
    expected_false = [[[0., 0., 0., 0.], [0., 0., 0., 0.]],
                      [[192.6542, 192.6542, 192.6542, 96.8271], [96.8271, 96.8271, 96.8271, 48.91355]],
                      [[578.21246, 578.21246, 578.21246, 290.60623], [290.60623, 290.60623, 290.60623, 146.80312]]]
    assert np.allclose(resume, expected_false, atol=1e-5), "Wrong values with training=False"

    np.random.seed(1)
    tf.random.set_seed(2)
    A4 = target(X, f=3, filters=[3, 3, 3], initializer=lambda seed=0: constant(value=1), training=True)
    resume = A4.numpy()[:, (0, -1), :, :].mean(axis=3)
    assert np.allclose(resume, np.array([[[0., 0., 0., 0.], [0., 0., 0., 0.]],
                                         [[0.373974, 0.373974, 0.373974, 0.373974], [0.373974, 0.373974, 0.373974, 0.373974]],
                                         [[3.2379792, 4.139072, 4.139072, 3.2379792], [3.2379792, 4.139072, 4.139072, 3.2379792]]],
                                        dtype=np.float32), atol=1e-5), "Wrong values with training=True"


def convolutional_block_test(target):
    np.random.seed(1)
    tf.random.set_seed(2)
    X1 = np.ones((1, 4, 4, 3)) * -1
    X2 = np.ones((1, 4, 4, 3)) * 1
    X3 = np.ones((1, 4, 4, 3)) * 3
    X = np.concatenate((X1, X2, X3), axis=0).astype(np.float32)

    A = target(X, f=2, filters=[2, 4, 6], training=False)
    assert tuple(tf.shape(A).numpy()) == (3, 2, 2, 6), "Wrong shape."
    first_sample = np.array([[[0.0, 0.0, 0.6442667, 0.0, 0.13945118, 0.78498244],
                              [0.01695363, 0.0, 0.7052939, 0.0, 0.27986753, 0.67453355]],
                             [[0.0, 0.0, 0.6702033, 0.0, 0.18277727, 0.7506114],
                              [0.0, 0.0, 0.68768525, 0.0, 0.25753927, 0.6794529]]])
    assert np.allclose(A.numpy()[0], first_sample), "Wrong values when training=False."
