/**
 * `diagnose`: where and why an adapter diverges from the fp64 reference — the per-layer error
 * table, the first layer out of its budget and the arithmetic each layer most plausibly uses. With
 * `--case ID` the model arguments, initial weights, input and BatchNorm mode are the golden case's.
 * Exit code 0: every layer within its budget; 1: some layer out of budget; 2: usage/configuration.
 */
import { adapterForThisProcess } from '../../adapters/isolated';
import * as fs from 'fs';
import { ReferenceAdapter, type ReferencePrecision } from '../../adapters/reference';
import type { AdapterSelection } from '../../adapters/select';
import type { Adapter, AdapterEntry, PrecisionProfile } from '../../adapters/types';
import { PRECISION_PROFILES } from '../../compare/tolerances';
import { diagnoseModel } from '../../diagnose/diagnose-model';
import { isArithmetic, type Arithmetic } from '../../diagnose/formats';
import { renderDiagnosisMarkdown, renderDiagnosisPage, renderDiagnosisText } from '../../diagnose/render';
import { pyShapeRepr, readNpy } from '../../tensor/npy';
import { buildModel, type ModelArgs } from '../../model/model-args';
import type { ModelSpec } from '../../model/types';
import type { Tensor } from '../../tensor';
import { bool, parseArgs, str, usageLines, UsageError } from '../args';
import { adapterChoiceFromFlags, modelArgsFromFlags } from '../model-options';
import { DIAGNOSE_SPEC, MODEL_FLAGS } from '../specs';
import * as path from 'path';
import { loadManifest, loadTensor } from '../../golden/load';
import type { FixtureCase } from '../../golden/manifest';
import { FIXTURES_DIR } from '../../golden/paths';
import { caseInitialWeights } from '../../runner/execute-case';

const PROFILE_OF_PRECISION: Record<ReferencePrecision, PrecisionProfile> = {
  fp64: 'fp64-reference',
  fp32: 'fp32-cpu',
  tf32: 'tf32-gpu',
};

interface Plan {
  /** --case: the golden case whose model, weights, input and mode are diagnosed. */
  fixtureCase?: { k: FixtureCase; fixturesDir: string };
  modelArgs: ModelArgs;
  adapterId: string;
  entry: AdapterEntry;
  /** The --adapter-module files (an isolated adapter's child loads them). */
  modules: string[];
  inputFile?: string;
  training: boolean;
  precision?: ReferencePrecision;
  tf32Layers?: string[];
  profile?: PrecisionProfile;
  arithmetics?: Arithmetic[];
  format: 'text' | 'json' | 'markdown';
  html?: string;
}

/** `--adapter` / `--adapter-module` as `diagnose` resolves them (through selectOneAdapter). */
export async function adapterSelection(argv: string[]): Promise<AdapterSelection> {
  return (await adapterChoiceFromFlags(parseArgs(argv, DIAGNOSE_SPEC.flags), 'diagnose')).selection;
}

async function plan(argv: string[]): Promise<Plan> {
  const p = parseArgs(argv, DIAGNOSE_SPEC.flags);
  if (p.positional.length > 0) throw new UsageError(`unexpected argument '${p.positional[0]}' (options start with --)`);
  const { adapterId, entry, precision, tf32Layers, selection } = await adapterChoiceFromFlags(p, 'diagnose');
  const profileText = str(p, 'profile');
  if (profileText !== undefined && !(PRECISION_PROFILES as readonly string[]).includes(profileText)) {
    throw new UsageError(`--profile must be one of ${PRECISION_PROFILES.join(', ')}, got '${profileText}'`);
  }
  const arithText = str(p, 'arithmetics');
  let arithmetics: Arithmetic[] | undefined;
  if (arithText !== undefined) {
    const list = arithText
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const bad = list.filter((a) => !isArithmetic(a) || a === 'fp64');
    if (list.length === 0 || bad.length)
      throw new UsageError(`--arithmetics takes a comma-separated subset of fp32,tf32,bf16,fp16, got '${arithText}'`);
    arithmetics = list as Arithmetic[];
  }
  if (bool(p, 'json') && bool(p, 'markdown')) throw new UsageError('--json and --markdown are exclusive');
  const caseId = str(p, 'case');
  let fixtureCase: Plan['fixtureCase'];
  let modelArgs: ModelArgs;
  if (caseId !== undefined) {
    // The case says everything about the model: a second source would be a second truth.
    const clash = [...MODEL_FLAGS.map((f) => f.name), 'input', 'training'].filter((n) => p.flags.has(n));
    if (clash.length)
      throw new UsageError(
        `--case takes the model arguments, input and mode from the case: drop ${clash.map((n) => `--${n}`).join(', ')}`,
      );
    fixtureCase = caseFromFixtures(caseId, str(p, 'fixtures'));
    modelArgs = fixtureCase.k.model;
  } else {
    if (str(p, 'fixtures') !== undefined) throw new UsageError('--fixtures goes with --case');
    if (str(p, 'model') === undefined) throw new UsageError('--model (or --case ID) is required');
    modelArgs = modelArgsFromFlags(p);
  }
  return {
    ...(fixtureCase ? { fixtureCase } : {}),
    modelArgs,
    adapterId,
    entry,
    modules: selection.modules,
    inputFile: str(p, 'input'),
    training: fixtureCase ? fixtureCase.k.training : bool(p, 'training'),
    precision,
    tf32Layers,
    profile: profileText as PrecisionProfile | undefined,
    arithmetics,
    format: bool(p, 'json') ? 'json' : bool(p, 'markdown') ? 'markdown' : 'text',
    html: str(p, 'html'),
  };
}

/** The case `id` of the manifest in `dir` (default: the package's fixtures); a usage error naming the near ids when absent. */
function caseFromFixtures(id: string, dir: string | undefined): { k: FixtureCase; fixturesDir: string } {
  const fixturesDir = path.resolve(dir ?? FIXTURES_DIR);
  let cases: FixtureCase[];
  try {
    cases = loadManifest(fixturesDir).cases;
  } catch (err) {
    throw new UsageError(`--case: ${(err as Error).message}`);
  }
  const k = cases.find((c) => c.id === id);
  if (k) return { k, fixturesDir };
  const stem = id.split('/')[0];
  const near = cases.filter((c) => c.id.startsWith(stem)).map((c) => c.id);
  throw new UsageError(
    `--case: no case '${id}' in ${path.join(fixturesDir, 'manifest.json')}${near.length ? `; cases starting with '${stem}': ${near.slice(0, 12).join(', ')}${near.length > 12 ? ', ...' : ''}` : ` (${cases.length} cases; list them with: run --list)`}`,
  );
}

function buildSpec(pl: Plan, input: Tensor | undefined): ModelSpec {
  if (pl.fixtureCase) {
    const { k } = pl.fixtureCase;
    // As the runner builds it (src/runner/execute-case.ts): the case's BatchNorm epsilon included.
    return buildModel(k.model, { bnEpsilon: k.weights?.bnEpsilon });
  }
  const args: ModelArgs = { ...pl.modelArgs };
  if (input) {
    if (input.shape.length !== 4)
      throw new UsageError(
        `--input ${pl.inputFile} has shape ${pyShapeRepr(input.shape)}; expected a 4-D NHWC batch (N, h, w, c)`,
      );
    if (args.inputShape === undefined) args.inputShape = input.shape.slice(1);
  }
  try {
    return buildModel(args);
  } catch (err) {
    throw new UsageError(
      `cannot build --model ${args.model}${input ? ` for input ${pyShapeRepr(input.shape)}` : ''}: ${(err as Error).message}`,
    );
  }
}

function makeAdapter(pl: Plan): { adapter: Adapter; profile: PrecisionProfile } {
  if (pl.adapterId === 'reference' && (pl.precision !== undefined || pl.tf32Layers !== undefined)) {
    const precision = pl.precision ?? 'fp64';
    const id = pl.tf32Layers ? 'reference-tf32(selected layers)' : undefined;
    return {
      adapter: new ReferenceAdapter({ id, precision, tf32Layers: pl.tf32Layers }),
      profile: pl.profile ?? PROFILE_OF_PRECISION[precision],
    };
  }
  return { adapter: adapterForThisProcess(pl.entry, pl.modules), profile: pl.profile ?? pl.entry.profile };
}

export async function diagnoseCommand(args: string[]): Promise<number> {
  const fail = (message: string): number => {
    process.stderr.write(`resnet-conformance diagnose: ${message}\n`);
    return 2;
  };
  let pl: Plan;
  let input: Tensor | undefined;
  let spec: ModelSpec;
  try {
    pl = await plan(args);
    if (pl.fixtureCase) {
      const { k, fixturesDir } = pl.fixtureCase;
      try {
        input = loadTensor(fixturesDir, k.input, `case '${k.id}' input`);
      } catch (err) {
        throw new UsageError(`--case: ${(err as Error).message}`);
      }
    } else if (pl.inputFile !== undefined) {
      try {
        input = readNpy(pl.inputFile);
      } catch (err) {
        throw new UsageError(`--input: ${(err as Error).message}`);
      }
    }
    spec = buildSpec(pl, input);
  } catch (err) {
    if (err instanceof UsageError) return fail(`${err.message}\n${usageLines(DIAGNOSE_SPEC)}`);
    throw err;
  }

  const { adapter, profile } = makeAdapter(pl);
  try {
    const probe = await adapter.probe({ dedicatedProcess: true });
    if (!probe.available) {
      return fail(
        `adapter '${adapter.id}' is unavailable here: ${probe.reason ?? 'no reason given'}\nfix: ${probe.fix ?? 'see README.md (adapters)'}`,
      );
    }
    let result;
    try {
      result = await diagnoseModel(adapter, spec, {
        training: pl.training,
        profile,
        arithmetics: pl.arithmetics,
        input,
        inputSource: pl.fixtureCase ? `input of fixture case ${pl.fixtureCase.k.id}` : pl.inputFile,
        ...(pl.fixtureCase ? { weights: caseInitialWeights(pl.fixtureCase.k, spec) } : {}),
      });
    } catch (err) {
      return fail(`adapter '${adapter.id}' on ${spec.model}: ${(err as Error).message}`);
    }
    const d = result.diagnosis;
    if (pl.format === 'json') process.stdout.write(`${JSON.stringify(d, null, 1)}\n`);
    else if (pl.format === 'markdown') process.stdout.write(renderDiagnosisMarkdown(d));
    else process.stdout.write(renderDiagnosisText(d));
    if (pl.html) {
      try {
        fs.writeFileSync(pl.html, renderDiagnosisPage([d]));
      } catch (err) {
        return fail(`--html: ${(err as Error).message}`);
      }
      if (pl.format === 'text') process.stdout.write(`wrote ${pl.html}\n`);
    }
    return d.firstDiverging ? 1 : 0;
  } finally {
    await adapter.dispose().catch(() => undefined);
  }
}
