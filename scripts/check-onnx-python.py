#!/usr/bin/env python3
"""Cross-check an exported ONNX file with the Python `onnx` and `onnxruntime` packages.

1. onnx.checker.check_model(full_check=True) and strict shape inference;
2. a summary: IR version, opset, inputs/outputs, initializers, parameters in Keras accounting;
3. optionally (--input x.npy --expected y.npy) runs the model with Python onnxruntime (CPU, the
   same graph optimization level and thread count as the harness adapter) and compares the
   output with what the harness wrote (e.g. `resnet-conformance forward --adapter onnxruntime-cpu`).

Usage (a Python with onnx, onnxruntime and numpy; not the pinned Keras venv, see docs/onnxruntime.md):
  resnet-conformance export-onnx --model resnet50 --out r50.onnx
  resnet-conformance forward --model resnet50 --input x.npy --adapter onnxruntime-cpu --out y.npy
  python3 scripts/check-onnx-python.py r50.onnx --input x.npy --expected y.npy --optimization all --threads 2

Exit code 0 if valid (and, when compared, within --atol), 1 otherwise, 2 on usage errors.
"""
import argparse
import sys

import numpy as np
import onnx
import onnxruntime as ort

LEVELS = {
    "disabled": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
    "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
    "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
    "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
}
TRAINABLE = {"kernel", "bias", "gamma", "beta"}
NON_TRAINABLE = {"moving_mean", "moving_variance"}


def dims_of(value_info):
    return [d.dim_param if d.HasField("dim_param") else d.dim_value for d in value_info.type.tensor_type.shape.dim]


def keras_params(model):
    trainable = non_trainable = helpers = 0
    for t in model.graph.initializer:
        n = int(np.prod(t.dims)) if len(t.dims) else 1
        if t.name.startswith("const/"):
            helpers += 1
            continue
        weight = t.name.rsplit("/", 1)[-1]
        if weight in TRAINABLE:
            trainable += n
        elif weight in NON_TRAINABLE:
            non_trainable += n
        else:
            raise ValueError(f"initializer {t.name!r} does not map to a Keras weight")
    return trainable, non_trainable, helpers


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--input", help=".npy NHWC batch fed to the model")
    ap.add_argument("--expected", help=".npy output written by the harness for the same input")
    ap.add_argument("--optimization", choices=sorted(LEVELS), default="all")
    ap.add_argument("--threads", type=int, default=0, help="intra-op threads (0 = onnxruntime default)")
    ap.add_argument("--atol", type=float, default=1e-6, help="max |python - harness| accepted")
    a = ap.parse_args()
    if (a.input is None) != (a.expected is None):
        ap.error("--input and --expected go together")

    model = onnx.load(a.model)
    onnx.checker.check_model(model, full_check=True)
    onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    opsets = {o.domain or "ai.onnx": o.version for o in model.opset_import}
    trainable, non_trainable, helpers = keras_params(model)
    print(f"{a.model}: valid ONNX (checker full_check + strict shape inference), onnx {onnx.__version__}")
    print(f"  IR version {model.ir_version}, opsets {opsets}, producer {model.producer_name} {model.producer_version}")
    for i in model.graph.input:
        print(f"  input  {i.name} {dims_of(i)}")
    for o in model.graph.output:
        print(f"  output {o.name} {dims_of(o)}")
    print(f"  {len(model.graph.node)} nodes, {len(model.graph.initializer)} initializers ({helpers} helper constants); "
          f"parameters {trainable + non_trainable} (trainable {trainable}, non-trainable {non_trainable})")

    if a.input is None:
        return 0
    x = np.load(a.input)
    expected = np.load(a.expected)
    so = ort.SessionOptions()
    so.graph_optimization_level = LEVELS[a.optimization]
    so.intra_op_num_threads = a.threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    sess = ort.InferenceSession(a.model, so, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    y = sess.run(["output"], {name: x.astype(np.float32)})[0]
    if y.shape != expected.shape:
        print(f"  FAIL: python onnxruntime output shape {y.shape} != harness {expected.shape}")
        return 1
    diff = np.abs(y.astype(np.float64) - expected.astype(np.float64))
    identical = int(np.sum(y == expected))
    print(f"  python onnxruntime {ort.__version__} ({a.optimization}, threads {a.threads or 'default'}) on {a.input} {x.shape}: "
          f"max |python - harness| = {diff.max():.3e}, {identical}/{y.size} elements bitwise identical")
    if not diff.max() <= a.atol:
        print(f"  FAIL: difference above --atol {a.atol}")
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except onnx.checker.ValidationError as err:
        print(f"invalid ONNX: {err}")
        sys.exit(1)
