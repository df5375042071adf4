/**
 * Install state of @tensorflow/tfjs-node / @tensorflow/tfjs-node-gpu, checked on disk before anything
 * is loaded, so that each probe can say exactly what is missing and which command fixes it.
 * Neither package is in package.json: their install scripts download libtensorflow, which breaks
 * `npm ci` without internet (docs/tfjs.md).
 */
import * as fs from 'fs';
import * as path from 'path';
import { installedVersion, resolvePackageDir } from './tf-loader';

export type TfjsNodePackage = '@tensorflow/tfjs-node' | '@tensorflow/tfjs-node-gpu';

/** The version every @tensorflow package must have: the one of the installed @tensorflow/tfjs. */
export const TFJS_NODE_VERSION = '4.22.0';

/** Written by scripts/setup-tfjs-node.mjs into <package>/deps/ once libtensorflow is provisioned and the addon built. */
export const PROVISION_STAMP = 'resnet-conformance-provision.json';

export interface ProvisionStamp {
  tool: string;
  /** e.g. `tensorflow-cpu==2.21.0 wheel`. */
  source: string;
  tensorflowVersion: string;
  wheel: string;
  wheelSha256: string;
  /** File name in deps/lib -> size in bytes. */
  libraries: Record<string, number>;
  /** Addon path relative to the package, once built. */
  binding?: string;
  node?: string;
  napi?: number;
  /** Duration of the last setup run. */
  seconds?: number;
}

export const SETUP_FIX = 'npm run setup:tfjs-node';

export function fixFor(pkg: TfjsNodePackage): string {
  if (pkg === '@tensorflow/tfjs-node') {
    return (
      `${SETUP_FIX} (offline: libtensorflow from the pinned tensorflow-cpu wheel; online alternative: ` +
      `npm install --no-save @tensorflow/tfjs-node@${TFJS_NODE_VERSION}; see docs/tfjs.md)`
    );
  }
  return (
    `on a machine with an NVIDIA GPU, driver > 450.x, CUDA 11.2 and cuDNN 8.1: ` +
    `npm install --no-save @tensorflow/tfjs-node-gpu@${TFJS_NODE_VERSION} (online; downloads libtensorflow-gpu 2.9.1); see docs/tfjs.md#tfjs-node-gpu`
  );
}

export interface NodeInstallState {
  ok: boolean;
  /** What is missing (when not ok). */
  reason?: string;
  packageDir?: string;
  /** Where @mapbox/node-pre-gyp looks for the native addon. */
  bindingPath?: string;
  stamp?: ProvisionStamp;
}

/** Path of the addon as tfjs-node itself resolves it (node-pre-gyp `find`, from the package's own dependencies). */
function bindingPathOf(pkgDir: string): string {
  const preGyp = require(require.resolve('@mapbox/node-pre-gyp', { paths: [pkgDir] })) as { find(p: string): string };
  return preGyp.find(path.join(pkgDir, 'package.json'));
}

export function readStamp(pkgDir: string): ProvisionStamp | undefined {
  const file = path.join(pkgDir, 'deps', PROVISION_STAMP);
  if (!fs.existsSync(file)) return undefined;
  return JSON.parse(fs.readFileSync(file, 'utf8')) as ProvisionStamp;
}

/** `pkgDir` defaults to where Node resolves the package from this project (tests pass other directories). */
export function nodeInstallState(
  pkg: TfjsNodePackage,
  pkgDir: string | null = resolvePackageDir(pkg),
): NodeInstallState {
  if (!pkgDir)
    return {
      ok: false,
      reason: `${pkg} is not installed (it is not a package.json dependency: its install script downloads libtensorflow)`,
    };
  const version =
    (JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { version?: string }).version ?? null;
  const tfjsVersion = installedVersion('@tensorflow/tfjs');
  if (version !== TFJS_NODE_VERSION || (tfjsVersion !== null && tfjsVersion !== version)) {
    return {
      ok: false,
      packageDir: pkgDir,
      reason: `${pkg}@${version} is installed but ${TFJS_NODE_VERSION} is needed (to match @tensorflow/tfjs@${tfjsVersion})`,
    };
  }
  const libDir = path.join(pkgDir, 'deps', 'lib');
  const libs = fs.existsSync(libDir) ? fs.readdirSync(libDir).filter((f) => /^libtensorflow.*\.so/.test(f)) : [];
  if (libs.length === 0) {
    return {
      ok: false,
      packageDir: pkgDir,
      reason: `${pkg} has no libtensorflow in ${libDir} (its download step was skipped)`,
    };
  }
  let bindingPath: string;
  try {
    bindingPath = bindingPathOf(pkgDir);
  } catch (err) {
    return {
      ok: false,
      packageDir: pkgDir,
      reason: `${pkg}'s dependency @mapbox/node-pre-gyp cannot be loaded (${(err as Error).message.split('\n')[0]})`,
    };
  }
  if (!fs.existsSync(bindingPath)) {
    return {
      ok: false,
      packageDir: pkgDir,
      bindingPath,
      reason: `${pkg}'s native addon is not built (${bindingPath} is missing)`,
    };
  }
  return { ok: true, packageDir: pkgDir, bindingPath, stamp: readStamp(pkgDir) };
}
