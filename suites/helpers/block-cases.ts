/**
 * The block golden cases (everything but ResNet-50) grouped by model and weights, and one model's cases run
 * through the normal comparison path (runFixtureCase, the adapter's profile column): what the
 * browser and Dawn suites run for every adapter.
 */
import type { Adapter, PrecisionProfile } from '../../src/adapters/types';
import { loadCaseTensors, loadManifest } from '../../src/golden/load';
import type { FixtureCase } from '../../src/golden/manifest';
import { FIXTURES_DIR } from '../../src/golden/paths';
import { casesByModel } from '../../src/golden/by-model';
import { caseRows, describeFailures, judgeCase } from '../../src/golden/run-case';
import { caseInitialWeights } from '../../src/runner/execute-case';
import { formatNumber } from '../../src/util/format';
import { buildModel } from '../../src/model/model-args';

export function blockCasesByModel(): Map<string, FixtureCase[]> {
  return casesByModel(loadManifest().cases.filter((c) => c.model.model !== 'resnet50'));
}

/**
 * Builds the cases' model in `adapter` and runs each case, judged for adapter `id` by the product's judge
 * (judgeCase: its profile's rows and its entries in src/compare/tolerances/known-defects.ts); returns the
 * problems (failures, including an unexpected match of a known defect: the defect did not happen; and an
 * expected-divergence row under which no tensor diverged) and the measured error of every comparison.
 */
export async function runBlockCases(
  adapter: Adapter,
  id: string,
  profile: PrecisionProfile,
  cases: FixtureCase[],
): Promise<{ problems: string[]; measured: string[]; comparisons: number[] }> {
  const spec = buildModel(cases[0].model, { bnEpsilon: cases[0].weights?.bnEpsilon });
  await adapter.build(spec, caseInitialWeights(cases[0], spec));
  const problems: string[] = [];
  const measured: string[] = [];
  const comparisons: number[] = [];
  for (const k of cases) {
    const at = { adapter: id, profile };
    const run = await judgeCase(adapter, at, k, loadCaseTensors(FIXTURES_DIR, k));
    const failures = describeFailures(run);
    if (failures.length > 0) problems.push(`${k.id}:\n    ${failures.join('\n    ')}`);
    const diverged = new Set(
      run.comparisons.filter((c) => c.verdict === 'expected-divergence').map((c) => `${c.caseClass} x ${c.role}`),
    );
    const expectedRows = caseRows(k, at).divergenceRows;
    for (const row of expectedRows.filter((r) => !diverged.has(r)))
      problems.push(`${k.id}: nothing diverged under the expected-divergence row ${row}`);
    comparisons.push(run.comparisons.length);
    for (const c of run.comparisons)
      measured.push(`${k.id} ${c.tensor}: max abs ${formatNumber(c.result?.maxAbs)} (${c.verdict})`);
  }
  return { problems, measured, comparisons };
}
