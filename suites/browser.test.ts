/**
 * The browser host and the browser adapters (src/adapters/browser): host start/stop, tensors as
 * bytes (bit-exact), fault injection (a hung call, a crashed renderer, a killed browser, a lost GPU
 * device: each reported as such, the host recovers), the no-WebGPU fallback (unavailable, never a
 * run on another backend), every browser adapter available with its settings, and the opt-in
 * (software-GPU) browser adapters on the block golden cases at their profile's tolerance (the others,
 * tfjs-wasm-browser and onnxruntime-web-wasm-browser, run every golden case in suites/fixtures.test.ts).
 * Without Chromium every test here is a skip that names the fix, never a pass.
 *
 * ResNet-50 is not run here (software-GPU runs take minutes: docs/browser.md); `resnet-conformance
 * run --adapters <browser adapters>` covers it.
 */
import * as fs from 'node:fs';
import { ADAPTERS } from '../src/adapters/registry';
import { PageServer } from '../src/adapters/browser/server';
import { initModelWeights, perturbModelWeights, PERTURB_RECIPE } from '../src/init';
import { buildModel } from '../src/model/model-args';
import { blockCasesByModel, runBlockCases } from './helpers/block-cases';
import {
  BrowserFault,
  BrowserHost,
  CHROMIUM_FIX,
  findChromium,
  tfjsBrowserAdapter,
  ortWebBrowserAdapter,
} from '../src/adapters/browser';
import { packTensors, unpackTensors, type WireIndex } from '../src/adapters/browser/page/wire';
import { PageOrtWebDriver } from '../src/adapters/browser/ort-page-driver';
import { encodeDelta } from '../src/adapters/browser/delta';
import { DELTA_MISMATCH } from '../src/adapters/browser/page/delta';
import { exportOnnx } from '../src/onnx/export';

/** An identity block whose weights are large next to its graph (a 3x3x64x64 kernel), as in ResNet-50. */
function largeKernelBlock(): ReturnType<typeof buildModel> {
  return buildModel({
    model: 'identity_block',
    f: 3,
    filters: [64, 64, 8],
    inputShape: [4, 4, 8],
    initializer: 'random_uniform',
  } as never);
}

const chromium = findChromium();
// The inference-only browser adapters (litertjs-wasm-browser, litertjs-webgpu) are run by suites/litert.test.ts,
// which judges their training cases not-applicable; here every case would run.
const BROWSER_ADAPTERS = ADAPTERS.filter((a) => a.host === 'browser' && !a.inferenceOnly);

if (!('path' in chromium)) {
  describe('browser host and adapters', () => {
    test.skip(`unavailable: ${chromium.reason} (fix: ${chromium.fix ?? CHROMIUM_FIX})`, () => undefined);
  });
} else {
  describe('browser host', () => {
    let host: BrowserHost;
    beforeAll(() => {
      host = new BrowserHost();
      host.acquire();
    });
    afterAll(async () => {
      await host.close();
    });

    test('starts one Chromium, serves a crossOriginIsolated page, closes', async () => {
      const p = host.page('start-stop');
      const info = await p.call<{ crossOriginIsolated: boolean; sharedArrayBuffer: boolean }>('info', {});
      expect(info.crossOriginIsolated).toBe(true);
      expect(info.sharedArrayBuffer).toBe(true);
      expect(host.running).toBe(true);
      const q = host.page('second');
      await q.call('info', {});
      expect(host.launches).toBe(1); // two pages, one browser
      expect(host.server.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      await p.close();
      await q.close();
      await host.close();
      expect(host.running).toBe(false);
    }, 120_000);

    test('tensors travel as bytes, bit-exact (NaN payloads, -0, infinities, subnormals)', async () => {
      const bits = new Uint32Array([
        0x7fc00001, 0xffc12345, 0x7f800001, 0x7fbfffff, 0x80000000, 0x00000000, 0x7f800000, 0xff800000, 0x00000001,
        0x807fffff, 0x3f800000, 0xc0490fdb,
      ]);
      const big = new Float32Array(1 << 20);
      for (let i = 0; i < big.length; i++) big[i] = Math.sin(i) * 1e3;
      const p = host.page('roundtrip');
      const sent = [
        { key: 'special', shape: [3, 4], data: new Float32Array(bits.buffer.slice(0)) },
        { key: 'big', shape: [1024, 1024], data: big },
        { key: 'empty', shape: [0, 3], data: new Float32Array(0) },
      ];
      const { bytes, items } = packTensors(sent);
      const idx = await p.call<WireIndex>('echo', { tensors: { blob: p.offer(bytes), items } });
      const back = unpackTensors(new Uint8Array(p.take(idx.blob)), idx.items);
      expect(back.map((t) => t.key)).toEqual(['special', 'big', 'empty']);
      expect(back.map((t) => t.shape)).toEqual([
        [3, 4],
        [1024, 1024],
        [0, 3],
      ]);
      expect(Array.from(new Uint32Array(back[0].data.buffer))).toEqual(Array.from(bits));
      expect(Buffer.from(back[1].data.buffer).equals(Buffer.from(big.buffer))).toBe(true);
      await p.close();
    }, 120_000);

    test("an ONNX model sent as a delta against the page's last one: rebuilt exactly, a mismatch refused", async () => {
      const spec = largeKernelBlock();
      const weights = initModelWeights(spec);
      const plain = exportOnnx(spec, weights, { training: false });
      const capture = exportOnnx(spec, weights, { training: false, capture: [spec.layers[2].name] });
      const driver = new PageOrtWebDriver({ id: 'delta', ep: 'wasm', numThreads: 1, host });
      const whole = new PageOrtWebDriver({ id: 'delta-whole', ep: 'wasm', numThreads: 1, host });
      try {
        await driver.create('plain', plain.bytes, 'all');
        await driver.create('capture', capture.bytes, 'all');
        expect(driver.transfers).toMatchObject({ whole: 1, delta: 1, deltaRefused: 0 });
        expect(driver.transfers.bytes).toBeLessThan(plain.bytes.length + capture.bytes.length / 2);
        // the session from the rebuilt bytes computes what one from the model sent whole does, bit for bit
        await whole.create('capture', capture.bytes, 'all');
        expect(whole.transfers).toMatchObject({ whole: 1, delta: 0 });
        const x = { shape: [1, 4, 4, 8], data: Float32Array.from({ length: 128 }, (_, i) => Math.sin(i)) };
        const fetches = [capture.outputName, ...Object.values(capture.captureOutputs)];
        const a = await whole.run('capture', capture.inputName, x, fetches);
        const b = await driver.run('capture', capture.inputName, x, fetches);
        for (const k of fetches) {
          const bits = (t: Map<string, { data: Float32Array | Float64Array }>) =>
            Buffer.from((t.get(k)!.data as Float32Array).buffer);
          expect(bits(b).equals(bits(a))).toBe(true);
        }
        // planted: a delta whose result does not hash as announced is refused, not used
        const client = driver['client'];
        const d = encodeDelta(plain.bytes, capture.bytes)!;
        await expect(
          client.call('ortCreate', {
            key: 'bad',
            model: client.offerBytes(d.parts),
            graphOptimizationLevel: 'all',
            delta: { ops: d.ops, size: d.size, sha256: '0'.repeat(64) },
          }),
        ).rejects.toThrow(DELTA_MISMATCH);
      } finally {
        await driver.dispose();
        await whole.dispose();
      }
    }, 120_000);

    test('tfjs-wasm-browser: a rebuild sends only the weights the page does not hold; a held weight of another digest is refused', async () => {
      const spec = largeKernelBlock();
      const a = initModelWeights(spec);
      // every bias and BatchNorm parameter replaced, the kernels shared (the golden perturbed-parameters set)
      const b = perturbModelWeights(a, { recipe: PERTURB_RECIPE, seed: 23 }).weights;
      let changed = 0;
      let total = 0;
      for (const [layer, list] of b)
        list.forEach((w, i) => {
          total++;
          if (w.data !== a.get(layer)![i].data) changed++;
        });
      expect(changed).toBeGreaterThan(0);
      const x = { shape: [2, 4, 4, 8], data: Float32Array.from({ length: 256 }, (_, i) => Math.cos(i)) };
      const bits = (t: { data: Float32Array | Float64Array }) => Buffer.from((t.data as Float32Array).buffer);
      const kept = tfjsBrowserAdapter('tfjs-wasm-browser', { host });
      const fresh = tfjsBrowserAdapter('tfjs-wasm-browser', { host });
      try {
        // a smaller model built in between (as in a run): the page still holds the larger build's weights
        const small = buildModel({ model: 'identity_block', f: 2, filters: [2, 2, 3], inputShape: [3, 3, 3] } as never);
        const smallWeights = initModelWeights(small);
        const smallCount = [...smallWeights.values()].reduce((n, l) => n + l.length, 0);
        await kept.build(spec, a);
        await kept.build(small, smallWeights);
        await kept.build(spec, b);
        expect(kept.transfers).toMatchObject({
          sent: total + smallCount + changed,
          kept: total - changed,
          keptRefused: 0,
        });
        await fresh.build(spec, b);
        expect(bits((await kept.run(x, { training: false })).output)).toEqual(
          bits((await fresh.run(x, { training: false })).output),
        );
        // planted: the page holds another version of a shared kernel than the host recorded: refused, all resent
        const kernel = `${spec.layers.find((l) => l.className === 'Conv2D')!.name}/kernel`;
        await kept['client'].call('tfjsTamperHeld', { key: kernel, digest: 'f'.repeat(64) });
        await kept.build(spec, a);
        expect(kept.transfers).toMatchObject({
          kept: total - changed,
          keptRefused: 1,
          sent: 2 * total + smallCount + changed,
        });
        await fresh.build(spec, a);
        expect(bits((await kept.run(x, { training: false })).output)).toEqual(
          bits((await fresh.run(x, { training: false })).output),
        );
      } finally {
        await kept.dispose();
        await fresh.dispose();
      }
    }, 120_000);

    test('a call that never answers is a timeout; the next call gets a fresh page', async () => {
      const p = host.page('hang');
      await p.call('info', {});
      const epoch = p.epoch;
      const err = await p.call('hang', {}, { timeoutMs: 800 }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(BrowserFault);
      expect((err as BrowserFault).kind).toBe('timeout');
      expect((err as Error).message).toContain('timed out after 800 ms');
      await expect(p.call('info', {})).resolves.toHaveProperty('crossOriginIsolated', true);
      expect(p.epoch).toBe(epoch + 1);
      await p.close();
    }, 120_000);

    test('a crashed renderer is reported as crashed (in flight and between calls); the host recovers', async () => {
      const p = host.page('crash');
      await p.call('info', {});
      const inFlight = p.call('hang', {}, { timeoutMs: 60_000 }).then(
        () => null,
        (e: unknown) => e,
      );
      await new Promise((r) => setTimeout(r, 200));
      await p.injectCrash();
      const err = await inFlight;
      expect(err).toBeInstanceOf(BrowserFault);
      expect((err as BrowserFault).kind).toBe('crashed');
      expect((err as Error).message).toMatch(/crash/i);
      await expect(p.call('info', {})).resolves.toHaveProperty('crossOriginIsolated', true);
      // between calls: the next call reports the crash, the one after runs
      await p.injectCrash();
      await new Promise((r) => setTimeout(r, 1000));
      await expect(p.call('info', {})).rejects.toMatchObject({ kind: 'crashed' });
      await expect(p.call('info', {})).resolves.toHaveProperty('crossOriginIsolated', true);
      await p.close();
    }, 120_000);

    test('a killed browser fails the call in flight as crashed and is relaunched', async () => {
      const p = host.page('kill');
      await p.call('info', {});
      const before = host.launches;
      const inFlight = p.call('hang', {}, { timeoutMs: 60_000 }).then(
        () => null,
        (e: unknown) => e,
      );
      await new Promise((r) => setTimeout(r, 200));
      await host.killBrowser();
      const err = await inFlight;
      expect((err as BrowserFault).kind).toBe('crashed');
      await expect(p.call('info', {})).resolves.toHaveProperty('crossOriginIsolated', true);
      expect(host.launches).toBe(before + 1);
      await p.close();
    }, 120_000);

    test('a lost GPU device is reported as device-lost', async () => {
      const p = host.page('lost');
      const err = await p.call('injectDeviceLost', { message: 'test' }).then(
        () => null,
        (e: unknown) => e,
      );
      // the fault races the call's own answer: either the call itself or the next one reports it
      const e2 =
        err ??
        (await p.call('info', {}).then(
          () => null,
          (e: unknown) => e,
        ));
      expect((e2 as BrowserFault).kind).toBe('device-lost');
      expect((e2 as Error).message).toContain('GPU device lost: injected: test');
      await expect(p.call('info', {})).resolves.toHaveProperty('crossOriginIsolated', true);
      await p.close();
    }, 120_000);
  });

  describe("Chromium's start-up page (opened at launch, loading while Chromium starts)", () => {
    test('the first page of a launch is the start-up page; it gets the blob token afterwards, and its blobs travel', async () => {
      const host = new BrowserHost();
      host.acquire();
      const take = jest.spyOn(host, 'takeStartPage');
      try {
        const p = host.page('start-page', 'tfjs.html');
        const data = new Float32Array([1, -0, 3.5, Number.NaN]);
        const { bytes, items } = packTensors([{ key: 'x', shape: [4], data }]);
        const idx = await p.call<WireIndex>('echo', { tensors: { blob: p.offer(bytes), items } });
        const back = unpackTensors(new Uint8Array(p.take(idx.blob)), idx.items);
        expect(Buffer.from(back[0].data.buffer).equals(Buffer.from(data.buffer))).toBe(true);
        expect(take).toHaveBeenCalledTimes(1);
        await expect(take.mock.results[0].value).resolves.toBeDefined(); // adopted, not a new tab
        // Chromium's command line (readable by every local process) carries no token
        const cmd = fs.readFileSync(`/proc/${(await host.getBrowser()).process()!.pid}/cmdline`, 'utf8');
        expect(cmd).toContain('/tfjs.html');
        expect(cmd).not.toContain(host.server.token);
        // a second page of another document opens a tab
        const q = host.page('second', 'index.html');
        await q.call('env', {});
        await expect(take.mock.results[1].value).resolves.toBeUndefined();
        expect(host.launches).toBe(1);
      } finally {
        take.mockRestore();
        await host.close();
      }
    }, 120_000);

    test('a start-up page whose code fails to load: the probe is unavailable with the page error (planted)', async () => {
      const host = new BrowserHost();
      const put = PageServer.prototype.put;
      const spy = jest.spyOn(PageServer.prototype, 'put').mockImplementation(function (
        this: PageServer,
        name,
        body,
        type,
      ) {
        put.call(this, name, name === 'page-tfjs.js' ? 'throw new Error("planted load failure");' : body, type);
      });
      const adapter = tfjsBrowserAdapter('tfjs-wasm-browser', { host });
      try {
        const r = await adapter.probe();
        expect(r.available).toBe(false);
        expect(r.reason).toContain('the page code did not load');
        expect(r.reason).toContain('planted load failure');
        expect(r.fix).toBeTruthy();
      } finally {
        spy.mockRestore();
        await adapter.dispose();
        await host.close();
      }
    }, 120_000);

    test('a Chromium that fails to start (planted: CHROMIUM_BIN=/bin/false): the probe is unavailable with the reason', async () => {
      const saved = process.env.CHROMIUM_BIN;
      process.env.CHROMIUM_BIN = '/bin/false';
      const host = new BrowserHost();
      const adapter = tfjsBrowserAdapter('tfjs-wasm-browser', { host });
      try {
        const r = await adapter.probe();
        expect(r.available).toBe(false);
        expect(r.reason).toContain('Chromium (/bin/false) failed to start');
        expect(r.fix).toBeTruthy();
        expect(host.launches).toBe(0);
      } finally {
        if (saved === undefined) delete process.env.CHROMIUM_BIN;
        else process.env.CHROMIUM_BIN = saved;
        await adapter.dispose();
        await host.close();
      }
    }, 120_000);
  });

  describe('no GPU adapter: unavailable, never a run on another backend', () => {
    test('RESNET_CONFORMANCE_BROWSER_GPU=hardware on a machine whose only adapter is SwiftShader: the GPU adapters are unavailable', async () => {
      const host = new BrowserHost({ mode: 'hardware' });
      const t = tfjsBrowserAdapter('tfjs-webgpu', { host });
      const w = tfjsBrowserAdapter('tfjs-webgl', { host });
      const o = ortWebBrowserAdapter('onnxruntime-web-webgpu', 'webgpu', { host });
      try {
        const info = await t['client'].info();
        if (!info.webgpu.isFallbackAdapter && !/swiftshader/i.test(info.webgl.renderer ?? '')) {
          // a machine with a real GPU: nothing to fall back from here
          expect((await t.probe()).available).toBe(true);
          return;
        }
        for (const a of [t, o]) {
          const p = await a.probe();
          expect(p.available).toBe(false);
          expect(p.reason).toMatch(/hardware.*software fallback/);
          expect(p.fix).toBeTruthy();
        }
        if (/swiftshader/i.test(info.webgl.renderer ?? '')) {
          const p = await w.probe();
          expect(p.available).toBe(false);
          expect(p.reason).toMatch(/WebGL renderer is software/);
        }
        const spec = buildModel({
          model: 'identity_block',
          f: 2,
          filters: [2, 2, 3],
          initializer: 'random_uniform',
        } as never);
        await expect(t.build(spec, initModelWeights(spec))).rejects.toThrow(/software fallback/);
      } finally {
        await t.dispose();
        await w.dispose();
        await o.dispose();
        await host.close();
      }
    }, 120_000);

    test("no WebGPU adapter (requestAdapter() null): the page refuses tf.setBackend('webgpu') falling back to another backend", async () => {
      const host = new BrowserHost();
      host.acquire();
      const p = host.page('fallback');
      try {
        const page = await p.ensure();
        await page.evaluate(() => {
          const gpu = (globalThis as unknown as { navigator: { gpu: { requestAdapter: () => Promise<null> } } })
            .navigator.gpu;
          gpu.requestAdapter = async () => null;
        });
        await expect(p.call('tfjsInit', { backend: 'webgpu', flags: {} })).rejects.toThrow(
          /did not initialize \(no fallback is accepted\)/,
        );
        await expect(p.call('ortInit', { bundle: 'ort.webgpu.min.mjs', ep: 'webgpu', numThreads: 1 })).rejects.toThrow(
          /no WebGPU adapter/,
        );
      } finally {
        await p.close();
        await host.close();
      }
    }, 120_000);
  });

  const byModel = blockCasesByModel();

  // The registry's browser adapters share this process's host; disposing them only schedules its close
  // (an unref'd timer), so Chromium would keep the Jest worker alive ("failed to exit gracefully").
  afterAll(async () => {
    await BrowserHost.shared().close();
  });

  for (const entry of BROWSER_ADAPTERS) {
    const id = entry.id;
    describe(`${id} on the block golden cases [${entry.profile}]`, () => {
      const adapter = entry.create();
      let available: { available: boolean; reason?: string; fix?: string } = { available: false, reason: 'not probed' };
      beforeAll(async () => {
        available = await adapter.probe();
      }, 120_000);
      afterAll(async () => {
        await adapter.dispose();
      });

      test('is available here', () => {
        // Chromium is present (checked above), so every browser adapter must come up on this machine.
        expect(available).toEqual({ available: true });
      });

      test('describe() reports the device and the backend settings', async () => {
        const d = await adapter.describe();
        expect(d.device.length).toBeGreaterThan(0);
        if (id.includes('webgpu')) expect(String(d.settings.webgpuAdapter)).not.toMatch(/^none/);
        if (id.startsWith('tfjs-webgl')) expect(String(d.settings.webglRenderer)).not.toBe('unknown');
        if (id === 'tfjs-webgl-f16') expect(d.settings.WEBGL_FORCE_F16_TEXTURES).toBe(true);
        if (id === 'tfjs-webgl') expect(d.settings.WEBGL_FORCE_F16_TEXTURES).toBe(false);
        expect(d.settings.crossOriginIsolated).toBe(true);
      }, 120_000);

      // The browser adapters the parameterized suites run by default (no suiteOptIn) get every golden
      // case, ResNet-50 included, in suites/fixtures.test.ts; here the opt-in (software-GPU) ones.
      if (!entry.suiteOptIn) return;
      for (const [key, cases] of byModel) {
        test(`model ${key}: ${cases.length} cases`, async () => {
          const r = await runBlockCases(adapter, id, entry.profile, cases);
          for (const n of r.comparisons) expect(n).toBeGreaterThan(0);
          expect(r.problems).toEqual([]);
        }, 300_000);
      }
    });
  }
}
