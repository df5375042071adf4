/**
 * The sweep: deterministic configurations (./configs.ts) run on every chosen adapter, each output
 * judged against the float64 oracle with the error bound of the adapter's precision profile
 * (./bounds.ts); failures shrunk (./shrink.ts), grouped by minimal form, and given a standalone
 * reproduction (./repro.ts). Adapters run in this process, one instance each for the whole sweep.
 */
import { ADAPTERS, getAdapterEntry } from '../adapters/registry';
import type { Adapter, PrecisionProfile } from '../adapters/types';
import {
  BOUND_PROFILES,
  judgeAgainstBound,
  oracleWithBound,
  type BatchNormForms,
  type Judgement,
  type OracleBound,
} from './bounds';
import { batchNormFormsOf, notApplicableReason } from './capabilities';
import {
  buildSweepCase,
  describeConfig,
  generateConfig,
  SWEEP_KINDS,
  type SweepCase,
  type SweepConfig,
  type SweepKind,
} from './configs';
import { groupKey, shrinkConfig } from './shrink';

export type Outcome = 'pass' | 'fail' | 'error' | 'timeout' | 'unbounded' | 'not-applicable';
export const OUTCOMES: readonly Outcome[] = ['pass', 'fail', 'error', 'timeout', 'unbounded', 'not-applicable'];
export type Counts = Record<Outcome, number>;

export function emptyCounts(): Counts {
  return { pass: 0, fail: 0, error: 0, timeout: 0, unbounded: 0, 'not-applicable': 0 };
}

export interface ConfigResult {
  outcome: Outcome;
  /** Judgement of the output (absent for errors and not-applicable). */
  judgement?: Judgement;
  /** The error or timeout message, or the not-applicable reason. */
  message?: string;
}

export interface FailureRecord {
  index: number;
  adapter: string;
  config: SweepConfig;
  description: string;
  outcome: 'fail' | 'error' | 'timeout';
  reason: string;
  worstRatio?: number;
  worst?: Judgement['worst'];
  /** Its minimal form's group key (absent when it was not shrunk). */
  group?: string;
}

export interface SweepGroup {
  key: string;
  adapter: string;
  minimal: SweepConfig;
  description: string;
  outcome: 'fail' | 'error';
  reason: string;
  worst?: Judgement['worst'];
  /** Sweep indices whose failures shrank to this form. */
  indices: number[];
  shrink: { evaluations: number; steps: number; exhausted: boolean };
  /** Standalone reproduction script (path relative to the report), when one could be written. */
  repro?: string;
  /** Whether running that script reproduced it (exit 1), with what it printed last. */
  reproVerified?: { exitCode: number | null; tail: string };
  /** Why there is no standalone script. */
  noRepro?: string;
}

export interface AdapterSweep {
  adapter: string;
  profile: PrecisionProfile;
  available: boolean;
  reason?: string;
  fix?: string;
  counts: Counts;
  byKind: Record<SweepKind, Counts>;
  /** Largest |got − expected| / bound over the passing configurations (the headroom left). */
  worstPassRatio: number;
  /** Time spent in build + run of this adapter (ms), for configurations per minute. */
  adapterMs: number;
  configsPerMinute: number | null;
}

export interface SweepReport {
  schema: 'resnet-conformance/sweep/1';
  seed: number;
  kinds: SweepKind[];
  budget: number | null;
  seconds: number | null;
  shard: { index: number; count: number } | null;
  /** Configurations generated (this shard's). */
  configurations: number;
  startedAt: string;
  durationMs: number;
  adapters: AdapterSweep[];
  failures: FailureRecord[];
  groups: SweepGroup[];
  /** Shrinking was capped: failures not shrunk. */
  unshrunk: number;
}

export interface SweepOptions {
  adapters: string[];
  seed: number;
  kinds?: SweepKind[];
  /** Number of configuration indices (before sharding). */
  budget?: number;
  /** Wall-clock limit for the configuration loop, seconds (stops between configurations). */
  seconds?: number;
  shard?: { index: number; count: number };
  /** Failures shrunk per adapter (default 10); 0 turns shrinking off. */
  maxShrink?: number;
  /** Predicate evaluations per shrink (default 150). */
  shrinkEvaluations?: number;
  progress?: (line: string) => void;
  /** Creates the adapter (tests: a planted-defect adapter); default the registry's. */
  create?: (id: string) => Adapter;
  /** Profile of an adapter (default the registry's). */
  profileOf?: (id: string) => PrecisionProfile;
  /** Why an adapter runs inference only (default the registry's `inferenceOnly`; undefined: it does not). */
  inferenceOnlyOf?: (id: string) => string | undefined;
  /** BatchNormalization forms of an adapter (default ./capabilities.ts `batchNormFormsOf`). */
  formsOf?: (id: string) => BatchNormForms;
  /**
   * Longest build + run of one configuration, ms (default DEFAULT_CONFIG_TIMEOUT_MS). Past it the
   * configuration is a 'timeout' (never a pass, not shrunk), the adapter instance is abandoned
   * (disposed without waiting) and a fresh one is created and probed for the next configuration.
   */
  configTimeoutMs?: number;
}

/**
 * Default per-configuration limit: generous against the slowest adapter measured (WebGPU on
 * SwiftShader, a few seconds a configuration; docs/notes/2026-12-07-sweep-first-runs.md).
 */
export const DEFAULT_CONFIG_TIMEOUT_MS = 300_000;

/** Thrown (internally) when a configuration's build + run outlives its limit. */
class ConfigTimeout extends Error {}

/**
 * `work` or a ConfigTimeout after `ms`, whichever settles first. Sound for every adapter whose
 * build/run leave the event loop free while they wait (native threads, child processes, the
 * browser): a hang there is a promise that never settles. JavaScript or WebAssembly that spins in
 * this thread cannot be preempted from it; such a runtime needs its own process (docs/sweep.md).
 */
function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ConfigTimeout(`build + run took longer than ${ms / 1000} s`)), ms);
  });
  return Promise.race([work, limit]).finally(() => clearTimeout(timer));
}

/**
 * Runs one configuration on one adapter and judges it (the oracle is computed by the caller). A
 * build + run longer than `timeoutMs` is outcome 'timeout'; the adapter is then in an unknown state
 * and the caller must not use it again.
 */
export async function runOne(
  adapter: Adapter,
  sc: SweepCase,
  oracle: OracleBound,
  timeoutMs: number = DEFAULT_CONFIG_TIMEOUT_MS,
): Promise<{ result: ConfigResult; ms: number }> {
  const t0 = Date.now();
  try {
    const r = await withTimeout(
      (async () => {
        await adapter.build(sc.spec, sc.weights);
        return adapter.run(sc.input, { training: sc.training });
      })(),
      timeoutMs,
    );
    const ms = Date.now() - t0;
    const j = judgeAgainstBound(oracle, r.output);
    return { result: { outcome: j.status, judgement: j, message: j.reason ?? undefined }, ms };
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const outcome = err instanceof ConfigTimeout ? 'timeout' : 'error';
    return { result: { outcome, message: msg.split('\n')[0].slice(0, 400) }, ms: Date.now() - t0 };
  }
}

function oracleFor(sc: SweepCase, profile: PrecisionProfile, forms: BatchNormForms): OracleBound {
  return oracleWithBound(sc.spec, sc.weights, sc.input, sc.training, BOUND_PROFILES[profile], forms);
}

/** A fresh instance of `id` after a timeout, probed (bounded too); an Error when it cannot run. */
async function restart(id: string, create: (id: string) => Adapter, timeoutMs: number): Promise<Adapter | Error> {
  const adapter = create(id);
  try {
    const probe = await withTimeout(adapter.probe({ dedicatedProcess: false }), timeoutMs);
    if (probe.available) return adapter;
    void adapter.dispose().catch(() => {});
    return new Error(`adapter restart after a timeout: unavailable: ${probe.reason ?? ''}`);
  } catch (err) {
    void Promise.resolve()
      .then(() => adapter.dispose())
      .catch(() => {});
    return new Error(`adapter restart after a timeout failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export async function runSweep(opts: SweepOptions): Promise<SweepReport> {
  const kinds = opts.kinds ?? [...SWEEP_KINDS];
  const log = opts.progress ?? (() => {});
  const create = opts.create ?? ((id: string) => getAdapterEntry(id).create());
  const profileOf = opts.profileOf ?? ((id: string) => getAdapterEntry(id).profile);
  const inferenceOnlyOf = opts.inferenceOnlyOf ?? ((id: string) => ADAPTERS.find((e) => e.id === id)?.inferenceOnly); // not in the registry (tests): none
  const started = Date.now();
  const shard = opts.shard ?? null;
  if (opts.budget === undefined && opts.seconds === undefined) throw new Error('sweep: give a budget or a time limit');

  const formsOf = opts.formsOf ?? batchNormFormsOf;
  const timeoutMs = opts.configTimeoutMs ?? DEFAULT_CONFIG_TIMEOUT_MS;
  // adapter: null after a timeout until the next configuration restarts it; an Error when that failed.
  const live: { id: string; adapter: Adapter | Error | null; row: AdapterSweep; forms: BatchNormForms }[] = [];
  const rows: AdapterSweep[] = [];
  for (const id of opts.adapters) {
    const profile = profileOf(id);
    const byKind = Object.fromEntries(SWEEP_KINDS.map((k) => [k, emptyCounts()])) as Record<SweepKind, Counts>;
    const row: AdapterSweep = {
      adapter: id,
      profile,
      available: false,
      counts: emptyCounts(),
      byKind,
      worstPassRatio: 0,
      adapterMs: 0,
      configsPerMinute: null,
    };
    rows.push(row);
    const adapter = create(id);
    const probe = await adapter.probe({ dedicatedProcess: opts.adapters.length === 1 });
    if (!probe.available) {
      row.reason = probe.knownCrash ? `known crash: ${probe.reason ?? ''}` : probe.reason;
      row.fix = probe.fix;
      log(`${id}: unavailable: ${row.reason ?? ''}`);
      await adapter.dispose().catch(() => {});
      continue;
    }
    row.available = true;
    live.push({ id, adapter, row, forms: formsOf(id) });
  }

  const failures: FailureRecord[] = [];
  let configurations = 0;
  const deadline = opts.seconds !== undefined ? started + opts.seconds * 1000 : Infinity;
  const limit = opts.budget ?? Number.MAX_SAFE_INTEGER;
  for (let index = 0; index < limit; index++) {
    if (shard && index % shard.count !== shard.index) continue;
    if (Date.now() >= deadline) break;
    const config = generateConfig(opts.seed, index, kinds);
    const sc = buildSweepCase(config);
    configurations++;
    const oracles = new Map<string, OracleBound>();
    for (const slot of live) {
      const { id, row, forms } = slot;
      const inferenceOnly = sc.training ? inferenceOnlyOf(id) : undefined;
      const na = notApplicableReason(id, config.kind) ?? (inferenceOnly ? `inference only: ${inferenceOnly}` : null);
      if (na) {
        row.counts['not-applicable']++;
        row.byKind[config.kind]['not-applicable']++;
        continue;
      }
      const key = `${row.profile}/${forms.variance}/${forms.output}`;
      let ob = oracles.get(key);
      if (!ob) {
        ob = oracleFor(sc, row.profile, forms);
        oracles.set(key, ob);
      }
      const adapter = slot.adapter ?? (slot.adapter = await restart(id, create, timeoutMs));
      const { result, ms } =
        adapter instanceof Error
          ? { result: { outcome: 'error' as const, message: adapter.message }, ms: 0 }
          : await runOne(adapter, sc, ob, timeoutMs);
      if (result.outcome === 'timeout' && !(adapter instanceof Error)) {
        // Its build/run may still be pending: abandon this instance (dispose, not awaited) and
        // start a fresh one for the next configuration.
        void Promise.resolve()
          .then(() => adapter.dispose())
          .catch(() => {});
        slot.adapter = null;
        log(`${id}: #${index} timed out; adapter restarted for the next configuration`);
      }
      row.adapterMs += ms;
      row.counts[result.outcome]++;
      row.byKind[config.kind][result.outcome]++;
      if (result.outcome === 'pass') row.worstPassRatio = Math.max(row.worstPassRatio, result.judgement!.worstRatio);
      if (result.outcome === 'fail' || result.outcome === 'error' || result.outcome === 'timeout') {
        const rec: FailureRecord = {
          index,
          adapter: id,
          config,
          description: describeConfig(config),
          outcome: result.outcome as FailureRecord['outcome'],
          reason: result.message ?? '',
          worstRatio: result.judgement?.worstRatio,
          worst: result.judgement?.worst,
        };
        failures.push(rec);
        log(`${id}: #${index} ${rec.outcome.toUpperCase()} ${rec.description}: ${rec.reason}`);
      }
    }
    if (configurations % 50 === 0) log(`${configurations} configurations`);
  }

  // Shrink (capped per adapter), group by minimal form.
  const groups = new Map<string, SweepGroup>();
  const maxShrink = opts.maxShrink ?? 10;
  let unshrunk = 0;
  for (const slot of live) {
    const { id, row, forms } = slot;
    // Timeouts are not shrunk: every try could cost the whole limit.
    const mine = failures.filter((f) => f.adapter === id && f.outcome !== 'timeout');
    let shrunk = 0;
    for (const f of mine) {
      // A failure whose configuration already is some group's minimal form joins it directly.
      const direct = groupKey(id, f.config);
      if (groups.has(direct)) {
        f.group = direct;
        groups.get(direct)!.indices.push(f.index);
        continue;
      }
      if (shrunk >= maxShrink) {
        unshrunk++;
        continue;
      }
      shrunk++;
      // The adapter as it stands now (restarted when the last try timed out).
      const current = async (): Promise<Adapter | Error> =>
        slot.adapter ?? (slot.adapter = await restart(id, create, timeoutMs));
      const attempt = async (c: SweepConfig) => {
        const sc = buildSweepCase(c);
        const adapter = await current();
        if (adapter instanceof Error) return { outcome: 'error' as const, message: adapter.message };
        const { result } = await runOne(adapter, sc, oracleFor(sc, row.profile, forms), timeoutMs);
        if (result.outcome === 'timeout') {
          void Promise.resolve()
            .then(() => adapter.dispose())
            .catch(() => {});
          slot.adapter = null;
        }
        return result;
      };
      const fails = async (c: SweepConfig): Promise<boolean> => (await attempt(c)).outcome === f.outcome;
      const s = await shrinkConfig(f.config, fails, opts.shrinkEvaluations ?? 150);
      const key = groupKey(id, s.minimal);
      f.group = key;
      const g = groups.get(key);
      if (g) {
        g.indices.push(f.index);
        continue;
      }
      const result = await attempt(s.minimal);
      groups.set(key, {
        key,
        adapter: id,
        minimal: s.minimal,
        description: describeConfig(s.minimal),
        outcome: f.outcome as 'fail' | 'error',
        reason: result.message ?? '',
        worst: 'judgement' in result ? result.judgement?.worst : undefined,
        indices: [f.index],
        shrink: { evaluations: s.evaluations, steps: s.steps, exhausted: s.exhausted },
      });
      log(`${id}: #${f.index} shrank in ${s.steps} steps (${s.evaluations} runs) to ${describeConfig(s.minimal)}`);
    }
  }

  for (const { adapter, row } of live) {
    const judged = row.counts.pass + row.counts.fail + row.counts.error + row.counts.unbounded;
    row.configsPerMinute = row.adapterMs > 0 ? Math.round((judged / row.adapterMs) * 60000) : null;
    if (adapter && !(adapter instanceof Error)) await withTimeout(adapter.dispose(), timeoutMs).catch(() => {});
  }
  return {
    schema: 'resnet-conformance/sweep/1',
    seed: opts.seed,
    kinds,
    budget: opts.budget ?? null,
    seconds: opts.seconds ?? null,
    shard,
    configurations,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    adapters: rows,
    failures,
    groups: [...groups.values()],
    unshrunk,
  };
}
