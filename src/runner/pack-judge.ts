/**
 * `judge`: outputs recorded anywhere from a case pack (./pack-format.ts) judged here, by the same
 * code as `run`: a RecordedAdapter hands the recorded tensors to executeCase (the case judge of
 * src/golden/run-case.ts, the tolerance table, the status rules, the parameter count against
 * Keras's), and every 'fail-numeric' case gets the per-layer diagnosis of diagnoseFailure from the
 * pack's all-layer run. Nothing here compares a tensor itself.
 *
 * A recorded output that is missing or unreadable makes the run of its case throw, which
 * executeCase reports as 'error' naming the file: never a pass.
 */
import * as fs from 'fs';
import * as path from 'path';
import type {
  Adapter,
  AdapterDescription,
  AdapterEntry,
  PrecisionProfile,
  ProbeResult,
  RunOptions,
  RunResult,
} from '../adapters/types';
import { collectRunInfo, toolVersion } from '../environment/run-info';
import { loadManifest } from '../golden/load';
import type { FixtureCase, FixtureManifest } from '../golden/manifest';
import { MANIFEST_FILE } from '../golden/paths';
import type { ModelSpec, ModelWeights, ParamCount } from '../model/types';
import {
  blankResult,
  REPORT_SCHEMA_VERSION,
  type AdapterReport,
  type CaseResult,
  type ConformanceReport,
} from '../report/schema';
import type { Tensor } from '../tensor';
import { encodeNpy, parseNpy } from '../tensor/npy';
import { sha256 } from '../util/fs';
import { filterCases } from './case-filter';
import { diagnoseFailure } from './diagnose-failure';
import { casesByModel, executeCase, type EvaluationContext } from './execute-case';
import { fixtureSha256 } from './pack-export';
import {
  PackError,
  readPackManifest,
  type PackCase,
  type PackManifest,
  type PackModel,
  type PackRunOutputs,
} from './pack-format';
import { DEFAULT_REGRESSION_FACTOR } from './regression';
import { caseInfos } from './run';
import { countsFor, summarize } from './summary';

/** What the Python client's `play` writes next to the outputs (optional for outputs made by hand). */
export const ADAPTER_RECORD = 'adapter.json';

const PROFILES: readonly PrecisionProfile[] = ['fp64-reference', 'fp32-cpu', 'tf32-gpu', 'webgl-f16'];

export function parseProfile(p: string, where: string): PrecisionProfile {
  if (!(PROFILES as readonly string[]).includes(p))
    throw new PackError(`${where}: unknown profile '${p}' (expected ${PROFILES.join(', ')})`);
  return p as PrecisionProfile;
}

interface AdapterRecord {
  name?: string;
  version?: string;
  probe?: { available: boolean; reason?: string; fix?: string };
  describe?: AdapterDescription;
}

function readAdapterRecord(outputsDir: string): AdapterRecord | null {
  const file = path.join(outputsDir, ADAPTER_RECORD);
  if (!fs.existsSync(file)) return null;
  let o: unknown;
  try {
    o = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new PackError(`${file}: bad JSON: ${(e as Error).message}`);
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new PackError(`${file}: expected an object`);
  return o as AdapterRecord;
}

/** The recorded outputs of one pack as an Adapter: build checks the model, run reads the files. */
export class RecordedAdapter implements Adapter {
  private current: PackCase | undefined;
  private built: PackModel | undefined;
  /** Elements of the spec's largest layer output (per batch row): bounds what a recorded file may hold. */
  private largestLayer = 0;

  constructor(
    readonly id: string,
    private readonly pack: PackManifest,
    private readonly outputsDir: string,
    private readonly record: AdapterRecord | null,
  ) {}

  /** The case whose recorded outputs the next build/run/paramCount read. */
  select(caseId: string): void {
    this.current = this.pack.cases.find((c) => c.id === caseId);
    if (!this.current) throw new PackError(`case '${caseId}' is not in the pack`);
  }

  private file(rel: string): string {
    return path.join(this.outputsDir, rel);
  }

  private readText(rel: string): string | undefined {
    try {
      return fs.readFileSync(this.file(rel), 'utf8').trim();
    } catch {
      return undefined;
    }
  }

  private readTensor(rel: string, what: string, batch: number): Tensor | undefined {
    const file = this.file(rel);
    let bytes: Buffer;
    try {
      // Bounded like an external program's answer: no recorded tensor can be larger than the spec's
      // largest layer output at this batch as float64, plus room for the .npy header.
      const limit = 8 * batch * this.largestLayer + (1 << 16);
      const size = fs.statSync(file).size;
      if (size > limit)
        throw new Error(`${size} bytes, more than any tensor of this model can take (${limit}): not read`);
      bytes = fs.readFileSync(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new Error(`${what}: cannot read ${file} (${(e as Error).message})`);
    }
    try {
      return parseNpy(bytes, file);
    } catch (e) {
      throw new Error(`${what}: malformed .npy: ${(e as Error).message}`);
    }
  }

  async probe(): Promise<ProbeResult> {
    if (this.record?.probe && this.record.probe.available === false)
      return {
        available: false,
        reason: `on the device that played the pack: ${this.record.probe.reason ?? 'unavailable (no reason given)'}`,
        ...(this.record.probe.fix ? { fix: this.record.probe.fix } : {}),
      };
    return { available: true };
  }

  async describe(): Promise<AdapterDescription> {
    const d = this.record?.describe;
    const note = `recorded outputs judged offline: ${this.outputsDir}`;
    if (d && typeof d === 'object') {
      // Written on the device (by play or by hand): every field the reports read, whatever was recorded.
      const text = (v: unknown) => (typeof v === 'string' && v ? v : 'unknown (not recorded)');
      const settings = d.settings && typeof d.settings === 'object' && !Array.isArray(d.settings) ? d.settings : {};
      const notes = Array.isArray(d.notes) ? d.notes.map(String) : [];
      return {
        runtime: text(d.runtime),
        version: text(d.version),
        device: text(d.device),
        precision: text(d.precision),
        settings: { ...settings },
        notes: [...notes, note],
      };
    }
    return {
      runtime: this.record?.name ?? 'recorded outputs',
      version: this.record?.version ?? 'unknown',
      device: 'unknown (not recorded)',
      precision: 'unknown (not recorded)',
      settings: {},
      notes: [note, `no ${ADAPTER_RECORD}: the device, runtime and version were not recorded`],
    };
  }

  async build(spec: ModelSpec, weights: ModelWeights): Promise<void> {
    this.built = undefined;
    const k = this.current;
    if (!k) throw new Error('internal: build before select');
    const m = this.pack.models.find((x) => x.id === k.model)!;
    // The device ran the pack's model: it must be the one this harness judges against.
    if (sha256(JSON.stringify(spec)) !== m.spec.sha256)
      throw new Error(
        `the pack's model ${m.id} (${m.spec.file}) is not the spec this harness builds for case '${k.id}': re-export the pack`,
      );
    const byName = new Map(m.weights.map((w) => [`${w.layer}/${w.name}`, w]));
    let n = 0;
    for (const [layer, ws] of weights)
      for (const w of ws) {
        n++;
        const p = byName.get(`${layer}/${w.name}`);
        if (!p || sha256(encodeNpy({ shape: w.shape, data: w.data })) !== p.sha256)
          throw new Error(
            `the pack's model ${m.id} has other weights than case '${k.id}' (${layer}/${w.name}): re-export the pack`,
          );
      }
    if (n !== m.weights.length)
      throw new Error(`the pack's model ${m.id} has ${m.weights.length} weights, case '${k.id}' ${n}`);
    const err = this.readText(m.outputs.buildError);
    if (err !== undefined)
      throw new Error(`the build failed on the device (${this.file(m.outputs.buildError)}): ${err}`);
    this.built = m;
    this.largestLayer = Math.max(1, ...spec.layers.map((l) => l.outputShape.reduce((p, d) => p * d, 1)));
  }

  async run(input: Tensor, opts: RunOptions): Promise<RunResult> {
    const k = this.current;
    if (!k || !this.built || this.built.id !== k.model) throw new Error('internal: run before build');
    if (opts.training !== k.training) throw new Error(`case '${k.id}' was recorded with training=${k.training}`);
    const wanted = opts.capture ?? [];
    let rec: PackRunOutputs;
    if (wanted.every((c) => k.capture.includes(c))) {
      const err = this.readText(k.outputs.error);
      if (err !== undefined) throw new Error(`the run failed on the device (${this.file(k.outputs.error)}): ${err}`);
      rec = k.outputs;
    } else if (k.diagnosis && wanted.every((c) => k.diagnosis!.capture.includes(c))) {
      rec = k.diagnosis;
    } else {
      throw new Error(
        `case '${k.id}': the pack recorded no run capturing ${wanted
          .filter((c) => !k.capture.includes(c))
          .slice(0, 3)
          .join(', ')}${k.diagnosis ? '' : ' (exported with --no-diagnosis)'}`,
      );
    }
    const batch = input.shape[0] ?? 1;
    const output = this.readTensor(rec.output, `case '${k.id}' output`, batch);
    if (!output) throw new Error(`case '${k.id}': no output recorded: ${this.file(rec.output)} is missing`);
    const intermediates: Record<string, Tensor> = {};
    // A capture the device did not write is left out: the judge reports it missing ('error'), as for `run`.
    for (const name of wanted) {
      const t = this.readTensor(rec.intermediates[name], `case '${k.id}' capture '${name}'`, batch);
      if (t) intermediates[name] = t;
    }
    return { output, intermediates };
  }

  async paramCount(): Promise<ParamCount> {
    const m = this.built;
    if (!m) throw new Error('internal: paramCount before build');
    const file = this.file(m.outputs.paramCount);
    const text = this.readText(m.outputs.paramCount);
    if (text === undefined) throw new Error(`no parameter count recorded: ${file} is missing`);
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(text) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`${file}: bad JSON: ${(e as Error).message}`);
    }
    if (typeof o?.error === 'string') throw new Error(`paramCount() failed on the device (${file}): ${o.error}`);
    const n = (k: string): number => {
      const v = o?.[k];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
        throw new Error(`${file}: '${k}' must be an integer >= 0, got ${JSON.stringify(v)}`);
      return v;
    };
    return { total: n('total'), trainable: n('trainable'), nonTrainable: n('nonTrainable') };
  }

  async dispose(): Promise<void> {
    this.built = undefined;
  }
}

export interface JudgeConfig {
  packDir: string;
  outputsDir: string;
  fixturesDir: string;
  /** Report id of the adapter (default: the name recorded in adapter.json, else the pack's judge.adapterId, else 'recorded'). */
  adapterId?: string;
  /** Tolerance-table column (default: the pack's judge.profile); required one way or the other. */
  profile?: PrecisionProfile;
  cases?: string;
  diagnose: boolean;
  runId: string;
}

export interface JudgeSetup {
  pack: PackManifest;
  entry: AdapterEntry;
  adapter: RecordedAdapter;
  cases: FixtureCase[];
  manifest: FixtureManifest;
  manifestText: string;
}

/** Reads the pack and the outputs folder and checks them against the fixtures; throws PackError (a usage error). */
export function prepareJudge(cfg: JudgeConfig): JudgeSetup {
  const pack = readPackManifest(cfg.packDir);
  if (!fs.existsSync(cfg.outputsDir) || !fs.statSync(cfg.outputsDir).isDirectory())
    throw new PackError(`${cfg.outputsDir}: no such folder (the outputs the device wrote for this pack)`);
  const record = readAdapterRecord(cfg.outputsDir);
  const profileText = cfg.profile ?? pack.judge.profile;
  if (!profileText)
    throw new PackError(
      `no precision profile: give --profile (fp32-cpu, tf32-gpu, fp64-reference, webgl-f16), the tolerance column the device's arithmetic is judged by`,
    );
  const profile = parseProfile(profileText, cfg.profile ? '--profile' : `${cfg.packDir}/manifest.json judge.profile`);
  // The name the device's adapter gave itself before the pack's default: one pack is often played by several.
  const id = cfg.adapterId ?? record?.name ?? pack.judge.adapterId ?? 'recorded';
  const manifest = loadManifest(cfg.fixturesDir);
  const manifestText = fs.readFileSync(path.join(cfg.fixturesDir, MANIFEST_FILE), 'utf8');
  const byId = new Map(manifest.cases.map((k) => [k.id, k]));
  const ids = filterCases(
    pack.cases.map((c) => c.id),
    cfg.cases,
  );
  const cases = ids.map((id) => {
    const k = byId.get(id);
    if (!k)
      throw new PackError(
        `pack case '${id}' is not in ${cfg.fixturesDir}/${MANIFEST_FILE}: the pack was exported from other fixtures`,
      );
    if (fixtureSha256(k) !== pack.cases.find((c) => c.id === id)!.fixtureSha256)
      throw new PackError(
        `pack case '${id}' differs from the fixture case of that id: the pack was exported from other fixtures; re-export it`,
      );
    return k;
  });
  const adapter = new RecordedAdapter(id, pack, cfg.outputsDir, record);
  const entry: AdapterEntry = {
    id,
    summary: `outputs recorded from the case pack ${cfg.packDir} (${pack.cases.length} cases) in ${cfg.outputsDir}, judged offline`,
    profile,
    outOfTheBox: false,
    create: () => adapter,
  };
  return { pack, entry, adapter, cases, manifest, manifestText };
}

/** Judges the recorded outputs: one report, as `run` writes it for one adapter. */
export async function judgePack(cfg: JudgeConfig): Promise<ConformanceReport> {
  const startedAt = new Date();
  const t0 = performance.now();
  const { entry, adapter, cases, manifest, manifestText } = prepareJudge(cfg);
  const probe = await adapter.probe();
  const description = await adapter.describe();
  const results: CaseResult[] = [];
  // Grouped by model (first-appearance order), each model built once, as the runner's worker does.
  const ordered = [...casesByModel(cases).values()].flat();
  if (!probe.available) {
    for (const k of cases)
      results.push(
        blankResult(entry.id, k.id, 'unavailable', `${probe.reason}${probe.fix ? ` (fix: ${probe.fix})` : ''}`),
      );
  } else {
    const ctx: EvaluationContext = { fixturesDir: cfg.fixturesDir, manifest };
    const byCase = new Map<string, CaseResult>();
    for (const k of ordered) {
      adapter.select(k.id);
      byCase.set(k.id, await executeCase(adapter, entry, k, ctx));
    }
    if (cfg.diagnose)
      for (const k of ordered) {
        const r = byCase.get(k.id)!;
        if (r.status !== 'fail-numeric') continue;
        adapter.select(k.id);
        ctx.built = undefined; // build again for this case (its model's spec and weights checked again)
        const d = await diagnoseFailure(adapter, entry, k, ctx);
        if ('diagnosis' in d) r.diagnosis = d.diagnosis;
        else r.diagnosisError = d.error;
      }
    for (const k of cases) results.push(byCase.get(k.id)!);
  }
  const adapters: AdapterReport[] = [
    {
      id: entry.id,
      summary: entry.summary,
      profile: entry.profile,
      outOfTheBox: false,
      explicitlyRequested: true,
      available: probe.available,
      ...(probe.available ? {} : { unavailableReason: probe.reason, ...(probe.fix ? { fix: probe.fix } : {}) }),
      description,
      worker: null,
      durationMs: performance.now() - t0,
      counts: countsFor(results, entry.id),
      parts: [0],
    },
  ];
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: 'resnet-conformance', version: toolVersion() },
    runId: cfg.runId,
    createdAt: new Date().toISOString(),
    fixtures: {
      manifest: path.join(cfg.fixturesDir, MANIFEST_FILE),
      sha256: sha256(manifestText),
      caseCount: manifest.cases.length,
    },
    parts: [
      {
        runId: cfg.runId,
        startedAt: startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        durationMs: performance.now() - t0,
        options: {
          adapters: [entry.id],
          adapterSelection: 'explicit',
          cases: cfg.cases ?? null,
          shard: null,
          timeoutS: 0,
          jobs: 1,
          regressionFactor: DEFAULT_REGRESSION_FACTOR,
          baseline: null,
          diagnose: cfg.diagnose,
        },
        // This machine (the judge's); the device's runtime is the adapter's description.
        environment: collectRunInfo({ [entry.id]: description }),
      },
    ],
    cases: caseInfos(cases),
    adapters,
    results,
    baseline: null,
    summary: summarize(results, adapters),
  };
}
