"""A TensorFlow Lite (LiteRT) interpreter adapter for resnet-conformance, over the stdio protocol
(resnet_conformance_adapter.py), run by the interpreter of the pinned environment (.venv:
tensorflow-cpu 2.21, whose tf.lite.Interpreter it uses).

    python tflite_adapter.py [--resolver default|builtin|reference] [--cache DIR] [--name ID]

The model is the notebook's Keras model with the handed weights, converted in inference mode by
fixtures/generate/tflite_convert.py (BatchNormalization folded into the convolutions, ReLU fused;
see there), one flatbuffer per (input shape, capture set), cached by content in DIR (the same
cache and the same flatbuffers as the litertjs-* adapters). Inference only: run(training=True) is
refused (the harness marks those cases not-applicable and never asks).

--resolver (the interpreter's experimental_op_resolver_type):
  default    BUILTIN with the default delegate: XNNPACK runs every float op it supports
  builtin    BUILTIN_WITHOUT_DEFAULT_DELEGATES: TFLite's optimized builtin kernels, no XNNPACK
  reference  BUILTIN_REF: TFLite's reference kernels (plain loops)
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Dict, List, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(ROOT, "fixtures", "generate"))

# Building and converting the Keras model runs no convolution; the interpreter does not use oneDNN.
# Off so that importing TensorFlow's oneDNN paths cannot hit the Zen 5 SIGFPE (known-crashes.ts).
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402

from resnet_conformance_adapter import Adapter, Weight, serve  # noqa: E402

RESOLVERS = {
    "default": ("BUILTIN", "XNNPACK delegate (the interpreter's default) for every float op it supports"),
    "builtin": ("BUILTIN_WITHOUT_DEFAULT_DELEGATES", "TFLite builtin optimized kernels, no delegate"),
    "reference": ("BUILTIN_REF", "TFLite reference kernels, no delegate"),
}


def output_index(name: str) -> int:
    """Position of a converted output: the frozen function names them Identity, Identity_1, ..."""
    if name == "Identity":
        return 0
    if name.startswith("Identity_") and name[len("Identity_"):].isdigit():
        return int(name[len("Identity_"):])
    raise ValueError(f"unexpected output tensor name '{name}' in the converted model")


class TfliteAdapter(Adapter):
    def __init__(self, resolver: str, cache: str, name: str):
        import tensorflow as tf
        import tflite_convert

        self.tf = tf
        self.conv = tflite_convert
        self.name = name
        self.version = tf.__version__
        self.resolver = resolver
        self.cache = cache
        self.spec = None
        self.weights: Dict[Tuple[str, str], np.ndarray] = {}
        self.counts = None
        self.interpreters = {}
        self.last_info = None

    def probe(self) -> dict:
        if not hasattr(self.tf, "lite") or not hasattr(self.tf.lite, "Interpreter"):
            return {"available": False, "reason": f"tensorflow {self.tf.__version__} has no tf.lite.Interpreter",
                    "fix": "npm run setup:python (the pinned tensorflow-cpu 2.21)"}
        return {"available": True}

    def describe(self) -> dict:
        resolver, what = RESOLVERS[self.resolver]
        notes = [
            "the notebook's Keras model (fixtures/generate/notebook_model.py) with the handed weights, converted in "
            "inference mode by fixtures/generate/tflite_convert.py: BatchNormalization folded into the convolution "
            "kernels and biases, ReLU fused into CONV_2D/ADD",
            f"flatbuffers cached by content in {self.cache}",
            "parameter count: the handed Keras weights (the flatbuffer holds the folded constants instead)",
        ]
        if self.last_info:
            ops = self.last_info.get("operators", [])
            notes.append(f"last model: {len(ops)} operators ({', '.join(sorted(set(ops)))}), "
                         f"{self.last_info.get('bytes')} bytes, sha256 {str(self.last_info.get('sha256'))[:12]}")
        return {
            "runtime": "TensorFlow Lite interpreter (tf.lite.Interpreter)",
            "version": f"tensorflow {self.tf.__version__}",
            "device": "cpu",
            "precision": "float32 (BatchNormalization folded into the convolutions)",
            "settings": {"opResolver": resolver, "kernels": what, "numThreads": "default",
                         "converter": "TFLiteConverter, float32, no quantization"},
            "notes": notes,
        }

    def build(self, spec: dict, weights: Dict[str, List[Weight]]) -> None:
        self.interpreters = {}
        self.spec = spec
        self.weights = {}
        total = trainable = 0
        for layer, ws in weights.items():
            for w in ws:
                a = np.ascontiguousarray(w.array, dtype=np.float32)
                self.weights[(layer, w.name)] = a
                total += a.size
                trainable += a.size if w.trainable else 0
        self.counts = {"total": int(total), "trainable": int(trainable), "nonTrainable": int(total - trainable)}
        # Convert now (the batch-1 shape of the spec's input is not known yet: the first run's shape
        # decides); building the Keras model here checks the weights against it.
        self.conv.build_keras(spec["model"], spec["args"], self.weights)

    def _interpreter(self, shape: Tuple[int, ...], capture: Tuple[str, ...]):
        key = (shape, capture)
        if key not in self.interpreters:
            flat, info, _ = self.conv.cached_convert(self.spec["model"], self.spec["args"], list(shape),
                                                     list(capture), self.weights, self.cache)
            self.last_info = info
            resolver = getattr(self.tf.lite.experimental.OpResolverType, RESOLVERS[self.resolver][0])
            it = self.tf.lite.Interpreter(model_content=flat, experimental_op_resolver_type=resolver)
            it.allocate_tensors()
            self.interpreters = {key: it}  # one at a time: a ResNet-50 interpreter holds ~100 MB
        return self.interpreters[key]

    def run(self, x: np.ndarray, training: bool, capture: List[str]):
        if self.spec is None:
            raise ValueError("run before build")
        if training:
            raise ValueError("inference only: a .tflite model has BatchNormalization folded into constants "
                             "(no batch statistics); training=True cannot be run")
        x = np.ascontiguousarray(x, dtype=np.float32)
        it = self._interpreter(tuple(int(d) for d in x.shape), tuple(capture))
        it.set_tensor(it.get_input_details()[0]["index"], x)
        it.invoke()
        outs = {}
        for d in it.get_output_details():
            outs[output_index(d["name"])] = np.array(it.get_tensor(d["index"]), copy=True)
        if sorted(outs) != list(range(1 + len(capture))):
            raise ValueError(f"the converted model has outputs {sorted(outs)}, expected {1 + len(capture)}")
        return outs[0], {c: outs[i + 1] for i, c in enumerate(capture)}

    def param_count(self) -> dict:
        if self.counts is None:
            raise ValueError("paramCount before build")
        return dict(self.counts)

    def dispose(self) -> None:
        self.interpreters = {}
        self.spec = None
        self.weights = {}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--resolver", choices=sorted(RESOLVERS), default="default")
    p.add_argument("--cache", default=os.environ.get("RESNET_CONFORMANCE_LITERT_CACHE")
                   or os.path.join(ROOT, ".cache", "litert"))
    p.add_argument("--name", default="tflite")
    a = p.parse_args(argv)
    return serve(TfliteAdapter(a.resolver, a.cache, a.name))


if __name__ == "__main__":
    sys.exit(main())
