/**
 * Finding the system Chromium and the command-line flags it runs with. Nothing is downloaded:
 * puppeteer-core drives the browser found here (CHROMIUM_BIN, then chromium, chromium-browser,
 * google-chrome on PATH).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const CHROMIUM_FIX =
  'apt-get update && apt-get install -y chromium (or set CHROMIUM_BIN to a Chromium/Chrome executable)';
export const CHROMIUM_CANDIDATES = ['chromium', 'chromium-browser', 'google-chrome'] as const;

/** RESNET_CONFORMANCE_BROWSER_GPU: 'software' (default: SwiftShader for WebGL and WebGPU) or 'hardware'. */
export type GpuMode = 'software' | 'hardware';

export function gpuMode(env: NodeJS.ProcessEnv = process.env): GpuMode {
  const v = env.RESNET_CONFORMANCE_BROWSER_GPU;
  if (v === undefined || v === '' || v === 'software') return 'software';
  if (v === 'hardware') return 'hardware';
  throw new Error(`RESNET_CONFORMANCE_BROWSER_GPU must be 'software' or 'hardware', got '${v}'`);
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | null {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const f = path.join(dir, name);
    if (isExecutable(f)) return f;
  }
  return null;
}

export type ChromiumLookup = { path: string } | { reason: string; fix: string };

/** The Chromium executable: $CHROMIUM_BIN (a path or a name on PATH), else the first candidate on PATH. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): ChromiumLookup {
  const explicit = env.CHROMIUM_BIN;
  if (explicit) {
    const p = explicit.includes(path.sep) ? (isExecutable(explicit) ? explicit : null) : onPath(explicit, env);
    if (p) return { path: p };
    return {
      reason: `CHROMIUM_BIN=${explicit} is not an executable file`,
      fix: `point CHROMIUM_BIN at a Chromium executable, or ${CHROMIUM_FIX}`,
    };
  }
  for (const name of CHROMIUM_CANDIDATES) {
    const p = onPath(name, env);
    if (p) return { path: p };
  }
  return {
    reason: `no Chromium found (CHROMIUM_BIN unset; none of ${CHROMIUM_CANDIDATES.join(', ')} on PATH)`,
    fix: CHROMIUM_FIX,
  };
}

/**
 * Flags: headless, and (running as root in containers) no sandbox. 'software': WebGL through ANGLE
 * on SwiftShader and WebGPU on SwiftShader's Vulkan (`--use-angle=vulkan --use-vulkan=swiftshader`
 * breaks both, measured). 'hardware': none of the SwiftShader flags, so Chromium picks the real GPU (WebGPU on
 * Linux still needs --enable-unsafe-webgpu).
 */
export function chromiumFlags(mode: GpuMode, extra: readonly string[] = []): string[] {
  const flags = [
    '--headless=new',
    '--no-sandbox',
    '--enable-unsafe-webgpu',
    '--ignore-gpu-blocklist',
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-extensions',
    '--mute-audio',
    // a hidden headless page must not be throttled while it computes
    '--disable-background-timer-throttling',
    '--disable-renderer-backgrounding',
    '--disable-backgrounding-occluded-windows',
  ];
  if (mode === 'software') flags.push('--enable-unsafe-swiftshader', '--use-angle=swiftshader');
  // RESNET_CONFORMANCE_CHROMIUM_FLAGS: extra flags, space-separated (e.g. --enable-features=Vulkan on a Linux GPU machine).
  const user = (process.env.RESNET_CONFORMANCE_CHROMIUM_FLAGS ?? '').split(/\s+/).filter(Boolean);
  return [...flags, ...user, ...extra];
}
