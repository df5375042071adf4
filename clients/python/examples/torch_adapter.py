"""A PyTorch adapter for resnet-conformance, written only against the stdio protocol (through
resnet_conformance_adapter.py, numpy + torch, nothing from the harness).

    python torch_adapter.py [--mkldnn on|off] [--memory-format contiguous|channels_last]
                            [--compile] [--device auto|cpu|cuda] [--tf32]

It builds a torch.nn.Module from the ModelSpec JSON, layer by layer in Keras order, and loads the
Keras weights handed over by the protocol. Keras semantics, made explicit where PyTorch differs:
- Layout: the protocol's tensors are NHWC, torch convolutions are NCHW. The input is permuted
  NHWC -> NCHW once on entry; every returned tensor (output, captures) is permuted back; Flatten
  permutes to NHWC first so that the Dense kernel sees Keras's feature order. Kernels: HWIO -> OIHW
  (Conv2D), in x out -> out x in (Dense).
- 'same' padding by TensorFlow's rule (the extra row/column at the bottom/right) as an explicit
  F.pad before a conv or pool with padding 0; never nn.Conv2d(padding='same'): torch refuses it
  for strided convolutions (the convolutional block's stride 2), and at stride 1 it would leave
  the split (extra at the end, as TensorFlow; checked with torch 2.13) to torch's internals.
- BatchNormalization with the layer's epsilon. training=False: the moving statistics.
  training=True: F.batch_norm without running buffers, i.e. the batch mean and the biased
  variance over N, H, W; the moving statistics are never updated (every run starts from the built
  weights, as the harness expects).
- Pooling: MaxPooling2D pads with -inf; AveragePooling2D with 'same' divides by the number of
  elements inside the input (Keras excludes the padding).
- Dense with softmax; `<dense>:logits` captures the pre-softmax value.

float32 throughout. Options (each reported in describe's settings):
- --mkldnn off: torch.backends.mkldnn.enabled = False (CPU convolutions without oneDNN).
- --memory-format channels_last: weights and the input in torch.channels_last (NHWC strides).
- --compile: torch.compile(fullgraph=True) of one forward per (training, captures); the first
  call of each compiles (Inductor; needs a C++ compiler on the CPU).
- --device: auto = CUDA when torch sees a GPU, else the CPU.
- --tf32: on CUDA, torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32 on
  (judge with the tf32-gpu profile). Without it both are set off explicitly (cuDNN's default is
  on), so a CUDA run is float32 and is judged by fp32-cpu. No effect on the CPU.
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


def build_module(torch, spec: dict, weights: Dict[str, List[Weight]]):
    """The spec as an nn.Module holding the weights in torch's own layouts (OIHW conv kernels,
    out x in Linear weights, BatchNorm2d parameters and running buffers)."""
    nn = torch.nn
    F = torch.nn.functional

    class KerasGraph(nn.Module):
        def __init__(self):
            super().__init__()
            self.spec = spec
            self.mods = nn.ModuleDict()
            names = [l["name"] for l in spec["layers"]]
            unknown = set(weights) - set(names)
            if unknown:
                raise ValueError(f"weights for layers not in the spec: {sorted(unknown)}")
            for layer in spec["layers"]:
                self._add(layer, weights.get(layer["name"], []))

        def _add(self, layer: dict, ws: List[Weight]) -> None:
            cls, name = layer["className"], layer["name"]
            expected = {"Conv2D": ["kernel", "bias"], "Dense": ["kernel", "bias"],
                        "BatchNormalization": ["gamma", "beta", "moving_mean", "moving_variance"]}.get(cls, [])
            got = [w.name for w in ws]
            if got != expected:
                raise ValueError(f"layer {name} ({cls}): weights {got}, expected {expected}")
            w = {x.name: x for x in ws}

            def param(x: Weight, a: np.ndarray):
                t = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))
                return nn.Parameter(t, requires_grad=bool(x.trainable))

            def check(x: Weight, shape: Tuple[int, ...]) -> None:
                if tuple(x.array.shape) != shape:
                    raise ValueError(f"layer {name}: weight {x.name} has shape {list(x.array.shape)}, expected {list(shape)}")

            if cls == "Conv2D":
                kh, kw = layer["kernelSize"]
                cin = w["kernel"].array.shape[2] if w["kernel"].array.ndim == 4 else -1
                check(w["kernel"], (kh, kw, cin, layer["filters"]))
                check(w["bias"], (layer["filters"],))
                m = nn.Conv2d(cin, layer["filters"], (kh, kw), stride=tuple(layer["strides"]), padding=0, bias=True)
                # HWIO (Keras) -> OIHW (torch)
                m.weight = param(w["kernel"], w["kernel"].array.transpose(3, 2, 0, 1))
                m.bias = param(w["bias"], w["bias"].array)
                self.mods[name] = m
            elif cls == "BatchNormalization":
                if layer.get("axis", 3) != 3:
                    raise ValueError(f"layer {name}: BatchNormalization axis {layer['axis']} (only the channel axis 3 is supported)")
                c = w["gamma"].array.shape[0]
                for k in ("gamma", "beta", "moving_mean", "moving_variance"):
                    check(w[k], (c,))
                m = nn.BatchNorm2d(c, eps=float(layer["epsilon"]), momentum=1.0 - float(layer["momentum"]))
                m.weight = param(w["gamma"], w["gamma"].array)
                m.bias = param(w["beta"], w["beta"].array)
                with torch.no_grad():
                    m.running_mean.copy_(torch.from_numpy(w["moving_mean"].array.astype(np.float32)))
                    m.running_var.copy_(torch.from_numpy(w["moving_variance"].array.astype(np.float32)))
                if w["moving_mean"].trainable or w["moving_variance"].trainable:
                    raise ValueError(f"layer {name}: moving statistics marked trainable (Keras never does)")
                self.mods[name] = m
            elif cls == "Dense":
                check(w["bias"], (layer["units"],))
                if w["kernel"].array.ndim != 2 or w["kernel"].array.shape[1] != layer["units"]:
                    raise ValueError(f"layer {name}: kernel shape {list(w['kernel'].array.shape)}, expected [in, {layer['units']}]")
                m = nn.Linear(w["kernel"].array.shape[0], layer["units"], bias=True)
                # in x out (Keras) -> out x in (torch)
                m.weight = param(w["kernel"], w["kernel"].array.T)
                m.bias = param(w["bias"], w["bias"].array)
                if layer["activation"] not in ("softmax", "linear"):
                    raise ValueError(f"{name}: activation {layer['activation']} is not supported")
                self.mods[name] = m
            elif cls == "Activation":
                if layer["activation"] != "relu":
                    raise ValueError(f"{name}: activation {layer['activation']} is not supported")
            elif cls not in ("InputLayer", "ZeroPadding2D", "Add", "MaxPooling2D", "AveragePooling2D", "Flatten"):
                raise ValueError(f"layer {name}: class {cls} is not supported by this adapter")

        def forward(self, x_nchw, training: bool, capture: Tuple[str, ...]):
            """x_nchw: N, C, H, W. Returns (output, [captures]) in torch layout (NCHW for 4-D)."""
            vals: Dict[str, object] = {}
            logits: Dict[str, object] = {}
            for layer in self.spec["layers"]:
                cls, name = layer["className"], layer["name"]
                ins = [vals[i] for i in layer["inbound"]]
                if cls == "InputLayer":
                    y = x_nchw
                elif cls == "ZeroPadding2D":
                    (t, b), (l, r) = layer["padding"]
                    y = F.pad(ins[0], (l, r, t, b))  # F.pad: last dim first (W, then H)
                elif cls == "Conv2D":
                    xi = ins[0]
                    if layer["padding"] == "same":
                        xi = F.pad(xi, self._same(layer, xi))
                    y = self.mods[name](xi)
                elif cls == "BatchNormalization":
                    m = self.mods[name]
                    if training:
                        # No running buffers: batch mean and biased variance over N, H, W, and
                        # nothing is updated (torch's unbiased variance only feeds the buffer update).
                        y = F.batch_norm(ins[0], None, None, m.weight, m.bias, True, 0.0, m.eps)
                    else:
                        y = F.batch_norm(ins[0], m.running_mean, m.running_var, m.weight, m.bias, False, 0.0, m.eps)
                elif cls == "Activation":
                    y = F.relu(ins[0])
                elif cls == "Add":
                    y = ins[0]
                    for o in ins[1:]:
                        y = y + o
                elif cls == "MaxPooling2D":
                    xi = ins[0]
                    if layer["padding"] == "same":
                        xi = F.pad(xi, self._same(layer, xi), value=float("-inf"))
                    y = F.max_pool2d(xi, tuple(layer["poolSize"]), tuple(layer["strides"]))
                elif cls == "AveragePooling2D":
                    xi = ins[0]
                    k, s = tuple(layer["poolSize"]), tuple(layer["strides"])
                    if layer["padding"] == "same":
                        pads = self._same(layer, xi)
                        # Keras averages over the window's elements inside the input (padding excluded).
                        ones = torch.ones((1, 1, xi.shape[2], xi.shape[3]), dtype=xi.dtype, device=xi.device)
                        y = F.avg_pool2d(F.pad(xi, pads), k, s) / F.avg_pool2d(F.pad(ones, pads), k, s)
                    else:
                        y = F.avg_pool2d(xi, k, s)
                elif cls == "Flatten":
                    xi = ins[0]
                    # Keras flattens NHWC: H, W, C order of the features.
                    y = xi.permute(0, 2, 3, 1).reshape(xi.shape[0], -1) if xi.dim() == 4 else xi.reshape(xi.shape[0], -1)
                elif cls == "Dense":
                    z = self.mods[name](ins[0])
                    logits[name] = z
                    y = torch.softmax(z, dim=-1) if layer["activation"] == "softmax" else z
                else:
                    raise ValueError(f"layer {name}: class {cls} is not supported by this adapter")
                vals[name] = y
            inter = [logits[c[: -len(LOGITS_SUFFIX)]] if c.endswith(LOGITS_SUFFIX) else vals[c] for c in capture]
            return vals[self.spec["output"]], inter

        @staticmethod
        def _same(layer: dict, xi) -> Tuple[int, int, int, int]:
            """F.pad's (left, right, top, bottom) for TensorFlow 'same' on an NCHW tensor."""
            (kh, kw), (sh, sw) = layer.get("kernelSize") or layer["poolSize"], layer["strides"]
            t, b = same_pads(int(xi.shape[2]), kh, sh)
            l, r = same_pads(int(xi.shape[3]), kw, sw)
            return (l, r, t, b)

    return KerasGraph()


class TorchAdapter(Adapter):
    name = "torch"

    def __init__(self, mkldnn: bool, memory_format: str, compile_: bool, device: str, tf32: bool):
        self.mkldnn = mkldnn
        self.memory_format = memory_format
        self.compile = compile_
        self.device_choice = device
        self.tf32 = tf32
        self.module = None
        self.compiled: Dict[Tuple[bool, Tuple[str, ...]], object] = {}
        self.torch = None
        self.import_error = None
        self.device_error = None
        try:
            import torch

            self.torch = torch
            self.version = f"1 (torch {torch.__version__})"
        except Exception as e:  # noqa: BLE001 - reported by probe
            self.import_error = f"{type(e).__name__}: {e}"
            self.version = "unavailable"
            return
        torch.backends.mkldnn.enabled = mkldnn
        # float32 matmuls in full precision ('high' would let the CPU's oneDNN use bf16 splits too).
        torch.set_float32_matmul_precision("highest")
        # CUDA: TF32 only when asked (cuDNN convolutions allow it by default). No effect on the CPU.
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if device == "cuda" and not torch.cuda.is_available():
            self.device_error = f"--device cuda but torch {torch.__version__} sees no CUDA device"
        self.device = torch.device(device)

    # ------------------------------------------------------------------ protocol methods

    def probe(self) -> dict:
        if self.torch is None:
            return {"available": False, "reason": f"cannot import torch: {self.import_error}",
                    "fix": "npm run setup:torch (creates .venv-torch with torch 2.13.0+cpu)"}
        if self.device_error:
            return {"available": False, "reason": self.device_error,
                    "fix": "install a CUDA build of torch on a machine with an NVIDIA GPU, or use --device cpu"}
        if self.compile:
            try:
                import torch._inductor  # noqa: F401
            except Exception as e:  # noqa: BLE001
                return {"available": False, "reason": f"torch.compile (Inductor) cannot load: {type(e).__name__}: {e}",
                        "fix": "install a C++ compiler and a torch build with Inductor"}
        return {"available": True}

    def describe(self) -> dict:
        torch = self.torch
        dev = self.device
        dev_name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"
        on_cuda = dev.type == "cuda"
        if on_cuda and self.tf32:
            precision = "float32 storage, TF32 convolutions and matmuls (cuDNN/cuBLAS allow_tf32)"
        else:
            precision = "float32"
        mkl = torch.backends.mkldnn
        return {
            "runtime": "PyTorch" + (" (torch.compile, Inductor)" if self.compile else " (eager)"),
            "version": f"torch {torch.__version__}",
            "device": f"{dev.type}:{dev.index or 0} ({dev_name})",
            "precision": precision,
            "settings": {
                "device": str(dev),
                "mkldnnEnabled": bool(mkl.enabled),
                "mkldnnAvailable": bool(mkl.is_available()),
                "memoryFormat": self.memory_format,
                "compile": self.compile,
                "tf32Requested": self.tf32,
                "cudaMatmulAllowTf32": bool(torch.backends.cuda.matmul.allow_tf32),
                "cudnnAllowTf32": bool(torch.backends.cudnn.allow_tf32),
                "float32MatmulPrecision": torch.get_float32_matmul_precision(),
                "threads": torch.get_num_threads(),
                "cuda": torch.version.cuda or "none",
                "numpy": np.__version__,
            },
            "notes": [
                "clients/python/examples/torch_adapter.py: the ModelSpec as an nn.Module (NCHW inside, NHWC at the protocol), "
                "TF 'same' padding by explicit F.pad, BN with batch mean and biased variance in training mode",
                "BatchNormalization running statistics are not updated by training runs (every run starts from the built weights)",
                "paramCount: nn.Parameters are the trainable weights, BatchNorm2d running_mean/running_var buffers the "
                "non-trainable ones (num_batches_tracked, a torch-only step counter, is not a weight and not counted)",
            ]
            + (["torch.compile(fullgraph=True, dynamic=False): one compiled forward per (training, captures, input shape); the first call of each compiles"]
               if self.compile else [])
            + (["--tf32 has no effect on the CPU"] if self.tf32 and not on_cuda else []),
        }

    def build(self, spec: dict, weights: Dict[str, List[Weight]]) -> None:
        torch = self.torch
        m = build_module(torch, spec, weights).to(self.device)
        if self.memory_format == "channels_last":
            m = m.to(memory_format=torch.channels_last)
        m.eval()  # the BN mode is chosen per run by the forward's `training` argument
        self.module = m
        self.compiled = {}
        if self.compile:
            # Every compiled forward shares one code object, so Dynamo counts the graphs of every
            # (training, captures, input shape) against one recompile limit (8 by default): start
            # each model afresh and allow that many graphs.
            torch._dynamo.reset()
            torch._dynamo.config.recompile_limit = 256

    def run(self, x: np.ndarray, training: bool, capture: List[str]):
        torch = self.torch
        if self.module is None:
            raise RuntimeError("build() must be called before run()")
        names = {l["name"] for l in self.module.spec["layers"]}
        for c in capture:
            base = c[: -len(LOGITS_SUFFIX)] if c.endswith(LOGITS_SUFFIX) else c
            if base not in names:
                raise ValueError(f"capture '{c}': no layer '{base}' in the model")
        key = (bool(training), tuple(capture))
        fn = self.compiled.get(key)
        if fn is None:
            module, tr, cap = self.module, bool(training), tuple(capture)

            def fn(xx):
                return module(xx, tr, cap)

            if self.compile:
                # Static shapes: one graph per input shape (no symbolic-shape kernels to judge).
                fn = torch.compile(fn, fullgraph=True, dynamic=False)
            self.compiled[key] = fn
        if x.ndim != 4:
            raise ValueError(f"input must be N x H x W x C, got shape {list(x.shape)}")
        xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(self.device)
        mf = torch.channels_last if self.memory_format == "channels_last" else torch.contiguous_format
        xt = xt.permute(0, 3, 1, 2).contiguous(memory_format=mf)  # NHWC -> NCHW (logical), chosen strides
        with torch.inference_mode():
            out, inter = fn(xt)
        return to_nhwc(out), {c: to_nhwc(t) for c, t in zip(capture, inter)}

    def param_count(self) -> dict:
        if self.module is None:
            raise RuntimeError("build() must be called before paramCount")
        params = list(self.module.parameters())
        trainable = sum(p.numel() for p in params if p.requires_grad)
        frozen = sum(p.numel() for p in params if not p.requires_grad)
        stats = sum(b.numel() for n, b in self.module.named_buffers() if n.endswith(("running_mean", "running_var")))
        return {"total": int(trainable + frozen + stats), "trainable": int(trainable), "nonTrainable": int(frozen + stats)}

    def dispose(self) -> None:
        self.module = None
        self.compiled = {}


def to_nhwc(t) -> np.ndarray:
    """torch tensor -> numpy in the protocol's layout (NCHW -> NHWC for 4-D)."""
    t = t.detach().to("cpu")
    if t.dim() == 4:
        t = t.permute(0, 2, 3, 1)
    return np.ascontiguousarray(t.numpy())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mkldnn", choices=["on", "off"], default="on", help="torch.backends.mkldnn.enabled (oneDNN CPU kernels)")
    ap.add_argument("--memory-format", choices=["contiguous", "channels_last"], default="contiguous")
    ap.add_argument("--compile", action="store_true", help="torch.compile (Inductor) the forward")
    ap.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    ap.add_argument("--tf32", action="store_true", help="CUDA: allow TF32 in cuDNN convolutions and cuBLAS matmuls")
    ap.add_argument("--name", default=None, help="the hello name (default: torch plus the options that differ)")
    add_play_arguments(ap)
    a = ap.parse_args()
    adapter = TorchAdapter(a.mkldnn == "on", a.memory_format, a.compile, a.device, a.tf32)
    parts = ["torch"] + (["mkldnn-off"] if a.mkldnn == "off" else []) + (["channels-last"] if a.memory_format == "channels_last" else []) \
        + (["compile"] if a.compile else []) + (["tf32"] if a.tf32 else [])
    adapter.name = a.name or "-".join(parts)
    return serve_or_play(adapter, a)


if __name__ == "__main__":
    sys.exit(main())
