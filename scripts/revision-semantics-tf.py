"""What TensorFlow 2.21 / Keras 3.15 (the .venv) still does of the behaviours older notebook
revisions relied on; prints one JSON object for scripts/verify-revision-semantics.ts to compare
with src/init/stateful-philox.ts and the reference adapter. Run: .venv/bin/python scripts/revision-semantics-tf.py

1. stateful seeded RNG: tf.random.set_seed(G) then tf.random.uniform(shape, minval, maxval, seed=S)
   called repeatedly (the eager kernel cache keeps one generator per (G, S)): float32 bit patterns.
2. BatchNormalization epsilon: Keras 3 BatchNormalization(epsilon=e) on fixed inputs, both modes.
3. set_learning_phase / Keras 2 legacy initializers: probed, reported as present or absent.
"""
import json, os, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import tensorflow as tf
import keras

out = {"tensorflow": tf.__version__, "keras": keras.__version__, "numpy": np.__version__}

# 1. the conv-block kernels of the notebook's convolutional_block_test, in creation order, then more
shapes = [[1, 1, 3, 2], [2, 2, 2, 4], [1, 1, 4, 6], [1, 1, 3, 6], [7], [3, 5]]
def glorot_limit(shape):
    recept = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    fan_in = shape[-2] * recept if len(shape) >= 2 else shape[0]
    fan_out = shape[-1] * recept if len(shape) >= 2 else shape[0]
    return float(np.sqrt(3.0 / max(1.0, (fan_in + fan_out) / 2.0)))
streams = []
for g, s in [(2, 0), (2, 1), (0, 0), (5, 7)]:
    tf.random.set_seed(g)
    calls = []
    for shp in shapes:
        lim = glorot_limit(shp)
        v = tf.random.uniform(shp, minval=-lim, maxval=lim, dtype=tf.float32, seed=s).numpy()
        calls.append({"shape": shp, "minval": -lim, "maxval": lim, "bits": v.reshape(-1).view(np.uint32).tolist()})
    streams.append({"globalSeed": g, "opSeed": s, "calls": calls})
# set_seed again resets the stream
tf.random.set_seed(2)
again = tf.random.uniform([1, 1, 3, 2], minval=-1.0, maxval=1.0, seed=0).numpy().reshape(-1).view(np.uint32).tolist()
out["stateful"] = {"streams": streams, "resetAfterSetSeed": {"shape": [1, 1, 3, 2], "minval": -1.0, "maxval": 1.0, "bits": again}}

# 2. BatchNormalization epsilon (inputs: a fixed NHWC tensor)
x = (np.arange(3 * 2 * 2 * 3, dtype=np.float32).reshape(3, 2, 2, 3) - 10.0) / 3.0
bn = []
for eps in [1e-3, 1e-5, 1e-6]:
    for training in [False, True]:
        layer = keras.layers.BatchNormalization(axis=3, epsilon=eps)
        y = layer(x, training=training).numpy()
        bn.append({"epsilon": eps, "training": training, "output": y.astype(np.float64).reshape(-1).tolist()})
out["batchnorm"] = {"input": x.astype(np.float64).reshape(-1).tolist(), "shape": list(x.shape), "cases": bn}

# 3. what no longer exists
probes = {}
try:
    tf.keras.backend.set_learning_phase(0)
    probes["tf.keras.backend.set_learning_phase"] = "present"
except Exception as e:  # Keras 3: removed
    probes["tf.keras.backend.set_learning_phase"] = f"absent ({type(e).__name__}: {str(e)[:120]})"
probes["keras.backend.set_learning_phase"] = "present" if hasattr(keras.backend, "set_learning_phase") else "absent"
try:
    init = keras.initializers.GlorotUniform(seed=0)
    a = init([2, 2]).numpy(); b = init([2, 2]).numpy()
    probes["keras3 GlorotUniform(seed=0) twice"] = "same values (stateless)" if np.array_equal(a, b) else "different values (stateful)"
except Exception as e:
    probes["keras3 GlorotUniform(seed=0) twice"] = f"error {e}"
out["probes"] = probes
json.dump(out, sys.stdout)
