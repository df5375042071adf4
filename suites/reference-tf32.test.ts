/**
 * TF32 emulation: rounding the operands of ONE convolution of the notebook's identity-block test
 * to TF32 reproduces the numbers a GPU notebook revision published (third conv) and a public
 * RTX 4070 report (second conv), while the CPU baseline does not.
 */
import { ReferenceAdapter, roundToTf32, tf32Bits, type ReferenceOptions } from '../src/adapters/reference';
import { initModelWeights } from '../src/init';
import { identityBlock } from '../src/model/builders';
import { constantInit } from '../src/model/initializers';
import { allclose, flat, notebookX, publishedVersions, resumeValues } from './helpers/notebook';

const published = publishedVersions();
const cpu = published['stateless-cpu'].identity_block;
const gpu = published['gpu-tf32'].identity_block;
const rtx = published['gpu-tf32'].rtx4070_report;

/** Indices failing numpy.allclose(actual, desired, rtol, atol). */
const notClose = (actual: number[], desired: number[], rtol: number, atol: number): number[] =>
  allclose(actual, desired, rtol, atol).bad;

/** The two identity-block calls of the notebook's public test. */
const CALLS = [
  { training: false, f: 2, filters: [4, 4, 3], key: 'resume_training_false_public_tests' },
  { training: true, f: 3, filters: [3, 3, 3], key: 'resume_training_true_public_tests' },
] as const;

async function notebookResume(opts: ReferenceOptions, call: (typeof CALLS)[number]): Promise<number[]> {
  const spec = identityBlock(call.f, [...call.filters], { initializer: constantInit(1) });
  const a = new ReferenceAdapter(opts);
  await a.build(spec, initModelWeights(spec));
  return resumeValues((await a.run(notebookX(), { training: call.training })).output);
}

describe('TF32 rounding', () => {
  const bits = (x: number): number => new Uint32Array(Float32Array.of(x).buffer)[0];
  test.each([
    [1, 1],
    [1 + 2 ** -10, 1 + 2 ** -10], // representable (10 mantissa bits)
    [1 + 2 ** -11, 1], // tie, rounds to even
    [1 + 3 * 2 ** -11, 1 + 2 ** -9], // tie, rounds to even (up)
    [1 + 2 ** -11 + 2 ** -20, 1 + 2 ** -10], // above the tie
    [-(1 + 3 * 2 ** -11), -(1 + 2 ** -9)],
    [192.71236, 192.75], // ulp 0.125 at 128..256
    [Infinity, Infinity],
    [-Infinity, -Infinity],
    [0, 0],
    [2 ** -130, 2 ** -130], // subnormal with 10-bit mantissa: exact
    [2 ** -140, 0], // below the smallest TF32 subnormal (2^-136)
  ])('roundToTf32(%p) = %p', (x, y) => {
    expect(roundToTf32(x)).toBe(y);
  });

  test('NaN stays NaN (payload kept), the largest float32 overflows to Infinity like the hardware', () => {
    expect(tf32Bits(0x7fc00001)).toBe(0x7fc00001);
    expect(Number.isNaN(roundToTf32(NaN))).toBe(true);
    expect(roundToTf32(3.4028234663852886e38)).toBe(Infinity);
    expect(bits(roundToTf32(Math.PI)) & 0x1fff).toBe(0);
  });
});

describe('TF32 emulation of the GPU revision of the identity-block test', () => {
  test.each(CALLS)(
    'TF32 in the third conv (conv2d_2) only reproduces the gpu-tf32 public_tests values, training=$training',
    async (call) => {
      const r = await notebookResume({ precision: 'tf32', tf32Layers: ['conv2d_2'] }, call);
      expect(notClose(r, flat(gpu[call.key]), 1e-5, gpu.atol)).toEqual([]);
      // and no longer the CPU values
      expect(notClose(r, flat(cpu[call.key]), 1e-5, cpu.atol).length).toBeGreaterThan(0);
    },
  );

  test('the gpu-tf32 anchors, explicitly: 192.6542 / 578.21246 / 146.80312 and 0.373974 / 3.2379792 / 4.139072', async () => {
    const off = await notebookResume({ precision: 'tf32', tf32Layers: ['conv2d_2'] }, CALLS[0]);
    const on = await notebookResume({ precision: 'tf32', tf32Layers: ['conv2d_2'] }, CALLS[1]);
    const near = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-5 + 1e-5 * Math.abs(b);
    expect([near(off[8], 192.6542), near(off[16], 578.21246), near(off[23], 146.80312)]).toEqual([true, true, true]);
    expect([near(on[8], 0.373974), near(on[16], 3.2379792), near(on[17], 4.139072)]).toEqual([true, true, true]);
  });

  test('TF32 in the second conv (conv2d_1) only reproduces the RTX 4070 report: 192.6833 and 577.92505', async () => {
    const r = await notebookResume({ precision: 'tf32', tf32Layers: ['conv2d_1'] }, CALLS[0]);
    const reported = [rtx.values['resume[1,0,0]'], rtx.values['resume[2,0,0]']];
    expect(reported).toEqual([192.6833, 577.92505]);
    expect(notClose([r[8], r[16]], reported, 1e-5, 1e-5)).toEqual([]);
    expect(
      notClose([r[8], r[16]], [rtx.cpu_values['resume[1,0,0]'], rtx.cpu_values['resume[2,0,0]']], 1e-5, 1e-5),
    ).toEqual([0, 1]);
  });

  test.each([
    ['reference fp64', { precision: 'fp64' }],
    ['reference fp32', { precision: 'fp32' }],
  ] as [string, ReferenceOptions][])('%s (CPU arithmetic) does NOT reproduce the gpu-tf32 values', async (_, opts) => {
    for (const call of CALLS) {
      const r = await notebookResume(opts, call);
      expect(notClose(r, flat(cpu[call.key]), 1e-5, cpu.atol)).toEqual([]);
      expect(notClose(r, flat(gpu[call.key]), 1e-5, gpu.atol).length).toBeGreaterThan(0);
    }
  });

  test('TF32 in every conv (the reference-tf32 default) matches neither the GPU revision nor the CPU values for training=False', async () => {
    const r = await notebookResume({ precision: 'tf32' }, CALLS[0]);
    expect(notClose(r, flat(gpu[CALLS[0].key]), 1e-5, gpu.atol).length).toBeGreaterThan(0);
    expect(notClose(r, flat(cpu[CALLS[0].key]), 1e-5, cpu.atol).length).toBeGreaterThan(0);
  });
});
