/**
 * The case pack (docs/case-packs.md): what `export-cases` writes and `judge` reads, so that a
 * device without Node can run the golden cases (Python and numpy only) and the outputs it records
 * are judged here by the same code as `run`.
 *
 *   PACK/manifest.json   this file's PackManifest: models (spec JSON, weights per layer), cases
 *                        (input, training, captures) and, for every case and model, the file names
 *                        the device writes under its outputs folder
 *   PACK/README.md       how to produce the outputs (with the Python client or by hand)
 *   PACK/models/<m>/spec.json, PACK/models/<m>/weights/<layer>.<weight>.npy
 *   PACK/inputs/<case>.npy
 *
 * Every file is named with its sha256 so the device can check what it received. Paths are relative
 * (to the pack, or to the outputs folder for `outputs`) and never leave their folder.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { ModelArgs } from '../model/model-args';
import type { CaseWeights } from '../golden/manifest';

export const PACK_FORMAT = 'resnet-conformance/case-pack';
export const PACK_FORMAT_VERSION = 1;
export const PACK_MANIFEST = 'manifest.json';

export interface PackFile {
  file: string;
  sha256: string;
}

export interface PackTensorFile extends PackFile {
  shape: number[];
  dtype: 'float32' | 'float64';
}

export interface PackWeight extends PackTensorFile {
  layer: string;
  /** Keras variable name: kernel, bias, gamma, beta, moving_mean, moving_variance. */
  name: string;
  trainable: boolean;
}

/** Files the device writes for a model, relative to the outputs folder. */
export interface PackModelOutputs {
  /** JSON {"total", "trainable", "nonTrainable"} as the runtime counts its parameters. */
  paramCount: string;
  /** Text: why the model could not be built (then no case of the model has outputs). */
  buildError: string;
}

export interface PackModel {
  id: string;
  args: ModelArgs;
  /** The case's weights record (imported revisions, perturbed parameters); null: Keras 3's initial weights. */
  weightsRecord: CaseWeights | null;
  spec: PackFile;
  weights: PackWeight[];
  outputs: PackModelOutputs;
}

/** Files the device writes for one forward pass, relative to the outputs folder. */
export interface PackRunOutputs {
  /** The model's output (.npy, NHWC, batch first). */
  output: string;
  /** Capture name -> .npy file. */
  intermediates: Record<string, string>;
}

export interface PackCase {
  id: string;
  model: string;
  training: boolean;
  input: PackTensorFile;
  /** Layer names (and `<dense>:logits`) whose outputs the judge compares besides the output. */
  capture: string[];
  /** sha256 of the fixture case's JSON: the judge refuses a pack made from other fixtures. */
  fixtureSha256: string;
  outputs: PackRunOutputs & {
    /** Text: why the run failed (the case is then 'error'). */
    error: string;
  };
  /**
   * The run the judge's per-layer diagnosis needs when the case fails numerically: every layer
   * captured (src/diagnose, captureNamesFor). Null when exported with --no-diagnosis.
   */
  diagnosis: (PackRunOutputs & { capture: string[] }) | null;
}

export interface PackManifest {
  format: typeof PACK_FORMAT;
  formatVersion: typeof PACK_FORMAT_VERSION;
  tool: { name: string; version: string };
  createdAt: string;
  /** sha256 of the fixture manifest the pack was exported from. */
  fixturesSha256: string;
  /** What `judge` uses when not told otherwise (export-cases --adapter / --profile). */
  judge: { adapterId?: string; profile?: string };
  models: PackModel[];
  cases: PackCase[];
}

export class PackError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PackError';
  }
}

/** A file name from a case id or capture name: letters, digits, `.`, `_`, `-`; `/` becomes `--`. */
export function slug(s: string): string {
  return s.replace(/\//g, '--').replace(/[^A-Za-z0-9._-]/g, '_');
}

/** A relative path that stays inside its folder (manifests come from elsewhere). */
export function safeRelative(p: string): boolean {
  return p.length > 0 && !path.isAbsolute(p) && !p.split(/[\\/]/).includes('..') && !/^[A-Za-z]:/.test(p);
}

type Json = unknown;

function what(v: Json): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `'${v.slice(0, 40)}'`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}

/** Structural validation of a pack manifest; every message names the file and the JSON path. */
export function parsePackManifest(json: Json, file: string): PackManifest {
  const fail = (where: string, msg: string): never => {
    throw new PackError(`${file}: ${where}: ${msg}`);
  };
  const obj = (v: Json, where: string, required: string[]): Record<string, Json> => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(where, `expected an object, got ${what(v)}`);
    const o = v as Record<string, Json>;
    for (const k of required) if (!(k in o)) fail(where, `missing field '${k}'`);
    return o;
  };
  const str = (v: Json, where: string): string =>
    typeof v === 'string' && v.length > 0 ? v : fail(where, `expected a non-empty string, got ${what(v)}`);
  const rel = (v: Json, where: string): string => {
    const s = str(v, where);
    return safeRelative(s) ? s : fail(where, `'${s}' must be a relative path inside its folder`);
  };
  const strList = (v: Json, where: string): string[] =>
    Array.isArray(v) ? v.map((x, i) => str(x, `${where}[${i}]`)) : fail(where, `expected an array, got ${what(v)}`);
  const sha = (v: Json, where: string): string => {
    const s = str(v, where);
    return /^[0-9a-f]{64}$/.test(s) ? s : fail(where, `expected a sha256 (64 lowercase hex digits), got '${s}'`);
  };
  const fileRef = (v: Json, where: string): PackFile => {
    const o = obj(v, where, ['file', 'sha256']);
    return { file: rel(o.file, `${where}.file`), sha256: sha(o.sha256, `${where}.sha256`) };
  };
  const tensorRef = (v: Json, where: string): PackTensorFile => {
    const o = obj(v, where, ['file', 'sha256', 'shape', 'dtype']);
    const shape = Array.isArray(o.shape)
      ? o.shape.map((d, i) =>
          Number.isInteger(d) && (d as number) >= 0
            ? (d as number)
            : fail(`${where}.shape[${i}]`, 'expected an integer >= 0'),
        )
      : fail(`${where}.shape`, 'expected an array');
    if (o.dtype !== 'float32' && o.dtype !== 'float64')
      fail(`${where}.dtype`, `expected 'float32' or 'float64', got ${what(o.dtype)}`);
    return { ...fileRef(v, where), shape, dtype: o.dtype as 'float32' | 'float64' };
  };
  const runOutputs = (v: Json, where: string): PackRunOutputs => {
    const o = obj(v, where, ['output', 'intermediates']);
    const im = obj(o.intermediates, `${where}.intermediates`, []);
    return {
      output: rel(o.output, `${where}.output`),
      intermediates: Object.fromEntries(
        Object.entries(im).map(([k, f]) => [k, rel(f, `${where}.intermediates['${k}']`)]),
      ),
    };
  };

  const m = obj(json, 'manifest', ['format', 'formatVersion', 'fixturesSha256', 'models', 'cases']);
  if (m.format !== PACK_FORMAT)
    fail('format', `expected '${PACK_FORMAT}', got ${what(m.format)} (is this a case pack?)`);
  if (m.formatVersion !== PACK_FORMAT_VERSION)
    fail(
      'formatVersion',
      `expected ${PACK_FORMAT_VERSION}, got ${what(m.formatVersion)} (exported by another version)`,
    );
  const tool = m.tool && typeof m.tool === 'object' ? (m.tool as Record<string, Json>) : {};
  const judge = m.judge === undefined ? {} : obj(m.judge, 'judge', []);
  if (!Array.isArray(m.models) || m.models.length === 0) fail('models', 'expected a non-empty array');
  const models = (m.models as Json[]).map((v, i): PackModel => {
    const w = `models[${i}]`;
    const o = obj(v, w, ['id', 'args', 'spec', 'weights', 'outputs']);
    const args = obj(o.args, `${w}.args`, ['model']) as unknown as ModelArgs;
    const outs = obj(o.outputs, `${w}.outputs`, ['paramCount', 'buildError']);
    if (!Array.isArray(o.weights)) fail(`${w}.weights`, 'expected an array');
    return {
      id: str(o.id, `${w}.id`),
      args,
      weightsRecord: (o.weightsRecord ?? null) as CaseWeights | null,
      spec: fileRef(o.spec, `${w}.spec`),
      weights: (o.weights as Json[]).map((x, j) => {
        const ww = `${w}.weights[${j}]`;
        const wo = obj(x, ww, ['layer', 'name', 'trainable']);
        if (typeof wo.trainable !== 'boolean') fail(`${ww}.trainable`, 'expected true or false');
        return {
          ...tensorRef(x, ww),
          layer: str(wo.layer, `${ww}.layer`),
          name: str(wo.name, `${ww}.name`),
          trainable: wo.trainable as boolean,
        };
      }),
      outputs: {
        paramCount: rel(outs.paramCount, `${w}.outputs.paramCount`),
        buildError: rel(outs.buildError, `${w}.outputs.buildError`),
      },
    };
  });
  const modelIds = new Set(models.map((x) => x.id));
  if (!Array.isArray(m.cases) || m.cases.length === 0) fail('cases', 'expected a non-empty array');
  const seen = new Set<string>();
  const cases = (m.cases as Json[]).map((v, i): PackCase => {
    const w = `cases[${i}]`;
    const o = obj(v, w, ['id', 'model', 'training', 'input', 'capture', 'fixtureSha256', 'outputs', 'diagnosis']);
    const id = str(o.id, `${w}.id`);
    if (seen.has(id)) fail(`${w}.id`, `duplicate case id '${id}'`);
    seen.add(id);
    const model = str(o.model, `${w}.model`);
    if (!modelIds.has(model)) fail(`${w}.model`, `no model '${model}' in models`);
    if (typeof o.training !== 'boolean') fail(`${w}.training`, 'expected true or false');
    const outs = obj(o.outputs, `${w}.outputs`, ['output', 'intermediates', 'error']);
    let diagnosis: PackCase['diagnosis'] = null;
    if (o.diagnosis !== null) {
      const d = obj(o.diagnosis, `${w}.diagnosis`, ['capture', 'output', 'intermediates']);
      diagnosis = { ...runOutputs(d, `${w}.diagnosis`), capture: strList(d.capture, `${w}.diagnosis.capture`) };
    }
    return {
      id,
      model,
      training: o.training as boolean,
      input: tensorRef(o.input, `${w}.input`),
      capture: strList(o.capture, `${w}.capture`),
      fixtureSha256: sha(o.fixtureSha256, `${w}.fixtureSha256`),
      outputs: { ...runOutputs(outs, `${w}.outputs`), error: rel(outs.error, `${w}.outputs.error`) },
      diagnosis,
    };
  });
  return {
    format: PACK_FORMAT,
    formatVersion: PACK_FORMAT_VERSION,
    tool: { name: String(tool.name ?? ''), version: String(tool.version ?? '') },
    createdAt: String(m.createdAt ?? ''),
    fixturesSha256: sha(m.fixturesSha256, 'fixturesSha256'),
    judge: {
      ...(judge.adapterId !== undefined ? { adapterId: str(judge.adapterId, 'judge.adapterId') } : {}),
      ...(judge.profile !== undefined ? { profile: str(judge.profile, 'judge.profile') } : {}),
    },
    models,
    cases,
  };
}

/** Reads and validates PACK/manifest.json. */
export function readPackManifest(packDir: string): PackManifest {
  const file = path.join(packDir, PACK_MANIFEST);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new PackError(
      `${file}: ${code === 'ENOENT' ? 'no such file (is this a folder written by export-cases?)' : `cannot read (${code ?? (e as Error).message})`}`,
    );
  }
  let json: Json;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new PackError(`${file}: bad JSON: ${(e as Error).message}`);
  }
  return parsePackManifest(json, file);
}
