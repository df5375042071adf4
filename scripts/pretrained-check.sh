#!/usr/bin/env bash
# npm run fixtures:pretrained:check — freshness of the pre-trained fixtures (issue #8): real Keras
# regenerates them into a copy of fixtures/pretrained, which must equal the committed files byte for
# byte, and the regenerated ResNet-50 files must equal the materialized ones
# (npx resnet-conformance fixtures materialize). Needs the pinned venv (npm run setup:python).
set -uo pipefail
cd "$(dirname "$0")/.."
tmp=.tmp/pretrained-regen
python=${RESNET_CONFORMANCE_PYTHON:-.venv/bin/python}
[ -x "$python" ] || { echo "fixtures:pretrained:check: no $python; set up the pinned environment with: npm run setup:python"; exit 2; }
npx resnet-conformance fixtures materialize | tail -n 1 || exit 1
rm -rf "$tmp" && mkdir -p .tmp && cp -r fixtures/pretrained "$tmp" || exit 1
# The copy keeps the earlier .keras archives: the generator keeps those whose members are unchanged
# (their metadata.json carries the save date), as it does in place.
"$python" fixtures/generate/pretrained.py --out "$tmp" 2>&1 | grep -v -e '^WARNING' -e '^I0000' -e '^To enable the following' -e 'cpu_feature_guard' || exit 1
diff -r --exclude=models fixtures/pretrained "$tmp" || { echo "fixtures:pretrained:check: FAILED: the regenerated pre-trained fixtures differ from the committed ones (above)"; exit 1; }
for f in fixtures/pretrained/models/*; do
  cmp -s "$f" "$tmp/models/$(basename "$f")" || { echo "fixtures:pretrained:check: FAILED: regenerated $(basename "$f") differs from the materialized one"; exit 1; }
done
rm -rf "$tmp"
echo "fixtures:pretrained:check: OK: real Keras regenerates the pre-trained fixtures byte for byte (the 285 MB of ResNet-50 files included)"
