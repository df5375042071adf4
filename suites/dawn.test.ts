/**
 * WebGPU in Node on Dawn (src/adapters/dawn): `tfjs-webgpu-node` available here with the real Dawn
 * adapter strings, the block golden cases through the normal comparison path at its profile's
 * tolerance (measured error printed per case), fault injection in its program (an exit and a hang
 * mid-run are crashed / timeout, a lost device is crashed with the reason, then the restarted program
 * computes again), and no adapter = unavailable with reason and fix, never a run elsewhere.
 * Without Chromium's SwiftShader Vulkan ICD every test is a skip that names the fix.
 *
 * ResNet-50 is not run here (≈ 20-35 s per case on SwiftShader); `resnet-conformance run --adapters
 * tfjs-webgpu-node` covers it (docs/browser.md, "WebGPU in Node (Dawn)").
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DAWN_ICD_ENV, dawnEnvironment, dawnEnvironmentProblem, tfjsDawnAdapter } from '../src/adapters/dawn';
import { adapterFaultStatus } from '../src/adapters/faults';
import { ADAPTERS } from '../src/adapters/registry';
import { blockCasesByModel, runBlockCases } from './helpers/block-cases';
import type { Adapter } from '../src/adapters/types';
import { initModelWeights } from '../src/init';
import { buildModel } from '../src/model/model-args';
import { seededUniform } from '../src/tensor/sample-inputs';

const ID = 'tfjs-webgpu-node';
const entry = ADAPTERS.find((a) => a.id === ID)!;
const envProblem = dawnEnvironmentProblem();

describe('Dawn environment selection', () => {
  test('default: SwiftShader from /usr/lib/chromium; system: nothing forced; a .json: that ICD; anything else: a clear error', () => {
    expect(dawnEnvironment({}).env).toEqual({
      LD_LIBRARY_PATH: '/usr/lib/chromium',
      VK_ICD_FILENAMES: '/usr/lib/chromium/vk_swiftshader_icd.json',
    });
    expect(dawnEnvironment({ [DAWN_ICD_ENV]: 'system' })).toEqual({ mode: 'system', env: {} });
    expect(dawnEnvironment({ [DAWN_ICD_ENV]: '/x/icd.json' }).env).toEqual({ VK_ICD_FILENAMES: '/x/icd.json' });
    expect(() => dawnEnvironment({ [DAWN_ICD_ENV]: 'lavapipe' })).toThrow(
      /RESNET_CONFORMANCE_DAWN_ICD must be .*'lavapipe'/,
    );
  });

  test('an ICD file that does not exist: unavailable before any process starts, with the fix', async () => {
    const a = tfjsDawnAdapter(ID, { env: { [DAWN_ICD_ENV]: '/nonexistent/vk_icd.json' } });
    const p = await a.probe();
    expect(p.available).toBe(false);
    expect(p.reason).toMatch(/\/nonexistent\/vk_icd\.json does not exist/);
    expect(p.fix).toMatch(/apt-get install chromium/);
    await a.dispose();
  });
});

if (envProblem) {
  describe(`${ID} (Dawn)`, () => {
    test.skip(`unavailable: ${envProblem.reason} (fix: ${envProblem.fix})`, () => undefined);
  });
} else {
  const byModel = blockCasesByModel();

  describe(`${ID} on the block golden cases [${entry.profile}]`, () => {
    const adapter = entry.create();
    afterAll(async () => {
      await adapter.dispose();
    });

    test('is available here, and describe() names the Dawn adapter (vendor, architecture, device, description, fallback, limits)', async () => {
      expect(await adapter.probe()).toEqual({ available: true });
      const d = await adapter.describe();
      expect(d.runtime).toMatch(/Dawn/);
      expect(d.settings.backend).toBe('webgpu');
      for (const k of ['vendor', 'architecture', 'adapterDevice', 'description'])
        expect(String(d.settings[k]).length).toBeGreaterThan(0);
      expect(typeof d.settings.isFallbackAdapter).toBe('boolean');
      expect(Number(d.settings.maxStorageBufferBindingSize)).toBeGreaterThan(0);
      expect(d.device).toContain(String(d.settings.architecture));
      if (dawnEnvironment().mode === 'swiftshader') {
        expect(d.settings.architecture).toBe('swiftshader');
        expect(d.settings.isFallbackAdapter).toBe(true);
      }
    }, 120_000);

    for (const [key, cases] of byModel) {
      test(`model ${key}: ${cases.length} cases`, async () => {
        const r = await runBlockCases(adapter, entry.id, entry.profile, cases);
        for (const n of r.comparisons) expect(n).toBeGreaterThan(0);
        console.info(`${ID} measured:\n  ${r.measured.join('\n  ')}`);
        expect(r.problems).toEqual([]);
      }, 300_000);
    }
  });

  describe(`${ID}: faults of its program`, () => {
    const k = [...byModel.values()].flat().find((c) => c.model.model === 'identity_block')!;
    const spec = buildModel(k.model);
    const weights = initModelWeights(spec);
    const inputShape = spec.layers.find((l) => l.name === spec.input)!.outputShape;
    const x = seededUniform([1, ...inputShape], 7, -1, 1);

    async function faultThenRecover(fault: string, timeoutMs: number): Promise<{ status: unknown; message: string }> {
      const a: Adapter = tfjsDawnAdapter(ID, { env: { RESNET_CONFORMANCE_DAWN_FAULT: fault }, timeoutMs });
      try {
        await a.build(spec, weights);
        const before = await a.run(x, { training: false });
        let err: unknown;
        await a.run(x, { training: true }).catch((e: unknown) => {
          err = e;
        });
        expect(err).toBeDefined();
        // the program was restarted and the model rebuilt: the same inference again, bit for bit
        const after = await a.run(x, { training: false });
        expect(Array.from(after.output.data)).toEqual(Array.from(before.output.data));
        return { status: adapterFaultStatus(err), message: (err as Error).message };
      } finally {
        await a.dispose();
      }
    }

    test('the program exits mid-run: crashed; the next run works on a restarted program', async () => {
      const r = await faultThenRecover('exit', 60_000);
      expect(r.status).toBe('crashed');
    }, 180_000);

    test('the program hangs mid-run: timeout (it is killed); the next run works on a restarted program', async () => {
      const r = await faultThenRecover('hang', 15_000);
      expect(r.status).toBe('timeout');
    }, 180_000);

    test('a lost GPU device: crashed, the message says so; the next run works on a restarted program', async () => {
      const r = await faultThenRecover('device-lost', 60_000);
      expect(r.status).toBe('crashed');
      expect(r.message).toMatch(/GPU device lost/);
    }, 180_000);
  });

  describe(`${ID}: no adapter means unavailable, never a run on another backend`, () => {
    test('an ICD file whose driver library does not exist: Dawn finds no adapter, unavailable with the reason', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dawn-icd-'));
      const icd = path.join(dir, 'broken_icd.json');
      fs.writeFileSync(
        icd,
        JSON.stringify({
          file_format_version: '1.0.0',
          ICD: { library_path: path.join(dir, 'libnone.so'), api_version: '1.3.0' },
        }),
      );
      const a = tfjsDawnAdapter(ID, {
        env: { [DAWN_ICD_ENV]: icd, LD_LIBRARY_PATH: path.dirname(dawnEnvironment().icd!) },
      });
      try {
        const p = await a.probe();
        expect(p.available).toBe(false);
        expect(p.reason).toMatch(/Dawn found no WebGPU adapter/);
        expect(p.fix).toMatch(/RESNET_CONFORMANCE_DAWN_ICD/);
      } finally {
        await a.dispose();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }, 120_000);
  });
}
