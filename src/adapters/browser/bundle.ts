/**
 * Bundles the page code (./page/entry.ts with tfjs, its webgl/webgpu/wasm backends and the
 * project's tfjs-layers builder) with esbuild, in memory, once per process (it is not instant).
 */
import * as path from 'node:path';

let cached: Promise<string> | undefined;

export const PAGE_ENTRY = path.join(__dirname, 'page', 'entry.ts');

export function pageBundle(): Promise<string> {
  cached ??= (async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const esbuild = require('esbuild') as typeof import('esbuild');
    const r = await esbuild.build({
      entryPoints: [PAGE_ENTRY],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      target: 'chrome120',
      define: { 'process.env.NODE_ENV': '"production"' },
      logLevel: 'silent',
      legalComments: 'none',
      plugins: [
        {
          name: 'tfjs-backend-wasm-fesm',
          // The package's ESM sources (its "module" entry) pass the threaded factory to the pthread workers as
          // factory.toString(); bundled by esbuild that source refers to names of the bundle, the workers never
          // start and XNNPACK runs 1 thread (measured). Its prebuilt flat ESM bundle is self-contained.
          setup(b) {
            b.onResolve({ filter: /^@tensorflow\/tfjs-backend-wasm$/ }, () => ({
              path: path.join(
                path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')),
                'dist',
                'tf-backend-wasm.fesm.js',
              ),
            }));
          },
        },
      ],
    });
    if (r.errors.length) throw new Error(`esbuild: ${r.errors.map((e) => e.text).join('; ')}`);
    return r.outputFiles[0].text;
  })();
  cached.catch(() => {
    cached = undefined;
  });
  return cached;
}

let litertCached: Promise<string> | undefined;

/**
 * @litertjs/core (with @litertjs/wasm-utils) as one ES module, served as /litert.js and imported by
 * ./page/litert-driver.ts when a LiteRT.js adapter initializes: its own bundle, so that the page code
 * of the other browser adapters neither grows nor needs the (optional) package.
 */
export function litertBundle(): Promise<string> {
  litertCached ??= (async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const esbuild = require('esbuild') as typeof import('esbuild');
    const r = await esbuild.build({
      entryPoints: [require.resolve('@litertjs/core')],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      target: 'chrome120',
      logLevel: 'silent',
      legalComments: 'none',
    });
    if (r.errors.length) throw new Error(`esbuild: ${r.errors.map((e) => e.text).join('; ')}`);
    return r.outputFiles[0].text;
  })();
  litertCached.catch(() => {
    litertCached = undefined;
  });
  return litertCached;
}
