# Tests in the shape of the 2021 revision: blocks take training=, stateless initializers.
import numpy as np
import tensorflow as tf
from tensorflow.keras.initializers import constant, glorot_uniform
from outputs import convolutional_block_output1, convolutional_block_output2


def identity_block_test(target):
    np.random.seed(1)
    X1 = np.ones((1, 4, 4, 3)) * -1
    X2 = np.ones((1, 4, 4, 3)) * 1
    X3 = np.ones((1, 4, 4, 3)) * 3
    X = np.concatenate((X1, X2, X3), axis=0).astype(np.float32)

    A3 = target(X, f=2, filters=[4, 4, 3], initializer=lambda seed=0: constant(value=1), training=False)
    A3np = A3.numpy()
    assert tuple(A3np.shape) == (3, 4, 4, 3), "Wrong shape"
    resume = A3np[:, (0, -1), :, :].mean(axis=3)
    assert np.allclose(resume, np.array([[[0., 0., 0., 0.], [0., 0., 0., 0.]],
                                         [[192.71236, 192.71236, 192.71236, 96.85619],
                                          [96.85619, 96.85619, 96.85619, 48.9281]],
                                         [[578.1371, 578.1371, 578.1371, 290.56854],
                                          [290.56854, 290.56854, 290.56854, 146.78427]]]), atol=1e-5), "training=False"

    np.random.seed(1)
    A4 = target(X, f=3, filters=[3, 3, 3], initializer=lambda seed=0: constant(value=1), training=True)
    resume = A4.numpy()[:, (0, -1), :, :].mean(axis=3)
    assert np.allclose(resume, np.array([[[0., 0., 0., 0.], [0., 0., 0., 0.]],
                                         [[0.37394285, 0.37394285, 0.37394285, 0.37394285],
                                          [0.37394285, 0.37394285, 0.37394285, 0.37394285]],
                                         [[3.2379014, 4.1394243, 4.1394243, 3.2379014],
                                          [3.2379014, 4.1394243, 4.1394243, 3.2379014]]]), atol=1e-5), "training=True"


def convolutional_block_test(target):
    np.random.seed(1)
    X1 = np.ones((1, 4, 4, 3)) * -1
    X2 = np.ones((1, 4, 4, 3)) * 1
    X3 = np.ones((1, 4, 4, 3)) * 3
    X = np.concatenate((X1, X2, X3), axis=0).astype(np.float32)

    A = target(X, f=2, filters=[2, 4, 6], training=False)
    assert tuple(tf.shape(A).numpy()) == (3, 2, 2, 6), "Wrong shape."
    assert np.allclose(A.numpy(), convolutional_block_output1), "Wrong values when training=False."
    print(A[0])

    B = target(X, f=2, filters=[2, 4, 6], training=True)
    assert np.allclose(B.numpy(), convolutional_block_output2), "Wrong values when training=True."
