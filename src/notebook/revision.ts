/**
 * A notebook revision's test files read into data: the block calls (arguments, input, seeds set
 * before them, the learning phase), every check (np.allclose with its tolerance, shape asserts,
 * printed outputs of notebook cells) with its expected values and where each value is written.
 * Files are parsed by Python's own ast in pyodide (./pyodide.ts, ./extract.py); nothing is executed.
 */
import * as fs from 'fs';
import { convolutionalBlock, identityBlock } from '../model/builders';
import { constantInit, glorotUniform, randomUniform } from '../model/initializers';
import type { InitializerSpec, ModelSpec } from '../model/types';
import { sha256 } from '../util/fs';
import { extractWithPython, type SourceFile } from './pyodide';
import { viewShape, viewText, type ViewStep } from '../golden/views';

export class NotebookImportError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
  ) {
    super(`${file}:${line}: ${message}`);
    this.name = 'NotebookImportError';
  }
}

export type BlockName = 'identity_block' | 'convolutional_block';

export interface ImportedSource {
  role: SourceFile['role'];
  path: string;
  sha256: string;
  bytes: number;
}

export interface ImportedCall {
  id: number;
  file: string;
  line: number;
  /** The test function (or `<cell K>` of a notebook) the call is in. */
  function: string;
  block: BlockName;
  f: number;
  filters: number[];
  s?: number;
  /** `training=` as written (null: not passed). */
  training: boolean | null;
  /** The BatchNormalization mode the call ran with, and why (see effectiveTraining). */
  effectiveTraining: boolean;
  trainingFrom: 'argument' | 'learning-phase' | 'block-default';
  initializer: InitializerSpec;
  initializerText: string;
  input: { shape: number[]; data: number[]; dtype: 'float32' | 'float64'; line: number };
  seeds: {
    npRandomSeed: number | null;
    tfSetSeed: number | null;
    tfSetSeedLine: number | null;
    learningPhase: boolean | null;
    learningPhaseLine: number | null;
    /** Block calls made since the last tf.random.set_seed (a stateful stream continues through them). */
    previousCallsSinceSetSeed: number[];
  };
  outputShape: number[];
  source: string;
}

export interface ImportedTolerance {
  atol: number;
  rtol: number;
  /** Where the tolerance comes from (the file's own np.allclose, or the printing precision). */
  from: string;
}

export interface ImportedCheck {
  id: string;
  kind: 'allclose' | 'printed' | 'shape';
  file: string;
  line: number;
  call: number;
  steps: ViewStep[];
  /** numpy text of what is compared, e.g. `A[:, (0,-1), :, :].mean(axis=3)`. */
  view: string;
  /** allclose / printed: the expected values (row-major) and their shape. */
  expected?: {
    shape: number[];
    data: number[];
    dtype: 'float32' | 'float64';
    file: string;
    line: number;
    lines: number[];
  };
  tolerance?: ImportedTolerance;
  /** shape checks: the asserted shape. */
  shape?: number[];
  message: string | null;
  source: string;
}

export interface ImportedRevision {
  sources: ImportedSource[];
  calls: ImportedCall[];
  checks: ImportedCheck[];
  notes: string[];
  /** What the import could not read and left out (e.g. a cell's printed output), naming the file and cell. */
  warnings: string[];
}

/**
 * Largest file read (bytes), checked before reading it: a course's public_tests.py / outputs.py is tens
 * of kB and a notebook with its images a few MB; the parser's memory grows with the source (the limits
 * of the evaluation itself are in ./extract.py).
 */
export const MAX_SOURCE_BYTES: Readonly<Record<SourceFile['role'], number>> = {
  'public-tests': 4 << 20,
  outputs: 4 << 20,
  notebook: 32 << 20,
};

/**
 * What set_learning_phase meant (TF 2.x with Keras 2, the revisions that used it): a layer called
 * without `training=` takes the global learning phase (0 inference, 1 training: BatchNormalization on
 * batch statistics); an explicit `training=` always wins. With neither, the seed notebook's block
 * default (training=True) applies. Keras 3 (TF 2.16+) has no learning phase at all.
 */
export function effectiveTraining(
  training: boolean | null,
  learningPhase: boolean | null,
): { value: boolean; from: ImportedCall['trainingFrom'] } {
  if (training !== null) return { value: training, from: 'argument' };
  if (learningPhase !== null) return { value: learningPhase, from: 'learning-phase' };
  return { value: true, from: 'block-default' };
}

/** The block's model spec for a call (input shape from its X), BatchNorm epsilon as given. */
export function callSpec(
  c: Pick<ImportedCall, 'block' | 'f' | 'filters' | 's' | 'initializer' | 'effectiveTraining' | 'input'>,
  bnEpsilon?: number,
): ModelSpec {
  const [, h, w, ch] = c.input.shape;
  const opts = {
    inputShape: [h, w, ch] as [number, number, number],
    initializer: c.initializer,
    training: c.effectiveTraining,
    bnEpsilon,
  };
  return c.block === 'identity_block'
    ? identityBlock(c.f, c.filters, opts)
    : convolutionalBlock(c.f, c.filters, c.s ?? 2, opts);
}

interface RawCall {
  id: number;
  file: string;
  line: number;
  function: string;
  block: BlockName;
  f: number;
  filters: number[];
  s?: number;
  training: boolean | null;
  initializer: { kind: string; seed?: number; value?: number; text: string } | null;
  input: ImportedCall['input'];
  seeds: ImportedCall['seeds'];
  source: string;
}
interface RawArray {
  shape: number[];
  data: number[];
  dtype: 'float32' | 'float64' | null;
  file?: string;
  line: number;
  lines?: number[];
}
interface RawCheck {
  kind: 'allclose' | 'shape';
  file: string;
  line: number;
  function: string;
  call: number;
  steps: ViewStep[];
  expected?: RawArray;
  tolerance?: { atol: number; rtol: number; atolGiven: boolean; rtolGiven: boolean };
  shape?: number[];
  message: string | null;
  source: string;
}
interface RawPrinted {
  file: string;
  cell: number;
  outputLine: number;
  kind: 'array' | 'scalar';
  value: unknown;
  text: string;
  print: { file: string; line: number; call: number; steps: ViewStep[]; source: string };
}
interface RawResult {
  error?: { file: string; line: number; message: string };
  calls: RawCall[];
  checks: RawCheck[];
  printed: RawPrinted[];
  notes: Record<string, unknown>[];
  warnings?: string[];
}

function initializerOf(c: RawCall): { spec: InitializerSpec; text: string } {
  const i = c.initializer;
  // Not passed: the seed notebook's defaults (identity: random_uniform, convolutional: glorot_uniform), called with seed=0.
  if (!i)
    return c.block === 'identity_block'
      ? { spec: randomUniform(0), text: 'random_uniform' }
      : { spec: glorotUniform(0), text: 'glorot_uniform' };
  if (i.kind === 'constant') return { spec: constantInit(i.value ?? 0), text: i.text };
  if (i.kind === 'glorot_uniform') return { spec: glorotUniform(i.seed ?? 0), text: i.text };
  return { spec: randomUniform(i.seed ?? 0), text: i.text };
}

function flatten(v: unknown): { shape: number[]; data: number[] } {
  if (typeof v === 'number') return { shape: [], data: [v] };
  const a = v as unknown[];
  const parts = a.map(flatten);
  return { shape: [a.length, ...(parts[0]?.shape ?? [])], data: parts.flatMap((p) => p.data) };
}

function decimalsOf(text: string): number {
  let d = 0;
  for (const m of text.matchAll(/\d+\.(\d+)/g)) d = Math.max(d, m[1].length);
  return d;
}

/** Reads each file within its size limit (MAX_SOURCE_BYTES); an unreadable or oversized file is an error naming it. */
function readSources(files: { role: SourceFile['role']; path: string }[]): {
  sources: SourceFile[];
  imported: ImportedSource[];
} {
  const sources: SourceFile[] = [];
  const imported: ImportedSource[] = [];
  for (const f of files) {
    let bytes: Buffer;
    try {
      const size = fs.statSync(f.path).size;
      const limit = MAX_SOURCE_BYTES[f.role];
      if (size > limit)
        throw new NotebookImportError(
          f.path,
          0,
          `${size} bytes, more than the limit of ${limit} bytes for a ${f.role === 'notebook' ? 'notebook' : 'Python file'} (MAX_SOURCE_BYTES, src/notebook/revision.ts)`,
        );
      bytes = fs.readFileSync(f.path);
    } catch (e) {
      if (e instanceof NotebookImportError) throw e;
      throw new NotebookImportError(
        f.path,
        0,
        `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      );
    }
    // the bytes go as they are: Python decodes them as it decodes a source file (invalid UTF-8 is an error)
    sources.push({ role: f.role, path: f.path, bytes });
    imported.push({ role: f.role, path: f.path, sha256: sha256(bytes), bytes: bytes.length });
  }
  return { sources, imported };
}

/** The files parsed by Python's ast in pyodide; a parser failure names the files, a file error its line. */
async function extract(sources: SourceFile[], files: { path: string }[]): Promise<RawResult> {
  let raw: RawResult;
  try {
    raw = (await extractWithPython(sources)) as RawResult;
  } catch (e) {
    // the interpreter itself failed (out of memory, a fatal error, the watchdog): name the files, not a traceback
    throw new NotebookImportError(
      files.map((f) => f.path).join(', '),
      0,
      `the Python parser could not read these files: ${(e as Error).message.split('\n')[0].slice(0, 300)}`,
    );
  }
  if (raw.error) throw new NotebookImportError(raw.error.file, raw.error.line, raw.error.message);
  return raw;
}

/** One block call, checked against the model (its input NHWC, its arguments fitting the block). */
function importedCall(c: RawCall): ImportedCall {
  const fail = (msg: string): never => {
    throw new NotebookImportError(c.file, c.line, msg);
  };
  if (c.input.shape.length !== 4)
    fail(
      `the input X has shape [${c.input.shape.join(',')}] (line ${c.input.line}); ${c.block} needs NHWC (4 dimensions)`,
    );
  const init = initializerOf(c);
  const tr = effectiveTraining(c.training, c.seeds.learningPhase);
  const call: ImportedCall = {
    id: c.id,
    file: c.file,
    line: c.line,
    function: c.function,
    block: c.block,
    f: c.f,
    filters: c.filters,
    ...(c.s !== undefined ? { s: c.s } : {}),
    training: c.training,
    effectiveTraining: tr.value,
    trainingFrom: tr.from,
    initializer: init.spec,
    initializerText: init.text,
    input: c.input,
    seeds: c.seeds,
    outputShape: [],
    source: c.source,
  };
  let spec: ModelSpec;
  try {
    spec = callSpec(call);
  } catch (e) {
    return fail(
      `${c.block}(f=${c.f}, filters=[${c.filters.join(',')}]${c.s !== undefined ? `, s=${c.s}` : ''}) on X of shape [${c.input.shape.join(',')}] does not fit the model: ${(e as Error).message}`,
    );
  }
  const out = spec.layers.find((l) => l.name === spec.output)!;
  call.outputShape = [c.input.shape[0], ...out.outputShape];
  return call;
}

/** The shape `steps` take of the call's output must be `want` (a check that cannot fit the model is an error naming it). */
function shapeFits(
  file: string,
  line: number,
  call: ImportedCall,
  steps: ViewStep[],
  want: number[],
  what: string,
): void {
  let got: number[];
  try {
    got = viewShape(call.outputShape, steps, `${file}:${line}`);
  } catch (e) {
    throw new NotebookImportError(
      file,
      line,
      `${viewText(steps)} cannot be taken of the ${call.block} output of shape [${call.outputShape.join(',')}] (${call.file}:${call.line}): ${(e as Error).message}`,
    );
  }
  if (got.join(',') !== want.join(',')) {
    throw new NotebookImportError(
      file,
      line,
      `${what} shape [${want.join(',')}], which does not fit the model: ${viewText(steps)} of ${call.block}(f=${call.f}, filters=[${call.filters.join(',')}]${call.s !== undefined ? `, s=${call.s}` : ''}) on X [${call.input.shape.join(',')}] (${call.file}:${call.line}) has shape [${got.join(',')}]`,
    );
  }
}

/** An assert on a shape, or an np.allclose with its tolerance as written (or numpy's defaults). */
function checkOf(k: RawCheck, calls: ImportedCall[]): ImportedCheck {
  const call = calls[k.call];
  const id = `${k.file}:${k.line}`;
  if (k.kind === 'shape') {
    shapeFits(k.file, k.line, call, k.steps, k.shape!, 'the asserted');
    return {
      id,
      kind: 'shape',
      file: k.file,
      line: k.line,
      call: call.id,
      steps: k.steps,
      view: viewText(k.steps),
      shape: k.shape,
      message: k.message,
      source: k.source,
    };
  }
  const e = k.expected!;
  shapeFits(k.file, k.line, call, k.steps, e.shape, `the expected values (${e.file ?? k.file}:${e.line}) have`);
  const t = k.tolerance!;
  const given = [t.rtolGiven ? `rtol=${t.rtol}` : null, t.atolGiven ? `atol=${t.atol}` : null]
    .filter(Boolean)
    .join(', ');
  return {
    id,
    kind: 'allclose',
    file: k.file,
    line: k.line,
    call: call.id,
    steps: k.steps,
    view: viewText(k.steps),
    expected: {
      shape: e.shape,
      data: e.data,
      dtype: e.dtype ?? 'float64',
      file: e.file ?? k.file,
      line: e.line,
      lines: e.lines ?? [],
    },
    tolerance: {
      atol: t.atol,
      rtol: t.rtol,
      from: `np.allclose at ${k.file}:${k.line} (${given || 'numpy defaults rtol=1e-05, atol=1e-08'}${given && !(t.rtolGiven && t.atolGiven) ? '; the other numpy default' : ''})`,
    },
    message: k.message,
    source: k.source,
  };
}

/** A printed cell output: compared to the printing precision (half a unit of the last digit). */
function printedCheck(p: RawPrinted, calls: ImportedCall[]): ImportedCheck {
  const call = calls[p.print.call];
  const v = flatten(p.value);
  const where = `${p.file} cell ${p.cell} output line ${p.outputLine}`;
  shapeFits(p.file, p.outputLine, call, p.print.steps, v.shape, `the printed output (${where}) has`);
  const d = decimalsOf(p.text);
  // A print shows the float32 value to `d` decimals (numpy: shortest repr or the np.around digits): half a unit
  // of the last digit, plus numpy's default rtol for the float32 sums that differ between machines.
  return {
    id: `${p.file}#cell${p.cell}:${p.outputLine}`,
    kind: 'printed',
    file: p.file,
    line: p.outputLine,
    call: call.id,
    steps: p.print.steps,
    view: viewText(p.print.steps),
    expected: { shape: v.shape, data: v.data, dtype: 'float64', file: p.file, line: p.outputLine, lines: [] },
    tolerance: {
      atol: Number((0.5 * 10 ** -d).toPrecision(12)),
      rtol: 1e-5,
      from: `printed with ${d} decimals (${where}, print at ${p.print.file}:${p.print.line}): atol = half a unit of the last digit, rtol = numpy's default`,
    },
    message: null,
    source: p.print.source,
  };
}

/** Reads the files (roles: public tests, outputs.py, notebook) and checks every call and check against the model. */
export async function importRevision(files: { role: SourceFile['role']; path: string }[]): Promise<ImportedRevision> {
  const { sources, imported } = readSources(files);
  const raw = await extract(sources, files);
  const calls = raw.calls.map(importedCall);
  const checks: ImportedCheck[] = [
    ...raw.checks.map((k) => checkOf(k, calls)),
    ...raw.printed.map((p) => printedCheck(p, calls)),
  ];
  const notes = raw.notes.map((n) =>
    n.ignored
      ? `${n.file}:${n.line}: not compared (assert ${String(n.ignored)})`
      : `${n.file}:${n.line}: invokes ${String(n.invokes)}(${String(n.with)})`,
  );
  return { sources: imported, calls, checks, notes, warnings: raw.warnings ?? [] };
}
