/**
 * The mutation score: every mutant of the bank (./bank.ts) through the case set `run` selects by
 * default (src/runner/run.ts loadAndCheckFixtures: every case of the fixtures manifest), judged by
 * the runner's own case evaluation (src/runner/execute-case.ts executeCase, which compares with
 * src/golden/run-case.ts and the tolerance table) and diagnosed by the runner's own per-failure
 * diagnosis (src/runner/diagnose-failure.ts). Nothing here judges a tensor.
 *
 *   caught      some case of the mutant did not pass (any status but pass / expected-divergence)
 *   localized   caught, and the diagnosis of every diagnosed failing case names a layer the mutant
 *               changed as the first diverging layer (diagnosed: the first 'fail-numeric' case of
 *               each model and BatchNorm mode, as the run's worker would diagnose it)
 *   equivalent  every layer it targets, in every model of the case set, is inert (or it targets
 *               none): it cannot change any output of these models whatever the weights and input.
 *               Still run: one that is caught after all is reported ('equivalent-caught': the
 *               bank's claim is wrong)
 *   false alarm a negative control (legitimate float32 behaviour) that did not pass
 */
import { CASE_STATUSES, statusInfo, type CaseStatus } from '../report/schema';
import type { FixtureCase } from '../golden/manifest';
import { modelKey } from '../golden/load';
import { FIXTURES_DIR } from '../golden/paths';
import { buildModel } from '../model/model-args';
import { LOGITS_SUFFIX } from '../model/builders';
import type { ModelSpec } from '../model/types';
import { sha256 } from '../util/fs';
import { diagnoseFailure } from '../runner/diagnose-failure';
import { builtKeyOf, casesByModel, executeCase, type EvaluationContext } from '../runner/execute-case';
import { describeModel, loadAndCheckFixtures } from '../runner/run';
import { layerRoles, roleText } from '../diagnose/roles';
import { mutantEntry } from './adapter';
import {
  mutantAdapterId,
  mutantTargets,
  selectMutants,
  type Mutant,
  type MutantCategory,
  type MutantKind,
} from './bank';

export const MUTATION_SCHEMA = 'resnet-conformance/mutation';
export const MUTATION_VERSION = 1;

/** Statuses that are not a failure of the case (nor of the run). */
const PASSING: readonly CaseStatus[] = CASE_STATUSES.filter((s) => statusInfo(s).passing && !statusInfo(s).failsRun);

export type MutantVerdict = 'caught' | 'survived' | 'equivalent' | 'equivalent-caught' | 'pass' | 'false-alarm';

export interface MutantCaseOutcome {
  case: string;
  status: CaseStatus;
  reason: string;
}

export interface MutantDiagnosisOutcome {
  case: string;
  /** The diagnosis's first diverging layer (a softmax Dense's `:logits` row is its layer), null: none. */
  firstDiverging: string | null;
  /** Its place in the architecture, e.g. `conv 2` or `stage3_block1_convolutional bn 1`. */
  role: string | null;
  /** Whether it is one of the layers the mutant changed in that case's model. */
  localized: boolean;
  /** Why there is no diagnosis (it threw). */
  error?: string;
  verdict?: string;
}

export interface MutantModelTargets {
  model: string;
  layers: string[];
  /** Targeted layers where the change is the identity, with why. */
  inert: Record<string, string>;
}

export interface MutantOutcome {
  id: string;
  adapter: string;
  kind: MutantKind;
  category: MutantCategory;
  title: string;
  profile: string;
  /** What a case needs to catch it (from the bank). */
  needs: string;
  /** The layers it changes in each model of the case set. */
  targets: MutantModelTargets[];
  verdict: MutantVerdict;
  /** Why it is equivalent (verdict equivalent / equivalent-caught). */
  equivalentWhy?: string[];
  /** Cases that did not pass, with status and the run's reason. */
  failing: MutantCaseOutcome[];
  passed: number;
  diagnoses: MutantDiagnosisOutcome[];
  /** Caught mutants only: whether the diagnosis named a changed layer (see the file comment). */
  localized: boolean | null;
  /** Caught but not localized: why. Survived: why (what the cases lack). */
  why?: string;
  durationMs: number;
}

export interface MutationSummary {
  mutants: number;
  equivalent: string[];
  nonEquivalent: number;
  caught: number;
  survived: string[];
  localized: number;
  notLocalized: string[];
  controls: number;
  falseAlarms: string[];
  /** Declared equivalent, yet caught: the bank's equivalence claim is wrong. */
  equivalentCaught: string[];
  /** caught / non-equivalent (null when there is no non-equivalent mutant). */
  caughtShare: number | null;
  /** localized / caught (null when nothing was caught). */
  localizedShare: number | null;
  /** 0: no control false-alarmed and no equivalence claim failed; 1 otherwise. */
  exitCode: number;
}

export interface MutationReport {
  schema: typeof MUTATION_SCHEMA;
  version: typeof MUTATION_VERSION;
  createdAt: string;
  fixtures: {
    dir: string;
    manifestSha256: string;
    /** The case selection: null = the default case set of `run` (every case of the manifest). */
    casesPattern: string | null;
    cases: string[];
  };
  /** null: every mutant of the bank. */
  mutantsPattern: string | null;
  diagnose: boolean;
  mutants: MutantOutcome[];
  summary: MutationSummary;
  durationMs: number;
}

export interface MutateOptions {
  fixturesDir?: string;
  /** `--cases` patterns (default: every case, as `run`). */
  cases?: string;
  /** `--mutants` patterns (default: the whole bank). */
  mutants?: string;
  /** Diagnose failing cases (default true). */
  diagnose?: boolean;
  /** One line per finished mutant. */
  progress?: (line: string) => void;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function caseSpec(k: FixtureCase): ModelSpec {
  return buildModel(k.model, { bnEpsilon: k.weights?.bnEpsilon });
}

/** Cases grouped by the model they build, in first-appearance order (as the run's worker does). */
function grouped(cases: readonly FixtureCase[]): FixtureCase[] {
  return [...casesByModel(cases).values()].flat();
}

function targetsByModel(m: Mutant, cases: readonly FixtureCase[]): MutantModelTargets[] {
  const seen = new Map<string, MutantModelTargets>();
  for (const k of cases) {
    const key = `${modelKey(k.model)} ${k.weights?.bnEpsilon ?? ''}`;
    if (seen.has(key)) continue;
    const t = mutantTargets(m, caseSpec(k));
    seen.set(key, { model: describeModel(k.model), layers: t.layers, inert: t.inert });
  }
  return [...seen.values()];
}

/** Why the mutant cannot change any output of these models, or undefined when it can. */
function equivalence(m: Mutant, targets: MutantModelTargets[]): string[] | undefined {
  const why: string[] = [];
  for (const t of targets) {
    const live = t.layers.filter((l) => !(l in t.inert));
    if (live.length > 0) return undefined;
    if (t.layers.length === 0) why.push(`${t.model}: no layer it changes (it needs ${m.needs})`);
    else why.push(...t.layers.map((l) => `${t.model}: ${l}: ${t.inert[l]}`));
  }
  return why;
}

/** Runs one mutant through `cases` (the runner's executeCase) and diagnoses its failures (the runner's diagnoseFailure). */
export async function runMutant(
  m: Mutant,
  cases: readonly FixtureCase[],
  ctxBase: Omit<EvaluationContext, 'built'>,
  diagnose: boolean,
): Promise<MutantOutcome> {
  const t0 = performance.now();
  const entry = mutantEntry(m);
  const adapter = entry.create();
  const ctx: EvaluationContext = { ...ctxBase };
  const failing: MutantCaseOutcome[] = [];
  const failedCases: FixtureCase[] = [];
  let passed = 0;
  try {
    for (const k of grouped(cases)) {
      const r = await executeCase(adapter, entry, k, ctx);
      if (PASSING.includes(r.status)) passed++;
      else {
        failing.push({ case: k.id, status: r.status, reason: r.reason });
        if (r.status === 'fail-numeric') failedCases.push(k);
      }
    }
    const diagnoses: MutantDiagnosisOutcome[] = [];
    if (diagnose && m.kind === 'mutant') {
      // The first numeric failure of each model and BatchNorm mode (the model still built first).
      const picked = new Map<string, FixtureCase>();
      for (const k of failedCases) {
        const key = `${builtKeyOf(k)}\u0000${k.training}`;
        if (!picked.has(key)) picked.set(key, k);
      }
      const order = [...picked.values()].sort(
        (a, b) => Number(builtKeyOf(b) === ctx.built?.key) - Number(builtKeyOf(a) === ctx.built?.key),
      );
      for (const k of order) {
        const spec = caseSpec(k);
        const touched = new Set(m.targets(spec));
        const d = await diagnoseFailure(adapter, entry, k, ctx);
        if ('error' in d) {
          diagnoses.push({ case: k.id, firstDiverging: null, role: null, localized: false, error: d.error });
          continue;
        }
        const first = d.diagnosis.firstDiverging;
        const layer = first
          ? first.name.endsWith(LOGITS_SUFFIX)
            ? first.name.slice(0, -LOGITS_SUFFIX.length)
            : first.name
          : null;
        const role = layer ? layerRoles(spec).get(layer) : undefined;
        diagnoses.push({
          case: k.id,
          firstDiverging: layer,
          role: role ? roleText(role, spec.model !== 'resnet50') : null,
          localized: layer !== null && touched.has(layer),
          verdict: d.diagnosis.verdict,
        });
      }
    }
    const targets = targetsByModel(m, cases);
    const eq = m.kind === 'mutant' ? equivalence(m, targets) : undefined;
    const caught = failing.length > 0;
    let verdict: MutantVerdict;
    if (m.kind === 'control') verdict = caught ? 'false-alarm' : 'pass';
    else if (eq) verdict = caught ? 'equivalent-caught' : 'equivalent';
    else verdict = caught ? 'caught' : 'survived';
    let localized: boolean | null = null;
    let why: string | undefined;
    if (verdict === 'caught') {
      localized = diagnose && diagnoses.length > 0 && diagnoses.every((d) => d.localized);
      if (!diagnose) {
        localized = null;
        why = 'not diagnosed (--no-diagnose)';
      } else if (diagnoses.length === 0) {
        const f = failing[0];
        why = `no numeric failure to diagnose: ${f.case} ended '${f.status}' (${f.reason.slice(0, 200)}); the per-layer diagnosis runs on 'fail-numeric' cases`;
      } else if (!localized) {
        why = diagnoses
          .filter((d) => !d.localized)
          .map((d) =>
            d.error
              ? `${d.case}: the diagnosis failed (${d.error})`
              : d.firstDiverging
                ? `${d.case}: the diagnosis names ${d.firstDiverging} (${d.role}) first, not a changed layer`
                : `${d.case}: every layer within its budget (${d.verdict ?? ''})`,
          )
          .join('; ');
      }
    } else if (verdict === 'survived') {
      why = `every case passed; catching it needs ${m.needs}`;
    } else if (verdict === 'false-alarm') {
      why = `a legitimate float32 behaviour failed ${failing.length} case(s)`;
    }
    return {
      id: m.id,
      adapter: mutantAdapterId(m),
      kind: m.kind,
      category: m.category,
      title: m.title,
      profile: entry.profile,
      needs: m.needs,
      targets,
      verdict,
      ...(eq ? { equivalentWhy: eq } : {}),
      failing,
      passed,
      diagnoses,
      localized,
      ...(why ? { why } : {}),
      durationMs: performance.now() - t0,
    };
  } finally {
    await adapter.dispose();
  }
}

export function summarizeMutation(outcomes: readonly MutantOutcome[]): MutationSummary {
  const mutants = outcomes.filter((o) => o.kind === 'mutant');
  const controls = outcomes.filter((o) => o.kind === 'control');
  const equivalent = mutants.filter((o) => o.verdict === 'equivalent' || o.verdict === 'equivalent-caught');
  const scored = mutants.filter((o) => o.verdict === 'caught' || o.verdict === 'survived');
  const caught = scored.filter((o) => o.verdict === 'caught');
  const localized = caught.filter((o) => o.localized === true);
  const falseAlarms = controls.filter((o) => o.verdict === 'false-alarm').map((o) => o.id);
  const equivalentCaught = mutants.filter((o) => o.verdict === 'equivalent-caught').map((o) => o.id);
  return {
    mutants: mutants.length,
    equivalent: equivalent.map((o) => o.id),
    nonEquivalent: scored.length,
    caught: caught.length,
    survived: scored.filter((o) => o.verdict === 'survived').map((o) => o.id),
    localized: localized.length,
    notLocalized: caught.filter((o) => o.localized !== true).map((o) => o.id),
    controls: controls.length,
    falseAlarms,
    equivalentCaught,
    caughtShare: scored.length ? caught.length / scored.length : null,
    localizedShare: caught.length ? localized.length / caught.length : null,
    exitCode: falseAlarms.length || equivalentCaught.length ? 1 : 0,
  };
}

/** Runs the selected mutants through the selected cases (default: the whole bank, `run`'s default case set). */
export async function runMutation(opts: MutateOptions = {}): Promise<MutationReport> {
  const t0 = performance.now();
  const fixturesDir = opts.fixturesDir ?? FIXTURES_DIR;
  const selected = selectMutants(opts.mutants);
  const { manifest, cases, manifestText } = loadAndCheckFixtures(fixturesDir, opts.cases);
  const diagnose = opts.diagnose ?? true;
  const outcomes: MutantOutcome[] = [];
  for (const m of selected) {
    let o: MutantOutcome;
    try {
      o = await runMutant(m, cases, { fixturesDir, manifest }, diagnose);
    } catch (err) {
      throw new Error(`mutant ${m.id}: ${message(err)}`);
    }
    outcomes.push(o);
    opts.progress?.(progressLine(o));
  }
  return {
    schema: MUTATION_SCHEMA,
    version: MUTATION_VERSION,
    createdAt: new Date().toISOString(),
    fixtures: {
      dir: fixturesDir,
      manifestSha256: sha256(manifestText),
      casesPattern: opts.cases ?? null,
      cases: cases.map((k) => k.id),
    },
    mutantsPattern: opts.mutants ?? null,
    diagnose,
    mutants: outcomes,
    summary: summarizeMutation(outcomes),
    durationMs: performance.now() - t0,
  };
}

export function progressLine(o: MutantOutcome): string {
  const where =
    o.verdict === 'caught'
      ? ` by ${o.failing.length} case(s)${o.localized ? `, localized: ${[...new Set(o.diagnoses.map((d) => d.firstDiverging))].join(', ')}` : o.localized === false ? ', NOT localized' : ''}`
      : '';
  return `${o.verdict.padEnd(17)} ${o.id}${where} [${(o.durationMs / 1000).toFixed(1)} s]`;
}
