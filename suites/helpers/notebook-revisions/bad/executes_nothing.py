# Would write a marker file if anything here were executed; import-notebook must only parse it.
import numpy as np
open(MARKER_PATH, "w").write("module code ran")


def identity_block_test(target):
    open(MARKER_PATH, "w").write("test code ran")
    X = np.ones((2, 4, 4, 3)).astype(np.float32)
    A = target(X, f=2, filters=[4, 4, 3], training=False)
    assert tuple(A.shape) == (2, 4, 4, 3)
