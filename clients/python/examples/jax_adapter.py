"""A JAX adapter for resnet-conformance, written only against the stdio protocol (through
resnet_conformance_adapter.py, numpy + jax, nothing from the harness).

    python jax_adapter.py [--x64] [--matmul-precision highest|default]

It interprets the ModelSpec JSON generically, layer by layer in Keras order, with Keras semantics:
NHWC activations and HWIO kernels (lax.conv_general_dilated with ('NHWC', 'HWIO', 'NHWC')), 'same'
padding by TensorFlow's rule (the extra row/column at the bottom/right), BatchNormalization with the
layer's epsilon, moving statistics when training=False and the batch's mean and biased variance over
N, H, W when training=True, pooling padding as Keras, softmax in Dense. float32 by default (JAX's
default, x64 disabled); --x64 computes in float64 (jax_enable_x64). Matmuls and convolutions use
lax.Precision.HIGHEST unless told otherwise (on a GPU, 'default' lets XLA use TF32).

One jitted function per (training, captures) pair of the built model. JAX uses the first device it
finds (a GPU when a CUDA jaxlib is installed, else the CPU); describe says which.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
from typing import Dict, List, Tuple

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402

from resnet_conformance_adapter import Adapter, Weight, add_play_arguments, serve_or_play  # noqa: E402

LOGITS_SUFFIX = ":logits"


def same_pads(size: int, k: int, s: int) -> Tuple[int, int]:
    """TensorFlow 'same' padding of one spatial dimension: (before, after), the extra one after."""
    out = math.ceil(size / s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


class JaxAdapter(Adapter):
    name = "jax"

    def __init__(self, x64: bool, matmul_precision: str):
        self.x64 = x64
        self.matmul_precision = matmul_precision
        self.spec = None
        self.params = None
        self.compiled: Dict[Tuple[bool, Tuple[str, ...]], object] = {}
        self.jax = None
        self.import_error = None
        try:
            import jax

            if x64:
                jax.config.update("jax_enable_x64", True)
            import jax.numpy as jnp
            from jax import lax

            self.jax, self.jnp, self.lax = jax, jnp, lax
            self.version = f"1 (jax {jax.__version__})"
        except Exception as e:  # noqa: BLE001 - reported by probe
            self.import_error = f"{type(e).__name__}: {e}"
            self.version = "unavailable"

    @property
    def dtype(self):
        return np.float64 if self.x64 else np.float32

    # ------------------------------------------------------------------ protocol methods

    def probe(self) -> dict:
        if self.jax is None:
            return {"available": False, "reason": f"cannot import jax: {self.import_error}",
                    "fix": "npm run setup:jax (creates .venv-jax with jax/jaxlib 0.10.2)"}
        return {"available": True}

    def describe(self) -> dict:
        jax = self.jax
        dev = jax.devices()[0]
        import jaxlib

        return {
            "runtime": "JAX (XLA)",
            "version": f"jax {jax.__version__}, jaxlib {jaxlib.__version__}",
            "device": f"{dev.platform}:{dev.id} ({getattr(dev, 'device_kind', dev.platform)})",
            "precision": "float64 (jax_enable_x64)" if self.x64 else f"float32, matmul/conv precision {self.matmul_precision}",
            "settings": {
                "x64": self.x64,
                "matmulPrecision": self.matmul_precision,
                "backend": jax.default_backend(),
                "devices": len(jax.devices()),
                "numpy": np.__version__,
                "XLA_FLAGS": os.environ.get("XLA_FLAGS", ""),
            },
            "notes": [
                "clients/python/examples/jax_adapter.py: the ModelSpec interpreted layer by layer with lax.conv_general_dilated (NHWC/HWIO), "
                "TF 'same' padding, BN with batch mean and biased variance in training mode",
                "one jax.jit per (training, captures) of the built model; the first call of each compiles",
                "BatchNormalization moving statistics are not updated by training runs (every run starts from the built weights)",
            ],
        }

    def build(self, spec: dict, weights: Dict[str, List[Weight]]) -> None:
        jnp = self.jnp
        params: Dict[str, Dict[str, object]] = {}
        trainable: Dict[str, Dict[str, bool]] = {}
        for layer in spec["layers"]:
            ws = weights.get(layer["name"], [])
            cls = layer["className"]
            expected = {"Conv2D": ["kernel", "bias"], "Dense": ["kernel", "bias"],
                        "BatchNormalization": ["gamma", "beta", "moving_mean", "moving_variance"]}.get(cls, [])
            got = [w.name for w in ws]
            if got != expected:
                raise ValueError(f"layer {layer['name']} ({cls}): weights {got}, expected {expected}")
            params[layer["name"]] = {w.name: jnp.asarray(w.array.astype(self.dtype)) for w in ws}
            trainable[layer["name"]] = {w.name: w.trainable for w in ws}
        unknown = set(weights) - {l["name"] for l in spec["layers"]}
        if unknown:
            raise ValueError(f"weights for layers not in the spec: {sorted(unknown)}")
        self.spec, self.params, self.trainable = spec, params, trainable
        self.compiled = {}

    def run(self, x: np.ndarray, training: bool, capture: List[str]):
        if self.spec is None:
            raise RuntimeError("build() must be called before run()")
        key = (bool(training), tuple(capture))
        fn = self.compiled.get(key)
        if fn is None:
            fn = self.jax.jit(self._forward_fn(bool(training), list(capture)))
            self.compiled[key] = fn
        out, inter = fn(self.params, self.jnp.asarray(x.astype(self.dtype)))
        out = np.asarray(out)
        return out, {k: np.asarray(v) for k, v in inter.items()}

    def param_count(self) -> dict:
        leaves = self.jax.tree_util.tree_leaves(self.params)
        total = int(sum(int(a.size) for a in leaves))
        non_trainable = int(sum(int(self.params[l][n].size) for l, ws in self.trainable.items() for n, t in ws.items() if not t))
        return {"total": total, "trainable": total - non_trainable, "nonTrainable": non_trainable}

    def dispose(self) -> None:
        self.spec = self.params = None
        self.compiled = {}

    # ------------------------------------------------------------------ the model

    def _forward_fn(self, training: bool, capture: List[str]):
        jnp, lax = self.jnp, self.lax
        spec = self.spec
        prec = lax.Precision.HIGHEST if self.matmul_precision == "highest" else lax.Precision.DEFAULT
        names = {l["name"] for l in spec["layers"]}
        for c in capture:
            base = c[: -len(LOGITS_SUFFIX)] if c.endswith(LOGITS_SUFFIX) else c
            if base not in names:
                raise ValueError(f"capture '{c}': no layer '{base}' in the model")

        def window_pads(layer, h, w):
            (kh, kw), (sh, sw) = layer.get("kernelSize") or layer["poolSize"], layer["strides"]
            if layer["padding"] == "valid":
                return [(0, 0), (0, 0)]
            return [same_pads(h, kh, sh), same_pads(w, kw, sw)]

        def forward(params, x):
            vals: Dict[str, object] = {}
            logits: Dict[str, object] = {}
            for layer in spec["layers"]:
                cls, name = layer["className"], layer["name"]
                ins = [vals[i] for i in layer["inbound"]]
                p = params.get(name, {})
                if cls == "InputLayer":
                    y = x
                elif cls == "ZeroPadding2D":
                    (t, b), (l, r) = layer["padding"]
                    y = jnp.pad(ins[0], ((0, 0), (t, b), (l, r), (0, 0)))
                elif cls == "Conv2D":
                    xi = ins[0]
                    y = lax.conv_general_dilated(
                        xi, p["kernel"], window_strides=tuple(layer["strides"]),
                        padding=window_pads(layer, xi.shape[1], xi.shape[2]),
                        dimension_numbers=("NHWC", "HWIO", "NHWC"), precision=prec,
                    ) + p["bias"]
                elif cls == "BatchNormalization":
                    xi = ins[0]
                    eps = layer["epsilon"]
                    if training:
                        mean = jnp.mean(xi, axis=(0, 1, 2))
                        var = jnp.mean(jnp.square(xi - mean), axis=(0, 1, 2))  # biased, as Keras
                    else:
                        mean, var = p["moving_mean"], p["moving_variance"]
                    inv = lax.rsqrt(var + eps) * p["gamma"]
                    y = (xi - mean) * inv + p["beta"]
                elif cls == "Activation":
                    if layer["activation"] != "relu":
                        raise ValueError(f"{name}: activation {layer['activation']} is not supported")
                    y = jnp.maximum(ins[0], 0)
                elif cls == "Add":
                    y = ins[0]
                    for o in ins[1:]:
                        y = y + o
                elif cls in ("MaxPooling2D", "AveragePooling2D"):
                    xi = ins[0]
                    (ph, pw), (sh, sw) = layer["poolSize"], layer["strides"]
                    pads = [(0, 0)] + window_pads(layer, xi.shape[1], xi.shape[2]) + [(0, 0)]
                    dims, strides = (1, ph, pw, 1), (1, sh, sw, 1)
                    if cls == "MaxPooling2D":
                        y = lax.reduce_window(xi, jnp.array(-jnp.inf, xi.dtype), lax.max, dims, strides, pads)
                    else:
                        s = lax.reduce_window(xi, jnp.array(0, xi.dtype), lax.add, dims, strides, pads)
                        # Keras averages over the window's elements inside the input (padding excluded).
                        ones = jnp.ones((1, xi.shape[1], xi.shape[2], 1), xi.dtype)
                        n = lax.reduce_window(ones, jnp.array(0, xi.dtype), lax.add, dims, strides, pads)
                        y = s / n
                elif cls == "Flatten":
                    y = jnp.reshape(ins[0], (ins[0].shape[0], -1))
                elif cls == "Dense":
                    z = jnp.matmul(ins[0], p["kernel"], precision=prec) + p["bias"]
                    logits[name] = z
                    if layer["activation"] == "softmax":
                        y = jax_softmax(z)
                    elif layer["activation"] == "linear":
                        y = z
                    else:
                        raise ValueError(f"{name}: activation {layer['activation']} is not supported")
                else:
                    raise ValueError(f"layer {name}: class {cls} is not supported by this adapter")
                vals[name] = y
            inter = {}
            for c in capture:
                inter[c] = logits[c[: -len(LOGITS_SUFFIX)]] if c.endswith(LOGITS_SUFFIX) else vals[c]
            return vals[spec["output"]], inter

        def jax_softmax(z):
            e = jnp.exp(z - jnp.max(z, axis=-1, keepdims=True))
            return e / jnp.sum(e, axis=-1, keepdims=True)

        return forward


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--x64", action="store_true", help="compute in float64 (jax_enable_x64)")
    ap.add_argument("--matmul-precision", choices=["highest", "default"], default="highest")
    ap.add_argument("--name", default=None, help="the hello name (default: jax, or jax-x64)")
    add_play_arguments(ap)
    a = ap.parse_args()
    adapter = JaxAdapter(a.x64, a.matmul_precision)
    adapter.name = a.name or ("jax-x64" if a.x64 else "jax")
    return serve_or_play(adapter, a)


if __name__ == "__main__":
    sys.exit(main())
