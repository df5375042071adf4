import * as fs from 'fs';
import * as path from 'path';
/**
 * The tolerance table (src/compare/tolerances/): complete over (case class, tensor role, profile),
 * reasoned, the notebook's tolerance the strictest for its published values, loosening only with
 * measurements logged in docs/tolerances.md, no tolerance so loose that it checks nothing (expected-divergence rows instead),
 * and every row used by a committed fixture tensor (the revision-tf32 rows: by the baselines
 * suites/baseline-set.test.ts imports from suites/helpers/notebook-revisions).
 */
import {
  CASE_CLASSES,
  CASE_CLASS_DESCRIPTIONS,
  CASE_CLASS_ROLES,
  KNOWN_DEFECTS,
  KNOWN_DEFECTS_BY_ADAPTER,
  LOSSY_PROFILES,
  PRECISION_PROFILES,
  REASONS,
  ROWS_BY_PROFILE,
  REFERENCE_PROBABILITY_CLASSES,
  REFERENCE_PROBABILITY_MAX_ABS,
  TOLERANCES,
  isExpectedDivergence,
  knownClassNames,
  knownDefectFor,
  parseClassName,
  resolveTolerance,
  rowFor,
  toleranceFor,
  toleranceForName,
  type CaseClass,
  type ToleranceEntry,
  type ToleranceRow,
} from '../src/compare/tolerances';
import { ADAPTERS } from '../src/adapters/registry';
import { caseTensorRefs, loadManifest, toleranceKeyOf } from '../src/golden/load';

/** numpy.allclose defaults: the notebook's convolutional-block tolerance. */
const NOTEBOOK_DEFAULT = { atol: 1e-8, rtol: 1e-5 };
const NOTEBOOK_PUBLISHED: Partial<Record<CaseClass, { atol: number; rtol: number }>> = {
  'notebook-identity-resume': { atol: 1e-5, rtol: 1e-5 }, // public_tests.py: np.allclose(..., atol=1e-5)
  'notebook-conv-output': NOTEBOOK_DEFAULT,
};

const rows = CASE_CLASSES.flatMap((c) =>
  CASE_CLASS_ROLES[c].flatMap((role) =>
    [...PRECISION_PROFILES, ...LOSSY_PROFILES]
      .filter((p) => TOLERANCES[c][role]![p] !== undefined)
      .map((p) => [c, role, p, TOLERANCES[c][role]![p]!] as const),
  ),
);
const tolerances = rows.filter(
  (r): r is readonly [CaseClass, (typeof r)[1], (typeof r)[2], ToleranceEntry] => !isExpectedDivergence(r[3]),
);
const divergences = rows.filter(([, , , e]) => isExpectedDivergence(e));
const tol = (c: CaseClass, role: string, p: string): ToleranceRow => rowFor(c, role, p);

/** docs/tolerances.md, the measurement log: the entry of a row in its profile's section ('' when none). */
const measurementsDoc = fs.readFileSync(path.join(__dirname, '..', 'docs', 'tolerances.md'), 'utf8');
function measurementEntry(cls: string, role: string, profile: string): string {
  const section = measurementsDoc.split(/^### /m).find((s) => s.startsWith(`${profile}\n`)) ?? '';
  return section.split('\n').find((l) => l.startsWith(`- **\`${cls}\` × \`${role}\`**`)) ?? '';
}
/**
 * Classes of imported revisions whose values only TF32 reproduces: every CPU profile is an expected
 * divergence, bounded by the revision file's own tolerance; used by imported baselines only.
 */
const REVISION_TF32: Partial<Record<CaseClass, { atol: number; rtol: number }>> = {
  'revision-tf32-identity-resume': { atol: 1e-5, rtol: 1e-5 },
  'revision-tf32-conv-output': NOTEBOOK_DEFAULT,
};

describe('tolerance table', () => {
  test('has a row for every case class x its roles x every profile, and no other roles', () => {
    for (const c of CASE_CLASSES) {
      expect([c, Object.keys(TOLERANCES[c]).sort()]).toEqual([c, [...CASE_CLASS_ROLES[c]].sort()]);
      for (const role of CASE_CLASS_ROLES[c]) {
        // Every complete profile; a known-lossy profile only where it was measured.
        const profiles = Object.keys(TOLERANCES[c][role]!);
        expect([c, role, profiles.filter((p) => !LOSSY_PROFILES.includes(p as never)).sort()]).toEqual([
          c,
          role,
          [...PRECISION_PROFILES].sort(),
        ]);
        for (const p of profiles) expect([...PRECISION_PROFILES, ...LOSSY_PROFILES]).toContain(p);
      }
    }
  });

  test.each(tolerances)('%s x %s x %s: finite atol/rtol >= 0 and a written reason', (cls, role, profile, e) => {
    expect(toleranceFor(cls, role, profile)).toBe(e);
    expect(Number.isFinite(e.atol) && e.atol >= 0).toBe(true);
    expect(Number.isFinite(e.rtol) && e.rtol >= 0).toBe(true);
    expect('maxUlp' in e).toBe(false);
    expect(e.reason.length).toBeGreaterThan(40);
    expect(e.reason).not.toMatch(/PENDING|TODO/);
  });

  test('no tolerance checks only NaN/Inf and shapes: every atol is below 1 (a known divergence is an expected-divergence row)', () => {
    expect(tolerances.filter(([, , , e]) => e.atol >= 1).map(([c, r, p]) => `${c} x ${r} x ${p}`)).toEqual([]);
    expect(
      tolerances
        .filter(([, , , e]) => /NaN\/Inf and wrong shapes only/.test(e.reason))
        .map(([c, r, p]) => `${c} x ${r} x ${p}`),
    ).toEqual([]);
  });

  test('the expected divergences: the two former atol-6 rows (tf32-gpu, ResNet-50 training activations) and float16 training-mode ResNet-50', () => {
    expect(divergences.map(([c, r, p]) => `${c} x ${r} x ${p}`).sort()).toEqual([
      'perturbed-resnet50-training x activations x tf32-gpu',
      'resnet50-training x activations x tf32-gpu',
      'resnet50-training x activations x webgl-f16',
      'resnet50-training x logits x webgl-f16',
      'resnet50-training x probabilities x webgl-f16',
      'resnet50-training-float64 x activations x tf32-gpu',
      'resnet50-training-float64 x activations x webgl-f16',
      'resnet50-training-float64 x logits x webgl-f16',
      'resnet50-training-float64 x probabilities x webgl-f16',
      'revision-tf32-conv-output x output x fp32-cpu',
      'revision-tf32-conv-output x output x fp64-reference',
      'revision-tf32-identity-resume x output x fp32-cpu',
      'revision-tf32-identity-resume x output x fp64-reference',
    ]);
  });

  test.each(divergences)(
    '%s x %s x %s: an expected divergence with a measured reason and a tight bound',
    (cls, role, profile, e) => {
      if (!isExpectedDivergence(e)) throw new Error('not an expected divergence');
      // the measured divergence is logged in docs/tolerances.md under the row
      expect([cls, role, profile, measurementEntry(cls, role, profile)]).toEqual([
        cls,
        role,
        profile,
        expect.stringMatching(/measured.*\d\.\d+/i),
      ]);
      expect(() => toleranceFor(cls, role, profile)).toThrow(/is an expected divergence/);
      const r = resolveTolerance(cls, role, profile);
      // Without a bound of its own, the fp32-cpu row of the same class and role is the tight bound.
      const bound = e.expectedDivergence.tightBound ?? toleranceFor(cls, role, 'fp32-cpu');
      // the revision-tf32 classes: bounded by the revision file's own tolerance
      if (REVISION_TF32[cls]) expect(e.expectedDivergence.tightBound).toEqual(REVISION_TF32[cls]);
      expect(r).toMatchObject({
        caseClass: cls,
        role,
        profile,
        kind: 'expected-divergence',
        atol: bound.atol,
        rtol: bound.rtol,
        reason: e.expectedDivergence.reason,
      });
      expect(r.tightBoundFrom).toMatch(e.expectedDivergence.tightBound ? /own/ : /fp32-cpu row/);
    },
  );

  test('every tolerance looser than the notebook tolerance has measured numbers in docs/tolerances.md', () => {
    const unmeasured = tolerances
      .filter(([cls, , , e]) => {
        const base = NOTEBOOK_PUBLISHED[cls] ?? NOTEBOOK_DEFAULT;
        return e.atol > base.atol || e.rtol > base.rtol;
      })
      .filter(([c, r, p]) => !/measured.*(\d(\.\d+)?e-\d|\d\.\d+)/i.test(measurementEntry(c, r, p)))
      .map(([c, r, p]) => `${c} x ${r} x ${p}`);
    expect(unmeasured).toEqual([]);
    // every row has its entry, with the row's own numbers
    for (const [c, r, p, e] of tolerances) {
      const m = /— atol ([\d.e+-]+), rtol ([\d.e+-]+)\./.exec(measurementEntry(c, r, p));
      expect([c, r, p, m && Number(m[1]), m && Number(m[2])]).toEqual([c, r, p, e.atol, e.rtol]);
    }
  });

  test('reasons say why, once each: no measured numbers, dates, browser versions or hand-quoted needed tolerances; every reason used', () => {
    const texts = Object.entries(REASONS);
    expect(
      texts
        .filter(([, t]) => /measured:|\d(\.\d+)?e-\d+ abs|needs? atol|\b20\d\d-\d\d|Chromium \d|issue \d/i.test(t))
        .map(([k]) => k),
    ).toEqual([]);
    expect(new Set(texts.map(([, t]) => t)).size).toBe(texts.length);
    const used = new Set(Object.values(ROWS_BY_PROFILE).flatMap((lines) => lines.map((l) => l.reason)));
    expect(texts.map(([k]) => k).filter((k) => !used.has(k as never))).toEqual([]);
  });

  test('the table reads one screen per profile: one line per row in table/<profile>.ts', () => {
    const dir = path.join(__dirname, '..', 'src', 'compare', 'tolerances', 'table');
    for (const [profile, lines] of Object.entries(ROWS_BY_PROFILE)) {
      const text = fs.readFileSync(path.join(dir, `${profile}.ts`), 'utf8').split('\n');
      const rowLines = text.filter((l) => /^\s*[td]\('/.test(l));
      expect([profile, rowLines.length, text.length <= 50]).toEqual([profile, lines.length, true]);
    }
  });

  test("the notebook's own tolerance is the fp64-reference entry for its published values, and nothing is stricter", () => {
    for (const [cls, nb] of Object.entries(NOTEBOOK_PUBLISHED) as [CaseClass, { atol: number; rtol: number }][]) {
      const ref = toleranceFor(cls, 'output', 'fp64-reference');
      expect([cls, ref.atol, ref.rtol]).toEqual([cls, nb.atol, nb.rtol]);
      for (const p of PRECISION_PROFILES) {
        expect(toleranceFor(cls, 'output', p).atol).toBeGreaterThanOrEqual(nb.atol);
        expect(toleranceFor(cls, 'output', p).rtol).toBeGreaterThanOrEqual(nb.rtol);
      }
    }
  });

  test('profiles are ordered: fp32-cpu is not stricter than fp64-reference, tf32-gpu not stricter than fp32-cpu', () => {
    for (const cls of CASE_CLASSES) {
      if (REVISION_TF32[cls]) {
        // every CPU profile diverges; the tf32-gpu row is not stricter than the file's tolerance
        const [a, b, c] = PRECISION_PROFILES.map((p) => tol(cls, 'output', p));
        expect([cls, isExpectedDivergence(a), isExpectedDivergence(b), isExpectedDivergence(c)]).toEqual([
          cls,
          true,
          true,
          false,
        ]);
        const t = c as ToleranceEntry;
        expect(t.atol >= REVISION_TF32[cls]!.atol && t.rtol >= REVISION_TF32[cls]!.rtol).toBe(true);
        continue;
      }
      for (const role of CASE_CLASS_ROLES[cls]) {
        const [a, b, c] = PRECISION_PROFILES.map((p) => tol(cls, role, p));
        if (isExpectedDivergence(a) || isExpectedDivergence(b))
          throw new Error(`${cls} x ${role}: only tf32-gpu rows may be expected divergences`);
        expect([cls, role, b.atol >= a.atol && b.rtol >= a.rtol]).toEqual([cls, role, true]);
        if (!isExpectedDivergence(c))
          expect([cls, role, c.atol >= b.atol && c.rtol >= b.rtol]).toEqual([cls, role, true]);
      }
    }
  });

  test('the reference-probability requirement applies to probability classes whose fp64 entry is within it', () => {
    expect(REFERENCE_PROBABILITY_MAX_ABS).toBe(1e-5);
    for (const cls of REFERENCE_PROBABILITY_CLASSES) {
      const e = toleranceFor(cls, 'probabilities', 'fp64-reference');
      // probabilities are <= 1, so atol + rtol bounds the allowed absolute error (1e-8 + 1e-5 at most);
      // suites/fixtures.test.ts checks the measured error itself against REFERENCE_PROBABILITY_MAX_ABS
      expect(e.atol + e.rtol).toBeLessThan(1.01e-5);
    }
  });

  test('rowFor / toleranceFor name the case class, the role and the profile when there is no row', () => {
    expect(() => toleranceFor('no-such-class', 'output', 'fp32-cpu')).toThrow(
      /case class 'no-such-class' x role 'output' x precision profile 'fp32-cpu'/,
    );
    expect(() => toleranceFor('block-training', 'output', 'fp16-npu')).toThrow(
      /case class 'block-training' x role 'output' x precision profile 'fp16-npu'/,
    );
    expect(() => toleranceFor('block-training', 'logits', 'fp32-cpu')).toThrow(/role 'logits'/);
    expect(() => toleranceForName('resnet50-training-weights', 'fp32-cpu')).toThrow(
      /'resnet50-training-weights'.*known names: .*resnet50-training-logits/,
    );
  });

  test("the manifest's one-string names map to (class, role): a bare class names its output's role", () => {
    expect(parseClassName('resnet50-training-logits')).toEqual({ caseClass: 'resnet50-training', role: 'logits' });
    expect(parseClassName('resnet50-training-float64-activations')).toEqual({
      caseClass: 'resnet50-training-float64',
      role: 'activations',
    });
    expect(parseClassName('resnet50-inference')).toEqual({ caseClass: 'resnet50-inference', role: 'probabilities' });
    expect(parseClassName('pretrained-resnet50-float64')).toEqual({
      caseClass: 'pretrained-resnet50-float64',
      role: 'probabilities',
    });
    expect(parseClassName('block-training')).toEqual({ caseClass: 'block-training', role: 'output' });
    expect(parseClassName('block-training-logits')).toBeUndefined(); // a block has no logits
    expect(parseClassName('resnet50')).toBeUndefined();
    for (const n of knownClassNames()) expect(parseClassName(n)).toBeDefined();
  });

  test('every row is used by at least one committed fixture tensor (or the pre-trained goldens), and every case class is described', () => {
    const m = loadManifest();
    const used = new Set<string>();
    for (const k of m.cases) {
      for (const { role, ref } of caseTensorRefs(k)) {
        if (role === 'input') continue;
        const key = toleranceKeyOf(k, ref);
        used.add(`${key.caseClass} x ${key.role}`);
      }
    }
    // The pre-trained-model goldens (fixtures/pretrained/manifest.json) use the table too.
    const preDir = path.join(__dirname, '..', 'fixtures', 'pretrained');
    const pre = JSON.parse(fs.readFileSync(path.join(preDir, 'manifest.json'), 'utf8')) as {
      blocks: { expected: { caseClass: string } }[];
      resnet50: { goldens: string };
    };
    const g = JSON.parse(fs.readFileSync(path.join(preDir, pre.resnet50.goldens), 'utf8')) as {
      caseClass: string;
      float64: { caseClass: string };
    };
    for (const name of [...pre.blocks.map((b) => b.expected.caseClass), g.caseClass, g.float64.caseClass]) {
      const key = parseClassName(name);
      expect([name, key]).toEqual([name, expect.anything()]);
      used.add(`${key!.caseClass} x ${key!.role}`);
    }
    const all = CASE_CLASSES.filter((c) => !REVISION_TF32[c]).flatMap((c) =>
      CASE_CLASS_ROLES[c].map((r) => `${c} x ${r}`),
    );
    expect(all.filter((r) => !used.has(r))).toEqual([]);
    for (const c of CASE_CLASSES) expect(CASE_CLASS_DESCRIPTIONS[c].length).toBeGreaterThan(10);
  });
});

describe('KNOWN_DEFECTS (runtime bugs keyed by adapter and case)', () => {
  test('each entry names registered adapters, committed fixture cases, the layer, a reason with a number, a reproduction and versions', () => {
    const ids = new Set(ADAPTERS.map((a) => a.id));
    const cases = new Set(loadManifest().cases.map((k) => k.id));
    expect(KNOWN_DEFECTS.length).toBeGreaterThan(0);
    for (const d of KNOWN_DEFECTS) {
      expect(d.adapters.filter((a) => !ids.has(a))).toEqual([]);
      expect(d.cases.filter((c) => !cases.has(c))).toEqual([]);
      expect(d.adapters.length * d.cases.length).toBeGreaterThan(0);
      expect(d.layer).toMatch(/\S/);
      expect(d.reason).toMatch(/\d/);
      expect(d.reproduce).toMatch(/\S{8}/);
      expect(d.seenWith).toMatch(/\d+\.\d+/);
    }
  });

  test('keyed by adapter id; the flat list and knownDefectFor follow the keyed table', () => {
    for (const [adapter, defects] of Object.entries(KNOWN_DEFECTS_BY_ADAPTER))
      for (const d of defects)
        for (const c of d.cases)
          expect(knownDefectFor(adapter, c)).toMatchObject({ adapters: [adapter], layer: d.layer });
    expect(KNOWN_DEFECTS.length).toBe(Object.values(KNOWN_DEFECTS_BY_ADAPTER).flat().length);
    expect(knownDefectFor('constructor', 'x')).toBeUndefined();
    expect(knownDefectFor('reference', KNOWN_DEFECTS[0].cases[0])).toBeUndefined();
  });

  test('an adapter and case appear in at most one entry', () => {
    const seen = KNOWN_DEFECTS.flatMap((d) => d.adapters.flatMap((a) => d.cases.map((c) => `${a} ${c}`)));
    expect(seen.length).toBe(new Set(seen).size);
  });
});
