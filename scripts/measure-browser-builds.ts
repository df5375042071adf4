/**
 * In-process timings of the two default browser adapters (tfjs-wasm-browser,
 * onnxruntime-web-wasm-browser): the probe from a closed browser and the ResNet-50 builds of the
 * notebook's initial weights and of the perturbed-parameters set, with the page-side pieces
 * (fetchMs: the page's fetch of the blob; rebuildMs: an ONNX delta rebuilt and checked; buildMs /
 * createMs: the runtime's own model or session creation). "own" = build - runtime setup.
 * Run: npx tsx scripts/measure-browser-builds.ts [repetitions]
 */
import { resnet50 } from '../src/model/builders';
import { cachedInitModelWeights } from '../src/init/weight-cache';
import { perturbModelWeights, PERTURB_RECIPE } from '../src/init/perturb';
import { BrowserHost, PageClient, tfjsBrowserAdapter, ortWebBrowserAdapter } from '../src/adapters/browser';

const reps = Number(process.argv[2] ?? 3);
const log: string[] = [];
const call = PageClient.prototype.call;
PageClient.prototype.call = async function <T>(this: PageClient, m: string, p: unknown, o?: object): Promise<T> {
  const t = performance.now();
  const r = await call.call<PageClient, [string, unknown, object | undefined], Promise<T>>(this, m, p, o);
  const ms = performance.now() - t;
  const o2 = r && typeof r === 'object' ? (r as Record<string, unknown>) : {};
  const extra = ['fetchMs', 'rebuildMs', 'buildMs', 'createMs']
    .filter((k) => k in o2)
    .map((k) => `${k}=${Number(o2[k]).toFixed(0)}`);
  log.push(`  ${m}: ${ms.toFixed(0)} ms ${extra.join(' ')}`);
  return r;
};

function stats(a: number[]): string {
  const s = [...a].sort((x, y) => x - y);
  return `min ${s[0].toFixed(0)} median ${s[Math.floor(s.length / 2)].toFixed(0)} (${a.map((x) => x.toFixed(0)).join(', ')})`;
}

async function main(): Promise<void> {
  const spec = resnet50();
  const notebook = cachedInitModelWeights(spec).weights;
  const perturbed = perturbModelWeights(notebook, { recipe: PERTURB_RECIPE, seed: 23 }).weights;
  const host = BrowserHost.shared();
  host.acquire(); // the browser is closed by this script only
  await host.getBrowser(); // page bundles made or checked, puppeteer-core required (slow under tsx only)
  await host.close();
  const m: Record<string, number[]> = {};
  const add = (k: string, v: number): void => void (m[k] ??= []).push(v);
  for (let r = 0; r < reps; r++) {
    const tfjs = tfjsBrowserAdapter('tfjs-wasm-browser');
    let t = performance.now();
    if (!(await tfjs.probe()).available) throw new Error('tfjs-wasm-browser unavailable');
    add('probe tfjs-wasm-browser (Chromium launch included)', performance.now() - t);
    const ort = ortWebBrowserAdapter('onnxruntime-web-wasm-browser', 'wasm');
    t = performance.now();
    if (!(await ort.probe()).available) throw new Error('onnxruntime-web-wasm-browser unavailable');
    add('probe onnxruntime-web-wasm-browser (browser running)', performance.now() - t);
    log.splice(0);
    for (const [name, a] of [
      ['tfjs-wasm-browser', tfjs],
      ['onnxruntime-web-wasm-browser', ort],
    ] as const) {
      for (const [wn, w] of [
        ['notebook', notebook],
        ['perturbed', perturbed],
      ] as const) {
        const s0 = a.runtimeSetupMs!();
        t = performance.now();
        await a.build(spec, w);
        const ms = performance.now() - t;
        const setup = a.runtimeSetupMs!() - s0;
        add(`own build ${name} ${wn}`, ms - setup);
        console.log(
          `rep ${r} ${name} ${wn}: build ${ms.toFixed(0)} ms, runtime setup ${setup.toFixed(0)}, own ${(ms - setup).toFixed(0)}`,
        );
        console.log(log.splice(0).join('\n'));
      }
    }
    await tfjs.dispose();
    await ort.dispose();
    await host.close();
  }
  for (const [k, v] of Object.entries(m)) console.log(`${k}: ${stats(v)}`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
