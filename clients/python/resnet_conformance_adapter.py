"""Client library for the resnet-conformance external adapter protocol, version 1.

One file, numpy only: copy it next to your adapter program. The protocol is documented in
docs/adapter-protocol.md of resnet-conformance. Write an adapter as a class and hand it to serve():

    from resnet_conformance_adapter import Adapter, serve

    class MyRuntime(Adapter):
        name, version = "my-runtime", "0.1"
        def describe(self):
            return {"runtime": "MyRuntime", "version": "0.1", "device": "cpu", "precision": "float32"}
        def build(self, spec, weights):       # spec: dict (ModelSpec); weights: {layer: [Weight, ...]} in Keras order
            ...
        def run(self, x, training, capture):  # x: numpy NHWC array; returns (output, {layer_name: array})
            ...
        def param_count(self):                 # {"total": ..., "trainable": ..., "nonTrainable": ...}
            ...

    if __name__ == "__main__":
        serve(MyRuntime())

serve() owns the process's real stdout for frames; inside it, print() and anything C code writes to
file descriptor 1 go to stderr (the harness keeps stderr as the program's log), so stray output
cannot corrupt the protocol stream.
"""
from __future__ import annotations

import io
import json
import os
import struct
import sys
import time
import traceback
from dataclasses import dataclass
from typing import Any, BinaryIO, Dict, List, Optional, Tuple

import numpy as np

PROTOCOL_VERSION = 1
MAX_HEADER_BYTES = 16 * 1024 * 1024
MAX_PAYLOAD_BYTES = 1024 * 1024 * 1024  # the harness's fixed cap (docs/adapter-protocol.md)

__all__ = ["Adapter", "Weight", "ProtocolError", "serve", "read_frame", "write_frame", "encode_npy", "decode_npy", "PROTOCOL_VERSION"]


class ProtocolError(Exception):
    """A malformed frame from the harness (the stream cannot continue after one)."""


@dataclass
class Weight:
    """One weight tensor in Keras order: Conv2D/Dense kernel, bias; BatchNormalization gamma, beta, moving_mean, moving_variance."""

    name: str
    array: np.ndarray
    trainable: bool


# --------------------------------------------------------------------------------------------
# Frames and .npy
# --------------------------------------------------------------------------------------------

def encode_npy(a: np.ndarray) -> bytes:
    """numpy's own .npy encoding (C order). Protocol tensors are float32 or float64."""
    a = np.asarray(a)
    if a.dtype not in (np.float32, np.float64):
        raise TypeError(f"protocol tensors are float32 or float64, got {a.dtype}")
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.ascontiguousarray(a), allow_pickle=False)
    return buf.getvalue()


def decode_npy(b: bytes | memoryview, name: str = "tensor") -> np.ndarray:
    try:
        a = np.lib.format.read_array(io.BytesIO(bytes(b)), allow_pickle=False)
    except Exception as e:  # noqa: BLE001 - name the tensor whatever numpy raised
        raise ProtocolError(f"tensor '{name}' is not valid .npy: {e}") from e
    return a


def _read_exact(stream: BinaryIO, n: int) -> Optional[bytes]:
    chunks = []
    got = 0
    while got < n:
        c = stream.read(n - got)
        if not c:
            if got == 0:
                return None
            raise ProtocolError(f"stream ended inside a frame ({got} of {n} bytes)")
        chunks.append(c)
        got += len(c)
    return b"".join(chunks)


def read_frame(stream: BinaryIO) -> Optional[Tuple[dict, memoryview]]:
    """Reads one frame: (header dict, payload). None at a clean end of the stream."""
    prefix = _read_exact(stream, 4)
    if prefix is None:
        return None
    (hlen,) = struct.unpack("<I", prefix)
    if hlen == 0 or hlen > MAX_HEADER_BYTES:
        raise ProtocolError(f"header length {hlen} is outside 1..{MAX_HEADER_BYTES}")
    hb = _read_exact(stream, hlen)
    lb = _read_exact(stream, 8)
    if hb is None or lb is None:
        raise ProtocolError("stream ended inside a frame header")
    (plen,) = struct.unpack("<Q", lb)
    if plen > MAX_PAYLOAD_BYTES:
        raise ProtocolError(f"payload length {plen} exceeds {MAX_PAYLOAD_BYTES}")
    payload = _read_exact(stream, plen) if plen else b""
    if payload is None:
        raise ProtocolError("stream ended before the payload")
    try:
        header = json.loads(hb.decode("utf-8"))
    except Exception as e:  # noqa: BLE001
        raise ProtocolError(f"header is not UTF-8 JSON: {e}") from e
    if not isinstance(header, dict) or not isinstance(header.get("type"), str) or not isinstance(header.get("id"), int):
        raise ProtocolError(f"header must be an object with string 'type' and integer 'id': {str(header)[:200]}")
    return header, memoryview(payload)


def frame_tensors(header: dict, payload: memoryview) -> Dict[str, np.ndarray]:
    out: Dict[str, np.ndarray] = {}
    for r in header.get("tensors", []) or []:
        name, off, length = r.get("name"), r.get("offset"), r.get("length")
        if not isinstance(name, str) or not isinstance(off, int) or not isinstance(length, int) or off < 0 or length < 0 or off + length > len(payload):
            raise ProtocolError(f"bad tensor reference {r!r} for a {len(payload)}-byte payload")
        out[name] = decode_npy(payload[off:off + length], name)
    return out


def write_frame(stream: BinaryIO, header: dict, tensors: Optional[List[Tuple[str, np.ndarray]]] = None) -> None:
    blobs = [(name, encode_npy(a)) for name, a in (tensors or [])]
    refs, off = [], 0
    for name, b in blobs:
        refs.append({"name": name, "offset": off, "length": len(b)})
        off += len(b)
    if refs:
        header = {**header, "tensors": refs}
    hb = json.dumps(header, allow_nan=False, default=_json_default).encode("utf-8")
    stream.write(struct.pack("<I", len(hb)))
    stream.write(hb)
    stream.write(struct.pack("<Q", off))
    for _, b in blobs:
        stream.write(b)
    stream.flush()


def _json_default(o: Any) -> Any:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.bool_):
        return bool(o)
    raise TypeError(f"{type(o).__name__} is not JSON serializable")


# --------------------------------------------------------------------------------------------
# The adapter class and the message loop
# --------------------------------------------------------------------------------------------

class Adapter:
    """Base class: override what your runtime does. Defaults: always available, no model."""

    #: hello: the program's name (the harness's default adapter id) and version.
    name = "python-adapter"
    version = "0"

    def probe(self) -> dict:
        """{"available": True} or {"available": False, "reason": "...", "fix": "..."}."""
        return {"available": True}

    def describe(self) -> dict:
        """runtime, version, device, precision (strings); settings (flat dict); notes (list of str)."""
        raise NotImplementedError("describe() is not implemented")

    def build(self, spec: dict, weights: Dict[str, List[Weight]]) -> None:
        """Builds the model: spec is the ModelSpec JSON (layers in Keras order), weights by layer name in Keras order."""
        raise NotImplementedError("build() is not implemented")

    def run(self, x: np.ndarray, training: bool, capture: List[str]) -> Tuple[np.ndarray, Dict[str, np.ndarray]]:
        """Forward pass on NHWC x; returns (output, {capture name: array}) for the names in capture."""
        raise NotImplementedError("run() is not implemented")

    def param_count(self) -> dict:
        """{"total": int, "trainable": int, "nonTrainable": int} as the runtime counts its parameters."""
        raise NotImplementedError("param_count() is not implemented")

    def dispose(self) -> None:
        """Frees the model (the program keeps running)."""


def _protocol_streams() -> Tuple[BinaryIO, BinaryIO]:
    """The real stdin/stdout for frames; fd 1 and sys.stdout are pointed at stderr from here on."""
    stdin = os.fdopen(os.dup(0), "rb", buffering=0)
    out_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    stdout = os.fdopen(out_fd, "wb", buffering=1 << 20)
    return stdin, stdout


def _handle(adapter: Adapter, header: dict, payload: memoryview, out: BinaryIO) -> bool:
    t, rid = header["type"], header["id"]
    if t == "hello":
        write_frame(out, {"type": t, "id": rid, "protocol": PROTOCOL_VERSION, "name": adapter.name, "version": adapter.version})
    elif t == "probe":
        write_frame(out, {"type": t, "id": rid, **adapter.probe()})
    elif t == "describe":
        d = {"settings": {}, "notes": [], **adapter.describe()}
        write_frame(out, {"type": t, "id": rid, **d})
    elif t == "build":
        tensors = frame_tensors(header, payload)
        weights: Dict[str, List[Weight]] = {}
        for w in header.get("weights", []):
            a = tensors.get(w["tensor"])
            if a is None:
                raise ProtocolError(f"build: weight {w['layer']}/{w['name']} names tensor '{w['tensor']}', which is not in the frame")
            weights.setdefault(w["layer"], []).append(Weight(w["name"], a, bool(w["trainable"])))
        adapter.build(header["spec"], weights)
        write_frame(out, {"type": t, "id": rid})
    elif t == "run":
        x = frame_tensors(header, payload).get("input")
        if x is None:
            raise ProtocolError("run: the frame has no tensor 'input'")
        capture = list(header.get("capture") or [])
        t0 = time.perf_counter()
        y, inter = adapter.run(x, bool(header["training"]), capture)
        compute_ms = (time.perf_counter() - t0) * 1000.0
        tensors_out = [("output", np.asarray(y))] + [(f"intermediates/{k}", np.asarray(v)) for k, v in inter.items()]
        write_frame(out, {"type": t, "id": rid, "computeMs": compute_ms}, tensors_out)
    elif t == "paramCount":
        write_frame(out, {"type": t, "id": rid, **adapter.param_count()})
    elif t == "dispose":
        adapter.dispose()
        write_frame(out, {"type": t, "id": rid})
    elif t == "bye":
        adapter.dispose()
        write_frame(out, {"type": t, "id": rid})
        return False
    else:
        raise ValueError(f"unknown request type '{t}' (protocol version {PROTOCOL_VERSION})")
    return True


def serve(adapter: Adapter, stdin: Optional[BinaryIO] = None, stdout: Optional[BinaryIO] = None) -> int:
    """Answers requests until `bye` or the end of stdin. An exception in the adapter becomes an
    `error` response (the loop goes on); a malformed frame ends the program with code 2."""
    if stdin is None or stdout is None:
        stdin, stdout = _protocol_streams()
    while True:
        try:
            frame = read_frame(stdin)
        except ProtocolError as e:
            print(f"resnet_conformance_adapter: malformed frame from the harness: {e}", file=sys.stderr)
            return 2
        if frame is None:
            return 0
        header, payload = frame
        try:
            if not _handle(adapter, header, payload, stdout):
                return 0
        except Exception as e:  # noqa: BLE001 - every failure is reported to the harness
            write_frame(stdout, {"type": "error", "id": header["id"], "message": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()})
