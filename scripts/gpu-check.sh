#!/usr/bin/env bash
# The GPU check of issue 28 (docs/gpu-check.md), in two halves:
#
#   scripts/gpu-check.sh play --pack PACK --out OUTS [--device cuda|cpu] [--cases P,...]
#       [--torch-python PY] [--jax-python PY] [--no-diagnosis]
#     On the GPU machine: Python, numpy, PyTorch and JAX; no Node. Plays the case pack (written by
#     `resnet-conformance export-cases`) through clients/python/examples/torch_adapter.py with TF32
#     off (OUTS/torch-fp32) and on (OUTS/torch-tf32), and through jax_adapter.py (OUTS/jax), and
#     records the machine in OUTS/environment.txt and each step's log and exit code. --device cpu
#     runs the same pipeline on the CPU (TF32 then has no effect), to try it on a machine without a GPU.
#
#   scripts/gpu-check.sh judge --pack PACK --outputs OUTS [--reports DIR]
#     Back where the pack was exported (Node): `resnet-conformance judge` on each outputs folder,
#     TF32-off and JAX under the fp32-cpu profile, TF32-on under tf32-gpu. Exit 1 when any fails.
#
# Only this repository's clients/python (the client and the examples), this script and the pack are
# needed on the GPU machine. Bounded: every play step runs under `timeout` (STEP_TIMEOUT_S; default
# 180 s with --device cuda, 900 s with --device cpu).
set -u -o pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
EXAMPLES="$HERE/clients/python/examples"
STEP_TIMEOUT_S="${STEP_TIMEOUT_S:-}"

usage() {
  sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

mode="${1:-}"
[ -n "$mode" ] || usage
shift
PACK="" OUT="" OUTPUTS="" REPORTS="" DEVICE="cuda" CASES="" DIAG=""
TORCH_PY="${TORCH_PYTHON:-}" JAX_PY="${JAX_PYTHON:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --pack) PACK="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --outputs) OUTPUTS="$2"; shift 2 ;;
    --reports) REPORTS="$2"; shift 2 ;;
    --device) DEVICE="$2"; shift 2 ;;
    --cases) CASES="$2"; shift 2 ;;
    --torch-python) TORCH_PY="$2"; shift 2 ;;
    --jax-python) JAX_PY="$2"; shift 2 ;;
    --no-diagnosis) DIAG="--no-diagnosis"; shift ;;
    -h|--help) usage ;;
    *) echo "gpu-check: unknown option '$1'" >&2; usage ;;
  esac
done
[ -n "$PACK" ] || { echo "gpu-check: --pack PACK is required" >&2; exit 2; }
[ -f "$PACK/manifest.json" ] || { echo "gpu-check: $PACK/manifest.json: no such file (write the pack with resnet-conformance export-cases)" >&2; exit 2; }

# The judge's adapter id and profile of each outputs folder (play writes them, judge reads them).
LEGS="torch-fp32:fp32-cpu torch-tf32:tf32-gpu jax:fp32-cpu"

if [ "$mode" = play ]; then
  [ -n "$OUT" ] || { echo "gpu-check play: --out OUTS is required" >&2; exit 2; }
  case "$DEVICE" in cuda|cpu) ;; *) echo "gpu-check play: --device must be cuda or cpu, got '$DEVICE'" >&2; exit 2 ;; esac
  # Defaults: this repository's virtual environments when present, else the python3 on PATH.
  [ -n "$TORCH_PY" ] || { [ -x "$HERE/.venv-torch/bin/python" ] && TORCH_PY="$HERE/.venv-torch/bin/python" || TORCH_PY=python3; }
  [ -n "$JAX_PY" ] || { [ -x "$HERE/.venv-jax/bin/python" ] && JAX_PY="$HERE/.venv-jax/bin/python" || JAX_PY=python3; }
  # Per step: 180 s on a GPU keeps the three steps inside a 10-minute slot; the CPU needs more (docs/gpu-check.md).
  [ -n "$STEP_TIMEOUT_S" ] || { [ "$DEVICE" = cuda ] && STEP_TIMEOUT_S=180 || STEP_TIMEOUT_S=900; }
  mkdir -p "$OUT"
  env_file="$OUT/environment.txt"
  {
    echo "gpu-check play: $(date -u +%Y-%m-%dT%H:%M:%SZ), device $DEVICE, pack $PACK"
    echo "host: $(uname -a)"
    if command -v nvidia-smi >/dev/null 2>&1; then
      nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv 2>&1
    else
      echo "nvidia-smi: not found"
    fi
    echo "torch python: $TORCH_PY"
    "$TORCH_PY" -c 'import sys, numpy, torch; print("python", sys.version.split()[0], "numpy", numpy.__version__, "torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version(), "gpu", torch.cuda.get_device_name(0) if torch.cuda.is_available() else None)' 2>&1
    echo "jax python: $JAX_PY"
    JAX_PLATFORMS="$DEVICE" "$JAX_PY" -c 'import sys, numpy, jax, jaxlib; print("python", sys.version.split()[0], "numpy", numpy.__version__, "jax", jax.__version__, "jaxlib", jaxlib.__version__, "devices", jax.devices())' 2>&1
  } >"$env_file"
  cat "$env_file"
  case_args=()
  [ -n "$CASES" ] && case_args=(--cases "$CASES")
  status=0
  step() { # name, command...
    local name="$1"; shift
    local t0=$SECONDS
    echo "== $name: $*"
    timeout --kill-after=10 "$STEP_TIMEOUT_S" "$@" >"$OUT/$name.log" 2>&1
    local rc=$?
    echo "$name: exit $rc in $((SECONDS - t0)) s (log: $OUT/$name.log)" | tee -a "$env_file"
    tail -n 3 "$OUT/$name.log"
    [ "$rc" -eq 0 ] || status=1
  }
  # TF32 off: the adapter sets torch.backends.cuda.matmul.allow_tf32 and cudnn.allow_tf32 False.
  step torch-fp32 "$TORCH_PY" "$EXAMPLES/torch_adapter.py" --device "$DEVICE" --name "torch-$DEVICE-fp32" \
    --play "$PACK" --out "$OUT/torch-fp32" "${case_args[@]}" $DIAG
  # TF32 on: both set True (on the CPU they change nothing).
  step torch-tf32 "$TORCH_PY" "$EXAMPLES/torch_adapter.py" --device "$DEVICE" --tf32 --name "torch-$DEVICE-tf32" \
    --play "$PACK" --out "$OUT/torch-tf32" "${case_args[@]}" $DIAG
  # JAX on the named platform only (JAX would otherwise fall back to the CPU without a word).
  step jax env JAX_PLATFORMS="$DEVICE" "$JAX_PY" "$EXAMPLES/jax_adapter.py" --name "jax-$DEVICE" \
    --play "$PACK" --out "$OUT/jax" "${case_args[@]}" $DIAG
  echo
  echo "Outputs in $OUT. Copy the folder back and judge it where the pack was exported:"
  echo "  scripts/gpu-check.sh judge --pack PACK --outputs $OUT"
  exit $status
fi

if [ "$mode" = judge ]; then
  [ -n "$OUTPUTS" ] || { echo "gpu-check judge: --outputs OUTS is required" >&2; exit 2; }
  REPORTS="${REPORTS:-$OUTPUTS/reports}"
  status=0
  for leg in $LEGS; do
    name="${leg%%:*}" profile="${leg##*:}"
    if [ ! -d "$OUTPUTS/$name" ]; then
      echo "== $name: $OUTPUTS/$name is missing (its play step did not run)"; status=1; continue
    fi
    id="$(sed -n 's/^ *"name": "\(.*\)",\{0,1\}$/\1/p' "$OUTPUTS/$name/adapter.json" 2>/dev/null | head -n 1)"
    echo "== $name (${id:-unnamed}) under $profile"
    node "$HERE/bin/resnet-conformance.cjs" judge --pack "$PACK" --outputs "$OUTPUTS/$name" \
      --adapter-id "${id:-$name}" --profile "$profile" --out "$REPORTS/$name"
    rc=$?
    echo "$name: judge exit $rc"
    [ "$rc" -eq 0 ] || status=1
  done
  exit $status
fi

usage
