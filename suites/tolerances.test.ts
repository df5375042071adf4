import * as fs from 'fs';
import * as path from 'path';
/**
 * The tolerance table (src/compare/tolerances.ts): complete, reasoned, the notebook's tolerance the
 * strictest for its published values, loosening only with measured numbers, and every row used.
 */
import {
  CASE_CLASSES, CASE_CLASS_DESCRIPTIONS, PRECISION_PROFILES, REFERENCE_PROBABILITY_CLASSES, REFERENCE_PROBABILITY_MAX_ABS,
  TOLERANCES, toleranceFor, type CaseClass,
} from '../src/compare/tolerances';
import { caseTensorRefs, loadManifest } from '../src/fixtures/load';

/** numpy.allclose defaults: the notebook's convolutional-block tolerance. */
const NOTEBOOK_DEFAULT = { atol: 1e-8, rtol: 1e-5 };
const NOTEBOOK_PUBLISHED: Partial<Record<CaseClass, { atol: number; rtol: number }>> = {
  'notebook-identity-resume': { atol: 1e-5, rtol: 1e-5 }, // public_tests.py: np.allclose(..., atol=1e-5)
  'notebook-conv-output': NOTEBOOK_DEFAULT,
};

const entries = CASE_CLASSES.flatMap((c) => PRECISION_PROFILES.map((p) => [c, p, TOLERANCES[c][p]] as const));

describe('tolerance table', () => {
  test.each(entries)('%s x %s: finite atol/rtol >= 0 and a written reason', (cls, profile, e) => {
    expect(toleranceFor(cls, profile)).toBe(e);
    expect(Number.isFinite(e.atol) && e.atol >= 0).toBe(true);
    expect(Number.isFinite(e.rtol) && e.rtol >= 0).toBe(true);
    if (e.maxUlp !== undefined) expect(Number.isInteger(e.maxUlp) && e.maxUlp >= 0).toBe(true);
    expect(e.reason.length).toBeGreaterThan(40);
    expect(e.reason).not.toMatch(/PENDING|TODO/);
  });

  test('every entry looser than the notebook tolerance gives measured numbers', () => {
    const unreasoned = entries
      .filter(([cls, , e]) => {
        const base = NOTEBOOK_PUBLISHED[cls] ?? NOTEBOOK_DEFAULT;
        return e.atol > base.atol || e.rtol > base.rtol || e.maxUlp !== undefined;
      })
      .filter(([, , e]) => !/measured/i.test(e.reason) || !/\d(\.\d+)?e-\d|\d\.\d+/.test(e.reason))
      .map(([c, p]) => `${c} x ${p}`);
    expect(unreasoned).toEqual([]);
  });

  test("the notebook's own tolerance is the fp64-reference entry for its published values, and nothing is stricter", () => {
    for (const [cls, nb] of Object.entries(NOTEBOOK_PUBLISHED) as [CaseClass, { atol: number; rtol: number }][]) {
      const ref = TOLERANCES[cls]['fp64-reference'];
      expect([cls, ref.atol, ref.rtol]).toEqual([cls, nb.atol, nb.rtol]);
      for (const p of PRECISION_PROFILES) {
        expect(TOLERANCES[cls][p].atol).toBeGreaterThanOrEqual(nb.atol);
        expect(TOLERANCES[cls][p].rtol).toBeGreaterThanOrEqual(nb.rtol);
      }
    }
  });

  test('profiles are ordered: fp32-cpu is not stricter than fp64-reference, tf32-gpu not stricter than fp32-cpu', () => {
    for (const cls of CASE_CLASSES) {
      const [a, b, c] = PRECISION_PROFILES.map((p) => TOLERANCES[cls][p]);
      expect([cls, b.atol >= a.atol && b.rtol >= a.rtol]).toEqual([cls, true]);
      expect([cls, c.atol >= b.atol && c.rtol >= b.rtol]).toEqual([cls, true]);
    }
  });

  test('the reference-probability requirement applies to probability classes whose fp64 entry is within it', () => {
    expect(REFERENCE_PROBABILITY_MAX_ABS).toBe(1e-5);
    for (const cls of REFERENCE_PROBABILITY_CLASSES) {
      const e = TOLERANCES[cls]['fp64-reference'];
      // probabilities are <= 1, so atol + rtol bounds the allowed absolute error (1e-8 + 1e-5 at most);
      // suites/fixtures.test.ts checks the measured error itself against REFERENCE_PROBABILITY_MAX_ABS
      expect(e.atol + e.rtol).toBeLessThan(1.01e-5);
    }
  });

  test('toleranceFor names the case class and the profile when there is no entry', () => {
    expect(() => toleranceFor('no-such-class', 'fp32-cpu')).toThrow(/case class 'no-such-class' x precision profile 'fp32-cpu'/);
    expect(() => toleranceFor('block-training', 'fp16-npu')).toThrow(/case class 'block-training' x precision profile 'fp16-npu'/);
  });

  test('every case class is described and used by at least one committed fixture tensor', () => {
    const m = loadManifest();
    const used = new Set<string>();
    for (const k of m.cases) for (const { role, ref } of caseTensorRefs(k)) if (role !== 'input') used.add(ref.caseClass ?? k.caseClass);
    // The pre-trained-model goldens (fixtures/pretrained/manifest.json) use the table too.
    const preDir = path.join(__dirname, '..', 'fixtures', 'pretrained');
    const pre = JSON.parse(fs.readFileSync(path.join(preDir, 'manifest.json'), 'utf8')) as
      { blocks: { expected: { caseClass: string } }[]; resnet50: { goldens: string } };
    for (const b of pre.blocks) used.add(b.expected.caseClass);
    const g = JSON.parse(fs.readFileSync(path.join(preDir, pre.resnet50.goldens), 'utf8')) as { caseClass: string; float64: { caseClass: string } };
    used.add(g.caseClass);
    used.add(g.float64.caseClass);
    expect(CASE_CLASSES.filter((c) => !used.has(c))).toEqual([]);
    for (const c of CASE_CLASSES) expect(CASE_CLASS_DESCRIPTIONS[c].length).toBeGreaterThan(10);
  });
});
