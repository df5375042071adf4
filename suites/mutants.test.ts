/**
 * The mutant bank and the mutation score (issue 23; src/mutants, docs/mutants.md). The full bank
 * through the default case set is a command (`resnet-conformance mutate`), not a test: here a few
 * mutants and a control run through the block cases only, and the pieces the score relies on are
 * checked: the executor's override seam changes nothing by itself, every mutant changes what it
 * says, equivalence is declared with a reason, the score arithmetic and the exit code.
 */
import { ReferenceAdapter } from '../src/adapters/reference';
import { withWeights } from '../src/mutants/kernels';
import {
  MUTANTS,
  MutantAdapter,
  mutantAdapterId,
  mutantTargets,
  runMutation,
  selectMutants,
  summarizeMutation,
  type Mutant,
  type MutantOutcome,
} from '../src/mutants';
import { loadManifest } from '../src/golden/load';
import { FIXTURES_DIR } from '../src/golden/paths';
import { initModelWeights } from '../src/init';
import { buildModel, type ModelArgs } from '../src/model/model-args';
import type { ModelSpec } from '../src/model/types';
import { seededUniform } from '../src/tensor/sample-inputs';
import { main } from '../src/cli/main';

const BLOCK: ModelArgs = { model: 'convolutional_block', f: 2, filters: [2, 4, 6], s: 2, inputShape: [5, 5, 3] };

async function runBoth(m: Mutant, args: ModelArgs, training: boolean) {
  const spec = buildModel(args);
  const weights = initModelWeights(spec);
  const [h, w, c] = spec.layers[0].outputShape;
  const input = seededUniform([2, h, w, c], 7, -1, 1);
  const capture = spec.layers.slice(1).map((l) => l.name);
  const ref = new ReferenceAdapter({ precision: 'fp32' });
  await ref.build(spec, weights);
  const mut = new MutantAdapter(m);
  await mut.build(spec, weights);
  return {
    spec,
    ref: await ref.run(input, { training, capture }),
    mut: await mut.run(input, { training, capture }),
  };
}

function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

describe('the mutant bank', () => {
  test('at least 30 mutants and 3 negative controls, unique ids that are valid adapter ids', () => {
    const mutants = MUTANTS.filter((m) => m.kind === 'mutant');
    const controls = MUTANTS.filter((m) => m.kind === 'control');
    expect(mutants.length).toBeGreaterThanOrEqual(30);
    expect(controls.map((m) => m.id).sort()).toEqual(
      ['control-fp32-summation-order', 'control-tf32-one-layer', 'control-ulp-every-conv'].sort(),
    );
    expect(new Set(MUTANTS.map((m) => m.id)).size).toBe(MUTANTS.length);
    for (const m of MUTANTS) expect(mutantAdapterId(m)).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]*$/);
    expect(() => selectMutants('no-such-mutant')).toThrow(/match no mutant/);
    expect(selectMutants('bn-*').length).toBeGreaterThanOrEqual(11);
  });

  test('every mutant changes some layer of ResNet-50 or of a block, or is equivalent with a reason', () => {
    const models = [
      buildModel({ model: 'resnet50', inputShape: [64, 64, 3], classes: 6 }),
      buildModel(BLOCK),
      buildModel({ model: 'identity_block', f: 2, filters: [4, 4, 3], inputShape: [5, 5, 3] }),
    ];
    for (const m of MUTANTS) {
      const live = models.flatMap((s) => {
        const t = mutantTargets(m, s);
        return t.layers.filter((l) => !(l in t.inert));
      });
      if (m.id === 'conv-same-pad-amount-at-stride' || m.id === 'flatten-nchw') expect(live).toEqual([]);
      else expect({ id: m.id, live: live.length > 0 }).toEqual({ id: m.id, live: true });
    }
  });

  test("the override seam by itself changes nothing: a pass-through override is reference-fp32's bits", async () => {
    const passThrough: Mutant = {
      id: 'pass-through',
      kind: 'mutant',
      category: 'control',
      title: 'every layer through the seam, unchanged',
      targets: (spec: ModelSpec) => spec.layers.slice(1).map((l) => l.name),
      evaluate: (l, ctx) => withWeights(l, ctx.prepared),
      rewire: (spec) => ({ ...spec, layers: [...spec.layers] }),
      needs: '-',
    };
    for (const training of [false, true]) {
      const { ref, mut } = await runBoth(passThrough, BLOCK, training);
      expect(sameBits(mut.output.data, ref.output.data)).toBe(true);
      for (const name of Object.keys(ref.intermediates))
        expect(sameBits(mut.intermediates[name].data, ref.intermediates[name].data)).toBe(true);
    }
  });

  test('a mutant changes its target layers and nothing before them', async () => {
    for (const id of ['conv-same-pad-top-left', 'bn-per-sample-statistics', 'relu-before-batchnorm']) {
      const m = MUTANTS.find((x) => x.id === id)!;
      const { spec, ref, mut } = await runBoth(m, BLOCK, true);
      const targets = new Set(m.targets(spec));
      const order = spec.layers.map((l) => l.name);
      const first = order.find(
        (n) => n !== spec.input && !sameBits(ref.intermediates[n].data, mut.intermediates[n].data),
      );
      expect({ id, first: first !== undefined && targets.has(first) }).toEqual({ id, first: true });
      for (const n of order.slice(1, order.indexOf(first!)))
        expect(sameBits(ref.intermediates[n].data, mut.intermediates[n].data)).toBe(true);
    }
  });
});

describe('the mutation score (a subset, block cases only)', () => {
  let outcomes: Map<string, MutantOutcome>;
  let report: Awaited<ReturnType<typeof runMutation>>;
  beforeAll(async () => {
    report = await runMutation({
      cases: 'identity_block/*,convolutional_block/*',
      mutants: 'conv-same-pad-top-left,bn-gamma-beta-swapped,conv-odd-width-tail,flatten-nchw,control-ulp-every-conv',
    });
    outcomes = new Map(report.mutants.map((o) => [o.id, o]));
  });

  test("the cases are the manifest's, judged by the runner; the padding mutant is caught and localized to conv2d_1", () => {
    const ids = loadManifest(FIXTURES_DIR)
      .cases.map((k) => k.id)
      .filter((id) => /^(identity|convolutional)_block\//.test(id));
    expect(report.fixtures.cases).toEqual(ids);
    const pad = outcomes.get('conv-same-pad-top-left')!;
    expect(pad.verdict).toBe('caught');
    expect(pad.failing.every((f) => f.status === 'fail-numeric')).toBe(true);
    expect(pad.localized).toBe(true);
    expect(new Set(pad.diagnoses.map((d) => d.firstDiverging))).toEqual(new Set(['conv2d_1']));
  });

  test('a BatchNorm weight-order mutant and an odd-size-only mutant are caught at their layers', () => {
    const bn = outcomes.get('bn-gamma-beta-swapped')!;
    expect(bn.verdict).toBe('caught');
    expect(bn.localized).toBe(true);
    expect(bn.diagnoses[0].firstDiverging).toMatch(/^batch_normalization/);
    const odd = outcomes.get('conv-odd-width-tail')!;
    expect(odd.verdict).toBe('caught');
    // Only cases with an odd input width fail.
    const widths = new Map(loadManifest(FIXTURES_DIR).cases.map((k) => [k.id, k.input.shape[2]]));
    for (const f of odd.failing)
      expect({ case: f.case, oddWidth: widths.get(f.case)! % 2 === 1 }).toMatchObject({ oddWidth: true });
    expect(odd.passed).toBeGreaterThan(0);
  });

  test('equivalent mutants are listed with their reason, controls pass, the summary adds up', () => {
    const flat = outcomes.get('flatten-nchw')!;
    expect(flat.verdict).toBe('equivalent');
    expect(flat.equivalentWhy!.join(' ')).toMatch(/no layer it changes/);
    expect(outcomes.get('control-ulp-every-conv')!.verdict).toBe('pass');
    const s = report.summary;
    expect(s).toMatchObject({
      mutants: 4,
      nonEquivalent: 3,
      caught: 3,
      localized: 3,
      controls: 1,
      falseAlarms: [],
      equivalent: ['flatten-nchw'],
      exitCode: 0,
    });
    expect(s.caughtShare).toBe(1);
  });

  test('a control that fails is a false alarm and makes the exit code 1; so does an equivalent mutant caught', () => {
    const control = { ...outcomes.get('control-ulp-every-conv')!, verdict: 'false-alarm' as const };
    const s = summarizeMutation([...report.mutants.filter((o) => o.kind === 'mutant'), control]);
    expect(s.falseAlarms).toEqual(['control-ulp-every-conv']);
    expect(s.exitCode).toBe(1);
    const eq = { ...outcomes.get('flatten-nchw')!, verdict: 'equivalent-caught' as const };
    expect(summarizeMutation([eq]).exitCode).toBe(1);
    const survivor = { ...outcomes.get('bn-gamma-beta-swapped')!, verdict: 'survived' as const, localized: null };
    expect(summarizeMutation([survivor]).caughtShare).toBe(0);
  });
});

test('mutate --help and --list', async () => {
  const out: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((s) => {
    out.push(String(s));
    return true;
  });
  try {
    expect(await main(['mutate', '--help'])).toBe(0);
    expect(await main(['mutate', '--list'])).toBe(0);
  } finally {
    spy.mockRestore();
  }
  const text = out.join('');
  expect(text).toMatch(/--min-caught/);
  for (const m of MUTANTS) expect(text).toContain(m.id);
});
