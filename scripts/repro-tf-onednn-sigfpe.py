#!/usr/bin/env python3
"""One-convolution reproduction of TensorFlow 2.21's oneDNN SIGFPE (docs/cpu-dependent.md).

Uses TensorFlow alone (no harness code): tf.nn.conv2d of x[1,1,1,256] (all 1) with w[1,1,256,1024]
(all 0.01), stride 1, 'VALID' -- the smallest convolution found that dies on AMD EPYC CPU family 26
(Zen 5) with oneDNN on (TensorFlow's default on x86). The convolution runs in a child process so that
its death can be reported:

    .venv/bin/python scripts/repro-tf-onednn-sigfpe.py          # exit 1 while the bug exists
    TF_ENABLE_ONEDNN_OPTS=0 .venv/bin/python scripts/repro-tf-onednn-sigfpe.py   # the workaround: exit 0

Exit 0: the convolution ran and every output equals 2.56 (256 x 0.01) to float32 rounding;
1: the child died with a signal (the bug) or computed a wrong value; 2: TensorFlow could not be loaded.
"""
import os
import signal
import subprocess
import sys

SHAPE_X = (1, 1, 1, 256)
SHAPE_W = (1, 1, 256, 1024)


def child() -> int:
    import numpy as np
    import tensorflow as tf

    x = tf.constant(np.ones(SHAPE_X, np.float32))
    w = tf.constant(np.full(SHAPE_W, 0.01, np.float32))
    y = tf.nn.conv2d(x, w, strides=1, padding='VALID').numpy()
    expected = np.float32(256 * 0.01)
    worst = float(np.max(np.abs(y - expected)))
    print(f'RESULT shape={list(y.shape)} worst_abs_error={worst:.3g}', flush=True)
    return 0 if y.shape == (1, 1, 1, 1024) and worst <= 1e-4 else 1


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == '--child':
        return child()
    env = dict(os.environ)
    env.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
    onednn = env.get('TF_ENABLE_ONEDNN_OPTS', '(unset: on)')
    print(f'tf.nn.conv2d x{list(SHAPE_X)} * w{list(SHAPE_W)} stride 1 VALID, TF_ENABLE_ONEDNN_OPTS={onednn}')
    r = subprocess.run([sys.executable, __file__, '--child'], env=env, capture_output=True, text=True)
    out = (r.stdout + r.stderr).strip().splitlines()
    if r.returncode < 0:
        name = signal.Signals(-r.returncode).name
        print(f'CRASH: the process running the convolution died with {name}')
        print('workaround: TF_ENABLE_ONEDNN_OPTS=0 (TensorFlow without its oneDNN kernels)')
        return 1
    result = [line for line in out if line.startswith('RESULT')]
    if not result:
        print('\n'.join(out[-5:]))
        print(f'could not run TensorFlow (exit {r.returncode})')
        return 2
    print(result[0])
    if r.returncode != 0:
        print('WRONG: the convolution ran but computed a wrong value')
        return 1
    print('OK: the convolution ran and is correct')
    return 0


if __name__ == '__main__':
    sys.exit(main())
