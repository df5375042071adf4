/**
 * A named baseline of an imported notebook revision, on disk:
 *
 *   DIR/baseline.json   every call and check with provenance (file sha256, line of each value), tolerances
 *   DIR/data/*.npy      inputs and expected values
 *   DIR/manifest.json   every np.allclose check (and printed whole outputs) as a fixtures case: the output,
 *                       the notebook's resume or any other view of it (resume[1], A[0]), with the weights
 *                       and BatchNorm epsilon the revision's values were produced with (explain's
 *                       configuration), as a fixtures manifest `run --fixtures DIR` (or `run --baseline-set
 *                       NAME`) consumes. Printed views stay explain-only (their tolerance is the printing
 *                       precision, not a row of the tolerance table).
 *
 * Default DIR: baselines/NAME under the working directory (outside the committed fixtures).
 */
import * as fs from 'fs';
import * as path from 'path';
import { initModelWeights } from '../init/model-weights';
import {
  MANIFEST_SCHEMA_VERSION,
  type CaseWeights,
  type FixtureCase,
  type FixtureManifest,
  type TensorRef,
} from '../golden/manifest';
import { StatefulRandomSession } from '../init/stateful-philox';
import { statefulModelWeights } from '../init/stateful-weights';
import { modelKey } from '../golden/load';
import { encodeNpy, parseNpy } from '../tensor/npy';
import type { ModelArgs } from '../model/model-args';
import { summary } from '../model/summary';
import { sha256, writeFileAtomic } from '../util/fs';
import { callSpec, type ImportedCall, type ImportedCheck, type ImportedRevision } from './revision';
import { isResume } from '../golden/views';
import { configText, evaluate, explain, type Configuration, type Explanation } from './explain';

export const BASELINE_SCHEMA_VERSION = 1;
export const BASELINE_FILE = 'baseline.json';
export const DEFAULT_BASELINES_DIR = 'baselines';

export interface BaselineTensor {
  file: string;
  sha256: string;
  shape: number[];
  dtype: 'float32' | 'float64';
}

export interface BaselineFile {
  schemaVersion: number;
  name: string;
  createdBy: string;
  sources: ImportedRevision['sources'];
  calls: (Omit<ImportedCall, 'input'> & { input: BaselineTensor & { line: number } })[];
  checks: (Omit<ImportedCheck, 'expected'> & {
    expected?: BaselineTensor & { valuesFrom: { file: string; line: number; lines: string } };
  })[];
  /** Case ids written to manifest.json, and the checks that are not there and why. */
  runner: { cases: string[]; notInManifest: { check: string; why: string }[] };
  notes: string[];
  /** What the import could not read or explain (absent in baselines written before issue 24). */
  warnings?: string[];
}

export class BaselineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BaselineError';
  }
}

/** Compact line list: "19-22" or "19,21,25-27" (each value's line, in row-major order of the values). */
export function lineRanges(lines: readonly number[]): string {
  const u = [...new Set(lines)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < u.length; i++) {
    let j = i;
    while (j + 1 < u.length && u[j + 1] === u[j] + 1) j++;
    parts.push(i === j ? String(u[i]) : `${u[i]}-${u[j]}`);
    i = j;
  }
  return parts.join(',');
}

export function baselineDir(name: string, baselinesDir = DEFAULT_BASELINES_DIR): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name))
    throw new BaselineError(`baseline name '${name}' must be letters, digits, '.', '_' or '-'`);
  return path.resolve(baselinesDir, name);
}

function modelArgs(c: ImportedCall): ModelArgs {
  const [, h, w, ch] = c.input.shape;
  const a: ModelArgs = {
    model: c.block,
    f: c.f,
    filters: [...c.filters],
    initializer: c.initializerText,
    inputShape: [h, w, ch],
  };
  if (c.block === 'convolutional_block') a.s = c.s ?? 2;
  return a;
}

function rngOf(c: ImportedCall, w: CaseWeights | undefined): string {
  if (c.initializer.kind === 'constant') return 'constant kernels (no RNG)';
  if (w?.rng === 'stateful')
    return `seeded kernels from TF's stateful stream after tf.random.set_seed(${c.seeds.tfSetSeed}) (${c.file}:${c.seeds.tfSetSeedLine}), as explain determined; the runner builds them so`;
  return c.seeds.tfSetSeed !== null
    ? `seeded kernels after tf.random.set_seed(${c.seeds.tfSetSeed}) (${c.file}:${c.seeds.tfSetSeedLine}); ${w ? 'explain found the stateless ones reproduce the values' : "not explained: built with Keras 3's stateless ones"}`
    : 'seeded kernels without a global seed';
}

/**
 * The weights record of a call under explain's configuration: the RNG kind (stateful only where the
 * file calls tf.random.set_seed before it; the stream position from replaying the calls made since),
 * and the BatchNorm epsilon.
 */
export function caseWeightsOf(rev: ImportedRevision, c: ImportedCall, cfg: Configuration, from: string): CaseWeights {
  if (cfg.rng === 'stateful' && c.seeds.tfSetSeed !== null) {
    const session = new StatefulRandomSession(c.seeds.tfSetSeed);
    for (const prev of c.seeds.previousCallsSinceSetSeed)
      statefulModelWeights(callSpec(rev.calls[prev], cfg.epsilon), session);
    return {
      rng: 'stateful',
      globalSeed: c.seeds.tfSetSeed,
      streamPosition: session.positions(),
      bnEpsilon: cfg.epsilon,
      from: `${from}; tf.random.set_seed(${c.seeds.tfSetSeed}) at ${c.file}:${c.seeds.tfSetSeedLine}${c.seeds.previousCallsSinceSetSeed.length ? `, after call(s) ${c.seeds.previousCallsSinceSetSeed.join(', ')}` : ', first call since'}`,
    };
  }
  return { rng: 'stateless', bnEpsilon: cfg.epsilon, from };
}

/** What import-notebook warns about a revision one configuration does not explain. */
function explainWarnings(x: Explanation | null, ownConfig: string[], unexplained: string[]): string[] {
  if (!x || x.explained) return [];
  const out = [
    `explain: no single configuration reproduces every check (best: ${configText(x.best.config)}, ${x.best.errors.length - x.best.failing}/${x.best.errors.length} checks); each check is run with the best configuration that reproduces it${ownConfig.length ? `: ${ownConfig.join('; ')}` : ''}`,
  ];
  for (const u of unexplained)
    out.push(
      `${u.replace(/^no configuration explain searched reproduces (\S+) /, '$1 ')}: unexplained (reported as 'unexplained' by run --baseline-set, never a pass)`,
    );
  return out;
}

/**
 * Writes DIR (baseline.json, data/, manifest.json when some check fits the fixtures format). The
 * cases take explain's configuration (computed here unless given): its weights and epsilon, and a
 * check whose values only a TF32 configuration reproduces (the reference without TF32 misses the
 * file's tolerance, measured here) gets the revision-tf32 case class of the tolerance table.
 */
export function writeBaseline(
  rev: ImportedRevision,
  name: string,
  dir: string,
  explanation: Explanation | null = rev.checks.some((k) => k.kind !== 'shape') ? explain(rev) : null,
): BaselineFile {
  fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
  const put = (
    file: string,
    shape: number[],
    values: readonly number[],
    dtype: 'float32' | 'float64',
  ): BaselineTensor => {
    const data = dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values);
    const bytes = encodeNpy({ shape, data }, file);
    writeFileAtomic(path.join(dir, file), bytes);
    return { file, sha256: sha256(bytes), shape: [...shape], dtype };
  };
  const calls = rev.calls.map((c) => ({
    ...c,
    input: { ...put(`data/call${c.id}-input.npy`, c.input.shape, c.input.data, c.input.dtype), line: c.input.line },
  }));
  const checks = rev.checks.map((k, i) => {
    if (!k.expected) return { ...k, expected: undefined };
    const e = k.expected;
    return {
      ...k,
      expected: {
        ...put(`data/check${i}-expected.npy`, e.shape, e.data, e.dtype),
        valuesFrom: { file: e.file, line: e.line, lines: lineRanges(e.lines.length ? e.lines : [e.line]) },
      },
    };
  });
  const srcOf = (file: string) => rev.sources.find((s) => file === s.path || file.startsWith(`${s.path} cell`));
  const cases: FixtureCase[] = [];
  const notInManifest: { check: string; why: string }[] = [];
  const unexplained: string[] = [];
  const ownConfig: string[] = [];
  checks.forEach((k, i) => {
    if (k.kind === 'shape') {
      notInManifest.push({ check: k.id, why: 'a shape check (import already verified it against the model)' });
      return;
    }
    const resumeView = isResume(k.steps);
    if (k.kind === 'printed' && k.steps.length > 0 && !resumeView) {
      notInManifest.push({
        check: k.id,
        why: `printed ${k.view}: explain-only (its tolerance is the printing precision, not a row of the tolerance table)`,
      });
      return;
    }
    const c = calls[k.call];
    const src = srcOf(k.expected!.valuesFrom.file);
    const ref = (t: BaselineTensor): TensorRef => ({ file: t.file, sha256: t.sha256, shape: t.shape, dtype: t.dtype });
    const block = rev.calls[k.call];
    // The configuration of this check: explain's where one configuration explains the revision; else the
    // best one reproducing this check (warned); none: the check is unexplained, built with the closest one.
    const per = explanation?.perCheck.find((p) => p.check === k.id);
    const cfg = per ? (per.config ?? per.closest) : null;
    const weightsFrom = !per
      ? ''
      : explanation!.explained
        ? `explain: ${configText(cfg!)} reproduces every check of the revision`
        : per.config
          ? `explain: ${configText(cfg!)} reproduces this check (${per.ratio.toFixed(3)}x its tolerance); no single configuration reproduces every check of the revision`
          : `explain: no configuration reproduces this check; the closest, ${configText(cfg!)}, is ${per.ratio === Infinity ? 'not computable' : `${per.ratio.toFixed(2)}x its tolerance`} off`;
    const weights = cfg ? caseWeightsOf(rev, block, cfg, weightsFrom) : undefined;
    // A check only TF32 reproduces: measured with the same configuration without TF32.
    let tf32Note = '';
    if (cfg && cfg.tf32.length) {
      const plain = evaluate(rev, { ...cfg, tf32: [] }, [rev.checks[i]]).errors[0];
      if (!plain.pass)
        tf32Note = `; values need TF32 in ${cfg.tf32.join('+')} (explain): without TF32 the reference (float32) is ${plain.maxAbs.toExponential(2)} abs off, ${plain.ratio.toFixed(1)}x the file's tolerance`;
    }
    const tf32 = tf32Note !== '';
    const viewCase = k.steps.length > 0 && !resumeView;
    const identity = resumeView || (viewCase && k.view.startsWith('A[:, (0,-1), :, :].mean(axis=3)'));
    const caseClass = tf32
      ? identity
        ? 'revision-tf32-identity-resume'
        : 'revision-tf32-conv-output'
      : identity
        ? 'notebook-identity-resume'
        : 'notebook-conv-output';
    const fc: FixtureCase = {
      id: `${name}/${k.kind}${i}/${block.block}`,
      caseClass,
      description: `${k.kind === 'printed' ? 'printed output' : 'np.allclose'} at ${k.id}: ${k.view} of ${block.source} (${block.file}:${block.line}); BatchNorm training=${block.effectiveTraining} (${block.trainingFrom}); ${rngOf(block, weights)}${cfg ? `; bn-epsilon ${cfg.epsilon}` : ''}${tf32Note}.`,
      model: modelArgs(block),
      training: block.effectiveTraining,
      input: { ...ref(c.input), recipe: `${block.file}:${c.input.line} (X of the call at line ${block.line})` },
      expected: resumeView
        ? { resume: ref(k.expected!) }
        : viewCase
          ? { view: ref(k.expected!) }
          : { output: ref(k.expected!) },
      checks: [],
      source: {
        kind: 'notebook-published',
        version: name,
        where: `${k.id}: ${k.source}`.slice(0, 400),
        copiedFrom: `${k.expected!.valuesFrom.file}${src ? ` (sha256 ${src.sha256})` : ''} lines ${k.expected!.valuesFrom.lines}`,
      },
    };
    if (viewCase) fc.view = { steps: k.steps, text: k.view };
    if (weights) fc.weights = weights;
    // one verdict: the check's own tolerance judges it in the run as in explain (src/compare/tolerances/)
    fc.tolerance = { atol: k.tolerance!.atol, rtol: k.tolerance!.rtol, from: k.tolerance!.from };
    if (per && !per.config) {
      const why = `no configuration explain searched reproduces ${k.id} (${k.view} vs ${k.expected!.valuesFrom.file}:${k.expected!.valuesFrom.line}; closest ${configText(per.closest)}, ${per.ratio === Infinity ? 'not computable' : `${per.ratio.toFixed(2)}x its tolerance`})`;
      fc.unexplained = { reason: why };
      unexplained.push(why);
    } else if (per && !explanation!.explained && per.config !== explanation!.best.config) {
      ownConfig.push(`${k.id}: ${configText(per.config!)}`);
    }
    cases.push(fc);
  });
  const baseline: BaselineFile = {
    schemaVersion: BASELINE_SCHEMA_VERSION,
    name,
    createdBy: 'resnet-conformance import-notebook (Python ast in pyodide; nothing executed)',
    sources: rev.sources,
    calls,
    checks,
    runner: { cases: cases.map((c) => c.id), notInManifest },
    notes: rev.notes,
    warnings: [...rev.warnings, ...explainWarnings(explanation, ownConfig, unexplained)],
  };
  writeFileAtomic(path.join(dir, BASELINE_FILE), `${JSON.stringify(baseline, null, 1)}\n`);
  const manifestFile = path.join(dir, 'manifest.json');
  if (cases.length) {
    const models = new Map<string, ModelArgs>();
    for (const k of cases) models.set(modelKey(k.model), k.model);
    const manifest: FixtureManifest = {
      schemaVersion: MANIFEST_SCHEMA_VERSION,
      about: `Imported notebook revision '${name}' (resnet-conformance import-notebook from ${rev.sources.map((s) => s.path).join(', ')}); see ${BASELINE_FILE}. Do not edit by hand.`,
      generator: {
        script: 'src/notebook/revision-baseline.ts',
        command: `resnet-conformance import-notebook --name ${name}`,
        versions: { tensorflow: "n/a (values from the revision's files)", keras: 'n/a', python: 'n/a', numpy: 'n/a' },
        settings: { source: 'notebook revision files' },
        publishedValues: rev.sources.map((s) => `${s.path} sha256 ${s.sha256}`).join('; '),
      },
      cases,
      summaries: [...models.values()].map((m) => {
        const c = rev.calls.find((x) => modelKey(modelArgs(x)) === modelKey(m))!;
        const sm = summary(callSpec(c));
        return { model: m, rows: sm.rows, totals: sm.totals };
      }),
      weightDigests: [...models.values()].map((m) => {
        const c = rev.calls.find((x) => modelKey(modelArgs(x)) === modelKey(m))!;
        const w = initModelWeights(callSpec(c));
        return {
          model: m,
          weights: [...w.entries()].flatMap(([layer, ts]) =>
            ts.map((t) => ({
              layer,
              name: t.name,
              shape: t.shape,
              trainable: t.trainable,
              sha256: sha256(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)),
            })),
          ),
        };
      }),
    };
    writeFileAtomic(manifestFile, `${JSON.stringify(manifest, null, 1)}\n`);
  } else if (fs.existsSync(manifestFile)) {
    fs.unlinkSync(manifestFile);
  }
  return baseline;
}

/** Reads DIR/baseline.json and its .npy files back into an ImportedRevision (digests checked). */
export function readBaseline(dir: string): { baseline: BaselineFile; revision: ImportedRevision } {
  const file = path.join(dir, BASELINE_FILE);
  let b: BaselineFile;
  try {
    b = JSON.parse(fs.readFileSync(file, 'utf8')) as BaselineFile;
  } catch (e) {
    throw new BaselineError(
      `${file}: cannot read the baseline (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); create it with resnet-conformance import-notebook`,
    );
  }
  if (b.schemaVersion !== BASELINE_SCHEMA_VERSION)
    throw new BaselineError(`${file}: schemaVersion ${String(b.schemaVersion)}, expected ${BASELINE_SCHEMA_VERSION}`);
  const load = (t: BaselineTensor, what: string): number[] => {
    const p = path.join(dir, t.file);
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(p);
    } catch {
      throw new BaselineError(`${file}: ${what}: missing ${t.file}`);
    }
    if (sha256(bytes) !== t.sha256)
      throw new BaselineError(`${file}: ${what}: ${t.file} has sha256 ${sha256(bytes)}, the baseline says ${t.sha256}`);
    return Array.from(parseNpy(bytes, p).data as ArrayLike<number>);
  };
  const revision: ImportedRevision = {
    sources: b.sources,
    notes: b.notes,
    warnings: b.warnings ?? [],
    calls: b.calls.map((c) => ({
      ...c,
      input: {
        shape: c.input.shape,
        dtype: c.input.dtype,
        line: c.input.line,
        data: load(c.input, `call ${c.id} input`),
      },
    })),
    checks: b.checks.map((k) => {
      if (!k.expected) return { ...k, expected: undefined };
      const e = k.expected;
      const lines: number[] = [];
      return {
        ...k,
        expected: {
          shape: e.shape,
          dtype: e.dtype,
          file: e.valuesFrom.file,
          line: e.valuesFrom.line,
          lines,
          data: load(e, `check ${k.id}`),
        },
      };
    }),
  };
  return { baseline: b, revision };
}

/**
 * `run --baseline-set NAME`: the fixtures directory the runner should read for an imported baseline
 * (DIR/manifest.json). Errors say how to create it or why it has no runnable case.
 */
export function baselineSetFixturesDir(name: string, baselinesDir = DEFAULT_BASELINES_DIR): string {
  const dir = baselineDir(name, baselinesDir);
  const { baseline } = readBaseline(dir);
  if (!fs.existsSync(path.join(dir, 'manifest.json'))) {
    const why = baseline.runner.notInManifest.map((n) => `${n.check}: ${n.why}`).join('; ');
    throw new BaselineError(
      `baseline '${name}' (${dir}) has no check the runner can compare (${why || 'no value checks'}); use resnet-conformance explain --baseline-set ${name}`,
    );
  }
  return dir;
}
