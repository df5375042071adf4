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

The same class plays a case pack offline (`resnet-conformance export-cases`, docs/case-packs.md), on
a machine without Node: `play(MyRuntime(), "pack/", "outs/")`, or from the command line

    python resnet_conformance_adapter.py play --pack pack/ --adapter my_runtime.py:MyRuntime --out outs/

and `resnet-conformance judge --pack pack/ --outputs outs/` judges the outputs where the pack came from.
An adapter program that calls serve_or_play() instead of serve() takes `--play PACK --out OUTS` itself.

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

__all__ = ["Adapter", "Weight", "ProtocolError", "PackError", "serve", "play", "serve_or_play", "add_play_arguments",
           "read_frame", "write_frame", "encode_npy", "decode_npy", "PROTOCOL_VERSION"]


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


# --------------------------------------------------------------------------------------------
# Case packs: the same Adapter, offline (docs/case-packs.md)
# --------------------------------------------------------------------------------------------

PACK_FORMAT = "resnet-conformance/case-pack"
PACK_FORMAT_VERSION = 1


class PackError(Exception):
    """A case pack that cannot be played: the message names the file."""


def _pack_path(root: str, rel: str, what: str) -> str:
    if not isinstance(rel, str) or not rel or os.path.isabs(rel) or ".." in rel.replace("\\", "/").split("/"):
        raise PackError(f"{what}: {rel!r} is not a relative path inside its folder")
    return os.path.join(root, rel)


def read_pack(pack_dir: str) -> dict:
    """PACK/manifest.json, checked for its format and version."""
    file = os.path.join(pack_dir, "manifest.json")
    try:
        with open(file, "r", encoding="utf-8") as f:
            m = json.load(f)
    except FileNotFoundError:
        raise PackError(f"{file}: no such file (is this a folder written by export-cases?)") from None
    except (OSError, ValueError) as e:
        raise PackError(f"{file}: cannot read: {e}") from e
    if not isinstance(m, dict) or m.get("format") != PACK_FORMAT:
        raise PackError(f"{file}: not a case pack (format {m.get('format') if isinstance(m, dict) else None!r})")
    if m.get("formatVersion") != PACK_FORMAT_VERSION:
        raise PackError(f"{file}: formatVersion {m.get('formatVersion')!r}, this client reads {PACK_FORMAT_VERSION}")
    for key in ("models", "cases"):
        if not isinstance(m.get(key), list) or not m[key]:
            raise PackError(f"{file}: '{key}' must be a non-empty list")
    return m


def _load_checked(pack_dir: str, ref: dict, what: str) -> bytes:
    """A pack file's bytes, checked against its sha256 (a pack copied to a device may arrive damaged)."""
    import hashlib

    file = _pack_path(pack_dir, ref.get("file"), what)
    try:
        with open(file, "rb") as f:
            b = f.read()
    except OSError as e:
        raise PackError(f"{what}: cannot read {file}: {e}") from e
    digest = hashlib.sha256(b).hexdigest()
    if digest != ref.get("sha256"):
        raise PackError(f"{what}: {file} has sha256 {digest}, the pack manifest says {ref.get('sha256')} (damaged or modified)")
    return b


def _load_npy_checked(pack_dir: str, ref: dict, what: str) -> np.ndarray:
    a = decode_npy(_load_checked(pack_dir, ref, what), ref.get("file", what))
    if list(a.shape) != list(ref.get("shape", a.shape)):
        raise PackError(f"{what}: {ref['file']} has shape {list(a.shape)}, the pack manifest says {ref['shape']}")
    return a


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def _write_file(path: str, data: bytes) -> None:
    """Written to a temporary name, then renamed: a reader never sees half a file."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _as_protocol_array(a: Any, what: str) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype == np.float16:
        a = a.astype(np.float32)  # exact: every float16 is a float32
    if a.dtype not in (np.float32, np.float64):
        raise TypeError(f"{what}: dtype {a.dtype}; outputs are float32 or float64")
    return a


def _case_selected(case_id: str, patterns: Optional[List[str]]) -> bool:
    """resnet-conformance's --cases rule: a pattern with * or ? is a glob of the whole id, else a substring."""
    import fnmatch

    if not patterns:
        return True
    return any(fnmatch.fnmatchcase(case_id, p) if any(c in p for c in "*?") else p in case_id for p in patterns)


def play(adapter: Adapter, pack_dir: str, out_dir: str, cases: Optional[List[str]] = None, diagnosis: bool = True,
         log=None) -> int:
    """Plays a case pack through `adapter` and writes the outputs the pack names under out_dir.

    For each model: build (a failure goes to its buildError file), param_count (its paramCount
    file); for each case of it: run with the case's captures (a failure goes to the case's error
    file) and, unless diagnosis is False, once more capturing every layer (the judge's per-layer
    diagnosis). Files left from an earlier play of the same cases are removed first, so a stale
    output can never be judged. Returns 0 when every selected case has its output, else 1.
    """
    log = log or (lambda s: print(s, file=sys.stderr, flush=True))
    m = read_pack(pack_dir)
    models = {x["id"]: x for x in m["models"]}
    selected = [c for c in m["cases"] if _case_selected(c["id"], cases)]
    if not selected:
        raise PackError(f"--cases {cases}: no case of the pack matches")
    os.makedirs(out_dir, exist_ok=True)
    record: Dict[str, Any] = {"name": adapter.name, "version": adapter.version, "client": {"protocol": PROTOCOL_VERSION},
                              "python": sys.version.split()[0], "numpy": np.__version__,
                              "pack": {"createdAt": m.get("createdAt"), "fixturesSha256": m.get("fixturesSha256")},
                              "startedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "cases": {}}
    record_file = os.path.join(out_dir, "adapter.json")

    def save_record() -> None:
        _write_file(record_file, json.dumps(record, indent=1, default=_json_default).encode("utf-8"))

    probe = adapter.probe()
    record["probe"] = probe
    if not probe.get("available", False):
        save_record()
        log(f"play: adapter '{adapter.name}' is unavailable: {probe.get('reason')}")
        return 1
    try:
        record["describe"] = {"settings": {}, "notes": [], **adapter.describe()}
    except Exception as e:  # noqa: BLE001 - the outputs are still worth judging
        record["describeError"] = f"{type(e).__name__}: {e}"
    by_model: Dict[str, List[dict]] = {}
    for c in selected:
        if c["model"] not in models:
            raise PackError(f"case '{c['id']}': model '{c['model']}' is not in the pack")
        by_model.setdefault(c["model"], []).append(c)

    def case_files(c: dict) -> List[str]:
        files = [c["outputs"]["output"], c["outputs"]["error"], *c["outputs"]["intermediates"].values()]
        if c.get("diagnosis"):
            files += [c["diagnosis"]["output"], *c["diagnosis"]["intermediates"].values()]
        return [_pack_path(out_dir, f, f"case '{c['id']}' outputs") for f in files]

    def write_run(c: dict, outs: dict, capture: List[str], y: Any, inter: Dict[str, Any]) -> None:
        _write_file(_pack_path(out_dir, outs["output"], "output"), encode_npy(_as_protocol_array(y, f"case '{c['id']}' output")))
        for name in capture:
            if name in inter:  # one the adapter did not return stays missing: the judge says so
                _write_file(_pack_path(out_dir, outs["intermediates"][name], "capture"),
                            encode_npy(_as_protocol_array(inter[name], f"case '{c['id']}' capture '{name}'")))

    complete = 0
    for mid, mcases in by_model.items():
        model = models[mid]
        param_file = _pack_path(out_dir, model["outputs"]["paramCount"], "paramCount")
        build_error = _pack_path(out_dir, model["outputs"]["buildError"], "buildError")
        for f in [param_file, build_error] + [f for c in mcases for f in case_files(c)]:
            _remove(f)
        spec = json.loads(_load_checked(pack_dir, model["spec"], f"model {mid} spec").decode("utf-8"))
        weights: Dict[str, List[Weight]] = {}
        for w in model["weights"]:
            a = _load_npy_checked(pack_dir, w, f"model {mid} weight {w['layer']}/{w['name']}")
            weights.setdefault(w["layer"], []).append(Weight(w["name"], a, bool(w["trainable"])))
        t0 = time.perf_counter()
        try:
            adapter.build(spec, weights)
        except Exception as e:  # noqa: BLE001
            _write_file(build_error, f"{type(e).__name__}: {e}\n\n{traceback.format_exc()}".encode("utf-8"))
            log(f"play: model {mid}: build failed: {type(e).__name__}: {e}")
            continue
        log(f"play: model {mid} built in {time.perf_counter() - t0:.2f} s")
        try:
            _write_file(param_file, json.dumps(adapter.param_count(), default=_json_default).encode("utf-8"))
        except Exception as e:  # noqa: BLE001
            _write_file(param_file, json.dumps({"error": f"{type(e).__name__}: {e}"}).encode("utf-8"))
        for c in mcases:
            x = _load_npy_checked(pack_dir, c["input"], f"case '{c['id']}' input")
            entry: Dict[str, Any] = {}
            try:
                t0 = time.perf_counter()
                y, inter = adapter.run(x, bool(c["training"]), list(c["capture"]))
                entry["computeMs"] = (time.perf_counter() - t0) * 1000.0
                write_run(c, c["outputs"], c["capture"], y, inter)
                complete += 1
            except Exception as e:  # noqa: BLE001
                _write_file(_pack_path(out_dir, c["outputs"]["error"], "error"),
                            f"{type(e).__name__}: {e}\n\n{traceback.format_exc()}".encode("utf-8"))
                entry["error"] = f"{type(e).__name__}: {e}"
                log(f"play: case {c['id']}: {entry['error']}")
                record["cases"][c["id"]] = entry
                continue
            if diagnosis and c.get("diagnosis"):
                d = c["diagnosis"]
                try:
                    y2, inter2 = adapter.run(x, bool(c["training"]), list(d["capture"]))
                    write_run(c, d, d["capture"], y2, inter2)
                except Exception as e:  # noqa: BLE001 - only the diagnosis of a failing case needs it
                    entry["diagnosisError"] = f"{type(e).__name__}: {e}"
            record["cases"][c["id"]] = entry
            log(f"play: case {c['id']}: {entry.get('computeMs', 0):.1f} ms")
        adapter.dispose()
    record["finishedAt"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    save_record()
    log(f"play: {complete} of {len(selected)} case(s) have outputs in {out_dir}")
    return 0 if complete == len(selected) else 1


def add_play_arguments(ap: Any) -> None:
    """--play PACK --out OUTS [--cases P,...] [--no-diagnosis] on an adapter program's argparse parser."""
    ap.add_argument("--play", metavar="PACK", help="play this case pack offline instead of serving the protocol on stdio")
    ap.add_argument("--out", metavar="OUTS", help="with --play: the outputs folder")
    ap.add_argument("--cases", metavar="P,...", help="with --play: case ids or globs (default: every case)")
    ap.add_argument("--no-diagnosis", action="store_true", help="with --play: skip the all-layer diagnosis run")


def serve_or_play(adapter: Adapter, args: Any) -> int:
    """serve(adapter) on stdio, or play(adapter, ...) when the program was given --play (see add_play_arguments)."""
    if getattr(args, "play", None):
        if not args.out:
            print("--play needs --out OUTS (the outputs folder)", file=sys.stderr)
            return 2
        try:
            return play(adapter, args.play, args.out, args.cases.split(",") if args.cases else None, not args.no_diagnosis)
        except PackError as e:
            print(f"play: {e}", file=sys.stderr)
            return 2
    return serve(adapter)


def _load_adapter_class(ref: str):
    """FILE.py:Class or package.module:Class."""
    import importlib
    import importlib.util

    target, _, cls = ref.rpartition(":")
    if not target or not cls:
        raise PackError(f"--adapter {ref!r}: expected FILE.py:Class or module:Class")
    if target.endswith(".py") or os.sep in target:
        path = os.path.abspath(target)
        spec = importlib.util.spec_from_file_location(os.path.splitext(os.path.basename(path))[0], path)
        if spec is None or spec.loader is None or not os.path.exists(path):
            raise PackError(f"--adapter {ref!r}: no such file {path}")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = mod
        spec.loader.exec_module(mod)
    else:
        mod = importlib.import_module(target)
    c = getattr(mod, cls, None)
    if c is None:
        raise PackError(f"--adapter {ref!r}: {target} has no {cls}")
    return c


def _main(argv: Optional[List[str]] = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="resnet_conformance_adapter.py", description="Play a resnet-conformance case pack through an Adapter class.")
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("play", help="run every case of a pack through an Adapter subclass and write its outputs")
    p.add_argument("--pack", required=True)
    p.add_argument("--adapter", required=True, metavar="FILE.py:Class|module:Class")
    p.add_argument("--kwargs", default="{}", help="JSON object of keyword arguments for the class")
    p.add_argument("--name", help="the adapter's name in the outputs (default: its class attribute)")
    p.add_argument("--out", required=True)
    p.add_argument("--cases", help="case ids or globs, comma-separated (default: every case)")
    p.add_argument("--no-diagnosis", action="store_true")
    a = ap.parse_args(argv)
    try:
        kwargs = json.loads(a.kwargs)
        if not isinstance(kwargs, dict):
            raise PackError("--kwargs must be a JSON object")
        adapter = _load_adapter_class(a.adapter)(**kwargs)
        if a.name:
            adapter.name = a.name
        return play(adapter, a.pack, a.out, a.cases.split(",") if a.cases else None, not a.no_diagnosis)
    except (PackError, ValueError) as e:
        print(f"play: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(_main())
