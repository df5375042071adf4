"""Long-lived Keras worker for the `keras` adapter (src/adapters/keras/index.ts).

Protocol: one JSON object per line. Requests on stdin carry an `id` and an `op`; every response on
stdout carries the same `id` and `ok` (plus the result, or `error`). Tensors travel as .npy files
in a folder the TypeScript side owns. The first line the worker writes is {"ready": true, ...}
with its versions, once TensorFlow and Keras are imported.

ops:
  build     {model, args, layers: [[name, className]...], weights: [{layer, name, file}...]}
            builds the notebook model in a fresh Keras session (fixtures/generate/notebook_model.py),
            checks that its layers are the spec's, compares every handed weight bit for bit with
            Keras's own seeded initial value, then loads the handed weights.
  run       {input, training, capture, outDir} -> {output, intermediates: {name: file}}
            restores the built weights first (training=True updates Keras's moving statistics),
            so every run starts from the same state.
  paramCount, exit.
"""
import json
import os
import platform
import sys
import traceback

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
os.environ.setdefault('CUDA_VISIBLE_DEVICES', '')

PROTOCOL = sys.stdout
sys.stdout = sys.stderr  # anything a library prints must not corrupt the protocol stream

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.normpath(os.path.join(HERE, '..', '..', '..', 'fixtures', 'generate')))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402

import keras_capture  # noqa: E402
import notebook_model  # noqa: E402


def send(obj):
    PROTOCOL.write(json.dumps(obj) + '\n')
    PROTOCOL.flush()


class State:
    model = None
    initial = None
    param_count = None


def build(req):
    keras.backend.clear_session()
    model = notebook_model.build_from_spec(req['model'], req['args'])
    got = [[l.name, type(l).__name__] for l in model.layers]
    want = [list(x) for x in req['layers']]
    if sorted(map(tuple, got)) != sorted(map(tuple, want)):
        missing = [x for x in want if x not in got][:5]
        extra = [x for x in got if x not in want][:5]
        raise ValueError('the Keras model is not the spec: spec layers missing in Keras %s; Keras layers not in the spec %s'
                         % (missing, extra))
    handed = {(w['layer'], w['name']): w['file'] for w in req['weights']}
    used = set()
    bit_exact = 0
    total = 0
    mismatches = []
    values = []
    for layer in model.layers:
        for var in layer.weights:
            key = (layer.name, var.name)
            if key not in handed:
                raise ValueError("no weight handed for %s/%s" % key)
            used.add(key)
            v = np.load(handed[key], allow_pickle=False)
            own = var.numpy()
            if tuple(v.shape) != tuple(own.shape):
                raise ValueError('%s/%s: handed shape %s, Keras has %s' % (key[0], key[1], v.shape, own.shape))
            if v.dtype != np.float32:
                raise ValueError('%s/%s: handed dtype %s, expected float32' % (key[0], key[1], v.dtype))
            total += 1
            if v.tobytes() == own.astype(np.float32).tobytes():
                bit_exact += 1
            elif len(mismatches) < 10:
                diff = np.abs(v.astype(np.float64) - own.astype(np.float64))
                mismatches.append({'layer': key[0], 'name': key[1], 'differing': int(np.count_nonzero(v != own)),
                                   'maxAbs': float(diff.max())})
            values.append((var, v))
    extra = sorted(set(handed) - used)
    if extra:
        raise ValueError('weights handed for variables the Keras model does not have: %s' % extra[:5])
    for var, v in values:
        var.assign(v)
    State.model = model
    State.initial = keras_capture.snapshot_weights(model)
    trainable = int(sum(int(np.prod(w.shape)) for w in model.trainable_weights))
    non_trainable = int(sum(int(np.prod(w.shape)) for w in model.non_trainable_weights))
    State.param_count = {'total': int(model.count_params()), 'trainable': trainable, 'nonTrainable': non_trainable}
    return {'layers': len(got), 'weightTensors': total, 'initBitExact': bit_exact, 'initMismatches': mismatches,
            'paramCount': State.param_count}


def run(req):
    if State.model is None:
        raise ValueError('run before build')
    keras_capture.restore_weights(State.model, State.initial)
    x = np.load(req['input'], allow_pickle=False)
    if x.dtype != np.float32:
        x = x.astype(np.float32)
    out, captured = keras_capture.run(State.model, x, bool(req['training']), req.get('capture') or [])
    keras_capture.restore_weights(State.model, State.initial)
    out_dir = req['outDir']
    out_file = os.path.join(out_dir, 'output.npy')
    np.save(out_file, np.ascontiguousarray(out, dtype=np.float32))
    files = {}
    for i, (name, value) in enumerate(captured.items()):
        f = os.path.join(out_dir, 'capture-%d.npy' % i)
        np.save(f, np.ascontiguousarray(value, dtype=np.float32))
        files[name] = f
    return {'output': out_file, 'intermediates': files}


def param_count(_req):
    if State.param_count is None:
        raise ValueError('paramCount before build')
    return {'paramCount': State.param_count}


OPS = {'build': build, 'run': run, 'paramCount': param_count}


def main():
    onednn = os.environ.get('TF_ENABLE_ONEDNN_OPTS', '')
    send({'ready': True, 'tensorflow': tf.__version__, 'keras': keras.__version__, 'numpy': np.__version__,
          'python': platform.python_version(), 'backend': keras.backend.backend(),
          'oneDNN': 'default (on)' if onednn == '' else ('on' if onednn == '1' else 'off'), 'pid': os.getpid()})
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
        except ValueError as e:
            send({'id': None, 'ok': False, 'error': 'bad request JSON: %s' % e})
            continue
        rid = req.get('id')
        op = req.get('op')
        if op == 'exit':
            send({'id': rid, 'ok': True})
            return 0
        fn = OPS.get(op)
        if fn is None:
            send({'id': rid, 'ok': False, 'error': "unknown op '%s' (known: %s, exit)" % (op, ', '.join(OPS))})
            continue
        try:
            result = fn(req)
            result.update({'id': rid, 'ok': True})
            send(result)
        except Exception as e:  # reported to the TypeScript side, the worker stays up
            send({'id': rid, 'ok': False, 'error': '%s: %s' % (type(e).__name__, e),
                  'traceback': traceback.format_exc(limit=6)})
    return 0


if __name__ == '__main__':
    sys.exit(main())
