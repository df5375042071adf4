/**
 * `export-cases`: the selected golden cases as a case pack (./pack-format.ts, docs/case-packs.md)
 * for a device without Node. Each model is written as the external protocol hands it to a program
 * (the ModelSpec JSON, the initial weights per layer in Keras order, exactly as executeCase builds
 * them); each case as its input and what to capture. The expected values stay here: `judge` takes
 * them from the fixtures, so the pack carries nothing a runtime could be tuned against.
 */
import * as fs from 'fs';
import * as path from 'path';
import { captureNamesFor } from '../diagnose/diagnose';
import { toolVersion } from '../environment/run-info';
import type { FixtureCase } from '../golden/manifest';
import { captureNames } from '../golden/run-case';
import { buildModel } from '../model/model-args';
import { encodeNpy } from '../tensor/npy';
import { sha256 } from '../util/fs';
import { packageRoot } from '../util/package-root';
import { builtKeyOf, caseInitialWeights } from './execute-case';
import {
  PACK_FORMAT,
  PACK_FORMAT_VERSION,
  PACK_MANIFEST,
  PackError,
  slug,
  type PackCase,
  type PackManifest,
  type PackModel,
  type PackRunOutputs,
} from './pack-format';
import { loadAndCheckFixtures } from './run';

export interface ExportConfig {
  fixturesDir: string;
  cases?: string;
  outDir: string;
  /** Record the all-layer run the judge's diagnosis needs (default true). */
  diagnosis: boolean;
  judge: { adapterId?: string; profile?: string };
}

/** The Python client, one file: copied into the pack so that the pack is all a device needs besides its adapter. */
export const CLIENT_FILE = path.join('clients', 'python', 'resnet_conformance_adapter.py');

/** A name unique within `used` (adds -2, -3, ...). */
function unique(name: string, used: Set<string>): string {
  let n = name;
  for (let i = 2; used.has(n.toLowerCase()); i++) n = `${name}-${i}`;
  used.add(n.toLowerCase());
  return n;
}

function runOutputs(dir: string, capture: string[]): PackRunOutputs {
  const used = new Set<string>(['output']);
  return {
    output: `${dir}/output.npy`,
    intermediates: Object.fromEntries(capture.map((c) => [c, `${dir}/${unique(slug(c), used)}.npy`])),
  };
}

function write(root: string, rel: string, data: string | Uint8Array): string {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data);
  return sha256(data);
}

export interface ExportSummary {
  manifest: PackManifest;
  bytes: number;
}

export function exportCases(cfg: ExportConfig): ExportSummary {
  const out = cfg.outDir;
  if (fs.existsSync(out) && (!fs.statSync(out).isDirectory() || fs.readdirSync(out).length > 0))
    throw new PackError(`${out}: exists and is not an empty folder (export-cases never overwrites)`);
  const { cases, manifestText } = loadAndCheckFixtures(cfg.fixturesDir, cfg.cases);
  fs.mkdirSync(out, { recursive: true });
  let bytes = 0;
  const put = (rel: string, data: string | Uint8Array): string => {
    bytes += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    return write(out, rel, data);
  };

  const models = new Map<string, PackModel & { diagnosisCapture: string[] }>();
  const packCases: PackCase[] = [];
  const caseDirs = new Set<string>();
  for (const k of cases) {
    const key = builtKeyOf(k);
    let m = models.get(key);
    if (!m) {
      const id = `m${models.size + 1}-${k.model.model}`;
      const spec = buildModel(k.model, { bnEpsilon: k.weights?.bnEpsilon });
      const weights = caseInitialWeights(k, spec);
      const specText = JSON.stringify(spec);
      const used = new Set<string>();
      const ws: PackModel['weights'] = [];
      for (const [layer, list] of weights)
        for (const w of list) {
          const file = `models/${id}/weights/${unique(`${slug(layer)}.${slug(w.name)}`, used)}.npy`;
          const npy = encodeNpy({ shape: w.shape, data: w.data }, `${layer}/${w.name}`);
          ws.push({
            layer,
            name: w.name,
            trainable: w.trainable,
            file,
            sha256: put(file, npy),
            shape: [...w.shape],
            dtype: 'float32',
          });
        }
      m = {
        id,
        args: { ...k.model },
        weightsRecord: k.weights ?? null,
        spec: { file: `models/${id}/spec.json`, sha256: put(`models/${id}/spec.json`, specText) },
        weights: ws,
        outputs: { paramCount: `models/${id}/param_count.json`, buildError: `models/${id}/build_error.txt` },
        diagnosisCapture: captureNamesFor(spec),
      };
      models.set(key, m);
    }
    const dir = `cases/${unique(slug(k.id), caseDirs)}`;
    const inputBytes = fs.readFileSync(path.join(cfg.fixturesDir, k.input.file));
    const inputFile = `inputs/${dir.slice('cases/'.length)}.npy`;
    const capture = captureNames(k);
    packCases.push({
      id: k.id,
      model: m.id,
      training: k.training,
      input: { file: inputFile, sha256: put(inputFile, inputBytes), shape: [...k.input.shape], dtype: k.input.dtype },
      capture,
      fixtureSha256: fixtureSha256(k),
      outputs: {
        ...runOutputs(`${dir}/intermediates`, capture),
        output: `${dir}/output.npy`,
        error: `${dir}/error.txt`,
      },
      diagnosis: cfg.diagnosis
        ? { ...runOutputs(`${dir}/diagnosis`, m.diagnosisCapture), capture: m.diagnosisCapture }
        : null,
    });
  }

  const manifest: PackManifest = {
    format: PACK_FORMAT,
    formatVersion: PACK_FORMAT_VERSION,
    tool: { name: 'resnet-conformance', version: toolVersion() },
    createdAt: new Date().toISOString(),
    fixturesSha256: sha256(manifestText),
    judge: { ...cfg.judge },
    models: [...models.values()].map(({ diagnosisCapture: _, ...m }) => m),
    cases: packCases,
  };
  put(path.join('client', 'resnet_conformance_adapter.py'), fs.readFileSync(path.join(packageRoot(), CLIENT_FILE)));
  put('README.md', packReadme(manifest));
  // Last: a folder without its manifest is not a pack (an interrupted export is not mistaken for one).
  put(PACK_MANIFEST, `${JSON.stringify(manifest, null, 1)}\n`);
  return { manifest, bytes };
}

/** What `judge` compares with the pack's record of a case: the fixture case as the report's cases[].fixtureSha256. */
export function fixtureSha256(k: FixtureCase): string {
  return sha256(JSON.stringify(k));
}

function packReadme(m: PackManifest): string {
  const caseLines = m.cases.map(
    (c) =>
      `| \`${c.id}\` | ${c.model} | ${c.training ? 'training' : 'inference'} | [${c.input.shape.join(', ')}] | ${c.capture.length} |`,
  );
  return `# resnet-conformance case pack

${m.cases.length} golden case(s) of resnet-conformance ${m.tool.version}, exported ${m.createdAt}, to be
run on a device without Node and judged back on the machine that exported them. The expected values
are not in the pack: \`resnet-conformance judge\` has them.

## Produce the outputs

With the Python client (numpy only; \`client/resnet_conformance_adapter.py\` is a copy) and any
\`Adapter\` subclass, the same class the harness runs over stdio:

\`\`\`sh
python client/resnet_conformance_adapter.py play --pack . --adapter my_adapter.py:MyAdapter --out outs/
# or, from an adapter program built on serve_or_play(): python my_adapter.py --play . --out outs/
\`\`\`

By hand (any language): for every model in \`manifest.json\` \`models\`, build \`spec.file\` (the
ModelSpec JSON, layers in Keras order) with \`weights\` (one float32 .npy per layer and Keras
variable, in Keras order); write \`outputs.paramCount\` (JSON \`{"total", "trainable",
"nonTrainable"}\` as your runtime counts its parameters). Then, for every case of the model: run
\`input.file\` (NHWC, batch first) with BatchNormalization in training mode when \`training\` is true
(batch statistics, biased variance, moving statistics left untouched) and write, under your outputs
folder, the output to \`outputs.output\` and each layer named in \`capture\` to
\`outputs.intermediates[name]\` (NHWC; \`<dense>:logits\` is the Dense layer before its softmax).
If \`diagnosis\` is not null, run once more capturing every layer in \`diagnosis.capture\` and write
\`diagnosis.output\` and \`diagnosis.intermediates\` (used only to diagnose a failing case per layer).
A model that cannot be built: write the reason to \`outputs.buildError\`; a case that cannot run:
write it to the case's \`outputs.error\`. Every tensor is a .npy file (float32 or float64, C order).
Check each input file against its \`sha256\` first.

## Judge

Copy the outputs folder back and run, where the pack was exported:

\`\`\`sh
npx resnet-conformance judge --pack PACK --outputs outs/ --adapter-id NAME --profile fp32-cpu|tf32-gpu|fp64-reference
\`\`\`

A missing or unreadable output is an \`error\` for its case, never a pass.

| case | model | BatchNorm | input | captures |
|---|---|---|---|---|
${caseLines.join('\n')}
`;
}
