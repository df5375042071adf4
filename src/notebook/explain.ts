/**
 * Which way of computing reproduces a revision's numbers: a search with the reference adapter's
 * executor over (RNG kind, TF32 layer set, BatchNormalization epsilon), judged by each check's own
 * tolerance (the file's np.allclose, or the printing precision).
 *
 * - RNG kind: `stateless` (Keras 3 / TF 2.16+: stateless Philox, seed pair [s, 0]) or `stateful`
 *   (older tf.keras: tf.random.uniform(seed=s) after tf.random.set_seed(G), one stream per
 *   (G, s) continuing through every call since set_seed; src/init/stateful-philox.ts).
 * - TF32 layers by role in the block: conv1 (1x1), conv2 (f x f), conv3 (1x1), shortcut (conv block).
 * - BatchNorm epsilon from a grid (Keras's 1e-3; 1.001e-5 is Keras 2's fused-kernel floor).
 */
import { ReferenceExecutor } from '../adapters/reference/executor';
import { initModelWeights } from '../init/model-weights';
import { StatefulRandomSession } from '../init/stateful-philox';
import { statefulModelWeights } from '../init/stateful-weights';
import type { ModelSpec, ModelWeights } from '../model/types';
import { callSpec, type ImportedCall, type ImportedCheck, type ImportedRevision } from './revision';
import { applyView } from '../golden/views';

export type RngKind = 'stateless' | 'stateful';
export type ConvRole = 'conv1' | 'conv2' | 'conv3' | 'shortcut';
export const CONV_ROLES: readonly ConvRole[] = ['conv1', 'conv2', 'conv3', 'shortcut'];
export const DEFAULT_EPSILONS: readonly number[] = [1e-3, 1e-4, 1.001e-5, 1e-5, 1e-6, 1e-7];

export interface Configuration {
  rng: RngKind;
  tf32: ConvRole[];
  epsilon: number;
}

export function configText(c: Configuration): string {
  return `rng=${c.rng}, tf32=${c.tf32.length ? c.tf32.join('+') : 'none'}, bn-epsilon=${c.epsilon}`;
}

export interface CheckError {
  check: string;
  pass: boolean;
  /** max over elements of |actual - expected| / (atol + rtol*|expected|): <= 1 passes np.allclose. */
  ratio: number;
  maxAbs: number;
  worst?: { index: number[]; actual: number; expected: number };
  /** Why this check could not be computed under the configuration (e.g. stateful without set_seed). */
  skipped?: string;
}

export interface Evaluation {
  config: Configuration;
  errors: CheckError[];
  failing: number;
  worstRatio: number;
  maxAbs: number;
}

export interface Explanation {
  searched: number;
  checks: string[];
  best: Evaluation;
  /** The best configuration whose results differ from the best's. */
  runnerUp: Evaluation | null;
  /** Configurations giving exactly the best's results: the dimensions these values cannot tell apart. */
  equivalent: Configuration[];
  undetermined: string[];
  /** Every configuration that passes all checks, summarised by dimension (null when none does). */
  withinTolerance: { count: number; rng: RngKind[]; tf32: string[]; epsilon: number[] } | null;
  explained: boolean;
  /** One line per check the best configuration does not reproduce (empty when explained). */
  unexplained: string[];
  /**
   * Per value check, the configuration that reproduces it within its tolerance: the best's where it does,
   * else the best of those that do (fewest failing checks, then smallest worst ratio); null when none of
   * the configurations searched does (the check is unexplained; `closest` is the one nearest to it).
   */
  perCheck: PerCheck[];
}

export interface PerCheck {
  check: string;
  config: Configuration | null;
  /** This check's error under `config` (or under `closest` when unexplained), in units of its tolerance. */
  ratio: number;
  closest: Configuration;
}

/** Every configuration, simplest first (stateless, fewer TF32 layers, Keras's epsilon first). */
export function configurationSpace(
  epsilons: readonly number[] = DEFAULT_EPSILONS,
  roles: readonly ConvRole[] = CONV_ROLES,
): Configuration[] {
  const subsets: ConvRole[][] = [];
  for (let m = 0; m < 1 << roles.length; m++) subsets.push(roles.filter((_, i) => m & (1 << i)));
  subsets.sort((a, b) => a.length - b.length);
  const out: Configuration[] = [];
  for (const rng of ['stateless', 'stateful'] as RngKind[])
    for (const tf32 of subsets) for (const epsilon of epsilons) out.push({ rng, tf32, epsilon });
  return out;
}

/** Conv2D layer names of a block spec by role (creation order: conv1, conv2, conv3[, shortcut]). */
export function convRoles(spec: ModelSpec): Map<ConvRole, string> {
  const convs = spec.layers.filter((l) => l.className === 'Conv2D').map((l) => l.name);
  const m = new Map<ConvRole, string>();
  convs.forEach((name, i) => {
    if (i < CONV_ROLES.length) m.set(CONV_ROLES[i], name);
  });
  return m;
}

/** Initial weights as a stateful session creates them (src/init/stateful-weights.ts). */
export const statefulWeights = statefulModelWeights;

/** The block output of a call under a configuration (float32 values as float64), or why it cannot be computed. */
export function runCall(
  rev: ImportedRevision,
  call: ImportedCall,
  cfg: Configuration,
): { shape: number[]; data: Float64Array } | { skipped: string } {
  const spec = callSpec(call, cfg.epsilon);
  let weights: ModelWeights;
  if (cfg.rng === 'stateless') {
    weights = initModelWeights(spec);
  } else {
    if (call.seeds.tfSetSeed === null)
      return {
        skipped:
          'no tf.random.set_seed before the call (a stateful op seeded without a global seed is not reproducible)',
      };
    const session = new StatefulRandomSession(call.seeds.tfSetSeed);
    for (const prev of call.seeds.previousCallsSinceSetSeed)
      statefulWeights(callSpec(rev.calls[prev], cfg.epsilon), session);
    weights = statefulWeights(spec, session);
  }
  const roles = convRoles(spec);
  const tf32 = new Set(cfg.tf32.map((r) => roles.get(r)).filter((n): n is string => n !== undefined));
  const ex = new ReferenceExecutor(spec, weights, { precision: tf32.size ? 'tf32' : 'fp32', tf32Layers: tf32 });
  const x = Float64Array.from(call.input.data, (v) => Math.fround(v));
  const res = ex.run(x, call.input.shape[0], call.effectiveTraining);
  return { shape: res.outputShape, data: res.output };
}

function compareCheck(k: ImportedCheck, out: { shape: number[]; data: Float64Array }): CheckError {
  const v = applyView(out, k.steps, k.id);
  const e = k.expected!;
  const { atol, rtol } = k.tolerance!;
  const f32 = e.dtype === 'float32';
  let ratio = 0;
  let maxAbs = 0;
  let worstAt = -1;
  for (let i = 0; i < e.data.length; i++) {
    const exp = f32 ? Math.fround(e.data[i]) : e.data[i];
    const d = Math.abs((v.data as Float64Array)[i] - exp);
    const r = d / (atol + rtol * Math.abs(exp));
    if (d > maxAbs) maxAbs = d;
    if (r > ratio || Number.isNaN(r)) {
      ratio = Number.isNaN(r) ? Infinity : r;
      worstAt = i;
    }
  }
  const err: CheckError = { check: k.id, pass: ratio <= 1, ratio, maxAbs };
  if (worstAt >= 0) {
    const index: number[] = [];
    let rest = worstAt;
    for (let a = e.shape.length - 1; a >= 0; a--) {
      index.unshift(rest % e.shape[a]);
      rest = Math.floor(rest / e.shape[a]);
    }
    err.worst = { index, actual: (v.data as Float64Array)[worstAt], expected: e.data[worstAt] };
  }
  return err;
}

/** Evaluates one configuration on every value check (shape checks do not depend on it). */
export function evaluate(rev: ImportedRevision, cfg: Configuration, checks = valueChecks(rev)): Evaluation {
  const cache = new Map<number, ReturnType<typeof runCall>>();
  const errors = checks.map((k) => {
    let out = cache.get(k.call);
    if (!out) {
      out = runCall(rev, rev.calls[k.call], cfg);
      cache.set(k.call, out);
    }
    if ('skipped' in out) return { check: k.id, pass: false, ratio: Infinity, maxAbs: Infinity, skipped: out.skipped };
    return compareCheck(k, out);
  });
  return {
    config: cfg,
    errors,
    failing: errors.filter((e) => !e.pass).length,
    worstRatio: Math.max(0, ...errors.map((e) => e.ratio)),
    maxAbs: Math.max(0, ...errors.map((e) => e.maxAbs)),
  };
}

export function valueChecks(rev: ImportedRevision): ImportedCheck[] {
  return rev.checks.filter((k) => k.kind !== 'shape');
}

function sameResults(a: Evaluation, b: Evaluation): boolean {
  return a.errors.every((e, i) => e.ratio === b.errors[i].ratio && e.maxAbs === b.errors[i].maxAbs);
}

function better(a: Evaluation, b: Evaluation): boolean {
  if (a.failing !== b.failing) return a.failing < b.failing;
  return a.worstRatio < b.worstRatio;
}

/** Searches the space; the first (simplest) configuration wins ties. */
export function explain(rev: ImportedRevision, space: Configuration[] = configurationSpace()): Explanation {
  const checks = valueChecks(rev);
  if (checks.length === 0) throw new Error('nothing to explain: the revision has no value checks (only shape checks)');
  // Roles a block does not have (identity blocks have no shortcut conv) give identical results: skip them.
  const hasShortcut = rev.calls.some((c) => c.block === 'convolutional_block');
  const evals = space.filter((c) => hasShortcut || !c.tf32.includes('shortcut')).map((c) => evaluate(rev, c, checks));
  let best = evals[0];
  for (const e of evals) if (better(e, best)) best = e;
  const equivalent = evals.filter((e) => sameResults(e, best)).map((e) => e.config);
  let runnerUp: Evaluation | null = null;
  for (const e of evals) if (!sameResults(e, best) && (!runnerUp || better(e, runnerUp))) runnerUp = e;
  const undetermined: string[] = [];
  const rngs = new Set(equivalent.map((c) => c.rng));
  const checkedCalls = [...new Set(checks.map((k) => k.call))].map((i) => rev.calls[i]);
  if (rngs.size > 1)
    undetermined.push(
      `RNG kind (${[...rngs].join(' and ')} give the same values: ${checkedCalls.every((c) => c.initializer.kind === 'constant') ? 'every call with checked values uses constant kernels' : 'the seeded kernels do not change the checked values'})`,
    );
  const eps = new Set(equivalent.map((c) => c.epsilon));
  if (eps.size > 1) undetermined.push(`BatchNorm epsilon (${[...eps].join(', ')} give the same values)`);
  const tf = new Set(equivalent.map((c) => c.tf32.join('+') || 'none'));
  if (tf.size > 1) undetermined.push(`TF32 layer set (${[...tf].join(', ')} give the same values)`);
  const unexplained = best.errors
    .filter((e) => !e.pass)
    .map((e) => {
      const k = checks.find((c) => c.id === e.check)!;
      if (e.skipped) return `${e.check}: ${e.skipped}`;
      const w = e.worst!;
      return `${e.check} (${k.view} vs ${k.expected!.file}:${k.expected!.line}): worst at [${w.index.join(',')}] computed ${w.actual} vs expected ${w.expected} (|diff| ${Math.abs(w.actual - w.expected).toExponential(3)}, ${e.ratio.toFixed(2)}x the tolerance atol ${k.tolerance!.atol}, rtol ${k.tolerance!.rtol})`;
    });
  const perCheck: PerCheck[] = checks.map((k, j) => {
    if (best.errors[j].pass)
      return { check: k.id, config: best.config, ratio: best.errors[j].ratio, closest: best.config };
    let own: Evaluation | null = null;
    let closest = best;
    for (const e of evals) {
      if (e.errors[j].pass && (!own || better(e, own))) own = e;
      if (e.errors[j].ratio < closest.errors[j].ratio) closest = e;
    }
    return own
      ? { check: k.id, config: own.config, ratio: own.errors[j].ratio, closest: own.config }
      : { check: k.id, config: null, ratio: closest.errors[j].ratio, closest: closest.config };
  });
  const passing = evals.filter((e) => e.failing === 0).map((e) => e.config);
  const withinTolerance =
    passing.length === 0
      ? null
      : {
          count: passing.length,
          rng: [...new Set(passing.map((c) => c.rng))],
          tf32: [...new Set(passing.map((c) => c.tf32.join('+') || 'none'))],
          epsilon: [...new Set(passing.map((c) => c.epsilon))],
        };
  return {
    searched: evals.length,
    checks: checks.map((k) => k.id),
    best,
    runnerUp,
    equivalent,
    undetermined,
    withinTolerance,
    explained: best.failing === 0,
    unexplained,
    perCheck,
  };
}

export function formatEvaluation(e: Evaluation): string {
  return `${configText(e.config)}: ${e.errors.length - e.failing}/${e.errors.length} checks within their tolerance, worst ${e.worstRatio === Infinity ? 'not computable' : `${e.worstRatio.toFixed(3)}x the tolerance`}, max |diff| ${e.maxAbs === Infinity ? '-' : e.maxAbs.toExponential(3)}`;
}

/** Text report of an explanation. */
export function formatExplanation(name: string, x: Explanation, rev: ImportedRevision): string {
  const lines = [
    `explain ${name}: ${x.searched} configurations (RNG kind x TF32 layer set x BatchNorm epsilon) on ${x.checks.length} checks with the reference adapter (float32, TF32 emulation)`,
  ];
  lines.push(`best:      ${formatEvaluation(x.best)}`);
  if (x.runnerUp) lines.push(`runner-up: ${formatEvaluation(x.runnerUp)}`);
  for (const u of x.undetermined) lines.push(`not determined by these values: ${u}`);
  const w = x.withinTolerance;
  if (w)
    lines.push(
      `within tolerance: ${w.count} configuration(s): rng ${w.rng.join('/')}; tf32 ${w.tf32.join(' | ')}; bn-epsilon ${w.epsilon.join(', ')}`,
    );
  for (const e of x.best.errors) {
    const k = rev.checks.find((c) => c.id === e.check)!;
    lines.push(
      `  ${e.pass ? 'ok  ' : 'FAIL'} ${e.check} ${k.view}: max |diff| ${e.maxAbs === Infinity ? '-' : e.maxAbs.toExponential(3)} (${e.ratio === Infinity ? 'not computable' : `${e.ratio.toFixed(3)}x`} of ${k.tolerance!.from})`,
    );
  }
  if (!x.explained) {
    const own = x.perCheck.filter((p) => p.config && !x.best.errors.find((e) => e.check === p.check)!.pass);
    for (const p of own)
      lines.push(`  ${p.check}: reproduced by ${configText(p.config!)} (${p.ratio.toFixed(3)}x its tolerance)`);
    for (const p of x.perCheck.filter((q) => !q.config))
      lines.push(
        `  ${p.check}: unexplained: no configuration searched reproduces it (closest ${configText(p.closest)}, ${p.ratio === Infinity ? 'not computable' : `${p.ratio.toFixed(2)}x its tolerance`})`,
      );
  }
  lines.push(
    x.explained
      ? `EXPLAINED: ${configText(x.best.config)} reproduces every check within the file's own tolerance`
      : `NOT EXPLAINED by one configuration (per check: ${x.perCheck.filter((p) => p.config).length} reproduced by their own best configuration, ${x.perCheck.filter((p) => !p.config).length} by none); not reproduced by the best:\n${x.unexplained.map((u) => `  ${u}`).join('\n')}`,
  );
  return lines.join('\n');
}
