#!/usr/bin/env bash
# action.yml, step 2: the run, the step summary (report.md, and the comparison with the baseline as
# Markdown), the outputs. Always exits 0 when a report was written, so that the upload and JUnit
# steps run; the action's last step exits with the run's code.
# Env: RC_HOME (from install.sh), RC_ADAPTER_COMMAND / RC_ADAPTER_MODULE (one per line), RC_ADAPTERS,
# RC_CASES, RC_BASELINE, RC_ARGS (space-separated), RC_OUT.
set -uo pipefail
home="${RC_HOME:-${RUNNER_TEMP:-/tmp}/resnet-conformance}"
cli="$home/node_modules/.bin/resnet-conformance"
out="${RC_OUT:-resnet-conformance-report}"
args=(run --out "$out")
while IFS= read -r line; do [ -n "$line" ] && args+=(--adapter-command "$line"); done <<< "${RC_ADAPTER_COMMAND:-}"
while IFS= read -r line; do [ -n "$line" ] && args+=(--adapter-module "$line"); done <<< "${RC_ADAPTER_MODULE:-}"
[ -n "${RC_ADAPTERS:-}" ] && args+=(--adapters "$RC_ADAPTERS")
[ -n "${RC_CASES:-}" ] && args+=(--cases "$RC_CASES")
[ -n "${RC_BASELINE:-}" ] && args+=(--baseline "$RC_BASELINE")
read -r -a extra <<< "${RC_ARGS:-}"
args+=("${extra[@]}")
"$cli" "${args[@]}"
code=$?
summary="${GITHUB_STEP_SUMMARY:-/dev/null}"
if [ -f "$out/report.md" ]; then
  cat "$out/report.md" >> "$summary"
  if [ -n "${RC_BASELINE:-}" ]; then
    echo >> "$summary"
    "$cli" compare "$RC_BASELINE" "$out" --format md >> "$summary" || true
  fi
  verdict=$(node -e 'process.stdout.write(require(require("path").resolve(process.argv[1], "report.json")).summary.verdict)' "$out")
else
  echo "resnet-conformance exited with $code and wrote no report (a usage or configuration error: see the log above)" >> "$summary"
  verdict=fail
fi
{ echo "verdict=$verdict"; echo "exit-code=$code"; } >> "${GITHUB_OUTPUT:-/dev/null}"
echo "resnet-conformance: verdict $verdict, exit code $code"
