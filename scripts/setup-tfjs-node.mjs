#!/usr/bin/env node
// npm run setup:tfjs-node [-- --force] [-- --wheel path/to/tensorflow_cpu-2.21.0-...whl]
//
// Provisions @tensorflow/tfjs-node@4.22.0 without its install script (which downloads libtensorflow
// from storage.googleapis.com and a prebuilt addon, so it fails offline):
//   1. npm install --no-save --ignore-scripts @tensorflow/tfjs-node@4.22.0 (npm registry only)
//   2. libtensorflow from the pinned tensorflow-cpu==2.21.0 wheel (pip download from the configured
//      index, cached): libtensorflow_cc.so.2 (exports the TF / TFE C API) and libtensorflow_framework.so.2,
//      plus the C API headers, into node_modules/@tensorflow/tfjs-node/deps/{lib,include}
//   3. rebuilds the addon (binding.gyp links -ltensorflow -ltensorflow_framework with rpath
//      $ORIGIN/../../deps/lib) offline with node-gyp against the local Node.js headers
//   4. loads it in a fresh process and runs one op
// Idempotent: finished steps are recognised (deps/resnet-conformance-provision.json) and skipped.
// Linux x64 only (the wheel is manylinux x86_64). Other platforms: the online install, docs/tfjs.md.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TFJS_NODE_VERSION = '4.22.0';
const TF_VERSION = '2.21.0';
const WHEEL_REQ = `tensorflow-cpu==${TF_VERSION}`;
const WHEEL_RE = new RegExp(`^tensorflow_cpu-${TF_VERSION.replace(/\./g, '\\.')}-.*manylinux.*x86_64\\.whl$`);
const STAMP = 'resnet-conformance-provision.json';
// Shared libraries taken from the wheel (path inside the wheel -> name in deps/lib), and the linker
// names binding.gyp's -ltensorflow / -ltensorflow_framework resolve (symlinks; the addon then records
// the libraries' sonames, libtensorflow_cc.so.2 and libtensorflow_framework.so.2, as NEEDED).
const LIBS = [
  { member: 'tensorflow/libtensorflow_cc.so.2', name: 'libtensorflow_cc.so.2', link: 'libtensorflow.so' },
  {
    member: 'tensorflow/libtensorflow_framework.so.2',
    name: 'libtensorflow_framework.so.2',
    link: 'libtensorflow_framework.so',
  },
];
// Headers the binding includes (tensorflow/c/c_api.h, tensorflow/c/eager/c_api.h) and what they include.
const HEADER_PREFIXES = [
  'tensorflow/include/tensorflow/c/',
  'tensorflow/include/tensorflow/core/platform/ctstring',
  'tensorflow/include/tsl/platform/ctstring',
  'tensorflow/include/xla/tsl/c/',
];

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const requireFromRoot = createRequire(path.join(root, 'package.json'));
const started = Date.now();
const args = process.argv.slice(2);
const force = args.includes('--force');
const wheelArg = args.includes('--wheel') ? args[args.indexOf('--wheel') + 1] : undefined;
const cacheDir =
  process.env.TFJS_NODE_WHEEL_CACHE ??
  path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'resnet-conformance', 'wheels');

class SetupError extends Error {
  constructor(step, message, fix) {
    super(message);
    this.step = step;
    this.fix = fix;
  }
}

function log(msg) {
  process.stdout.write(`setup:tfjs-node: ${msg}\n`);
}

async function step(name, fn) {
  const t0 = Date.now();
  const result = await fn();
  log(`  ${name} — ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return result;
}

function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, {
    cwd: root,
    stdio: opts.capture ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    encoding: 'utf8',
    env: { ...process.env, ...(opts.env ?? {}) },
  });
  if (r.error) return { ok: false, out: '', err: String(r.error.message) };
  return { ok: r.status === 0, out: r.stdout ?? '', err: r.stderr ?? '', status: r.status };
}

function pkgDir(name) {
  try {
    return path.dirname(requireFromRoot.resolve(`${name}/package.json`));
  } catch {
    return null;
  }
}

function versionOf(dir) {
  return JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
}

function readStamp(dir) {
  const f = path.join(dir, 'deps', STAMP);
  return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : null;
}

function writeStamp(dir, stamp) {
  writeFileSync(path.join(dir, 'deps', STAMP), `${JSON.stringify(stamp, null, 2)}\n`);
}

// ------------------------------------------------------------------------------------------------

function checkPlatform() {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new SetupError(
      'platform',
      `the offline route uses the manylinux x86_64 tensorflow-cpu wheel; this is ${process.platform}-${process.arch}`,
      `online install instead: npm install --no-save @tensorflow/tfjs-node@${TFJS_NODE_VERSION} (docs/tfjs.md)`,
    );
  }
  const tfjs = pkgDir('@tensorflow/tfjs');
  if (!tfjs) throw new SetupError('platform', '@tensorflow/tfjs is not installed', 'npm ci');
  if (versionOf(tfjs) !== TFJS_NODE_VERSION) {
    throw new SetupError(
      'platform',
      `@tensorflow/tfjs is ${versionOf(tfjs)}, tfjs-node ${TFJS_NODE_VERSION} needs the same version`,
      'npm ci',
    );
  }
}

function installPackage() {
  const dir = pkgDir('@tensorflow/tfjs-node');
  if (dir && versionOf(dir) === TFJS_NODE_VERSION && pkgDir('@mapbox/node-pre-gyp') !== null) {
    log(`@tensorflow/tfjs-node@${TFJS_NODE_VERSION} already installed (${path.relative(root, dir)})`);
    return dir;
  }
  log(
    `installing @tensorflow/tfjs-node@${TFJS_NODE_VERSION} without its install script (npm install --no-save --ignore-scripts)`,
  );
  const npm = process.env.npm_execpath ? [process.execPath, [process.env.npm_execpath]] : ['npm', []];
  const r = run(npm[0], [
    ...npm[1],
    'install',
    '--no-save',
    '--ignore-scripts',
    '--no-audit',
    '--no-fund',
    `@tensorflow/tfjs-node@${TFJS_NODE_VERSION}`,
  ]);
  if (!r.ok) {
    throw new SetupError(
      'npm install',
      `npm install @tensorflow/tfjs-node@${TFJS_NODE_VERSION} failed (exit ${r.status ?? r.err})`,
      'check that the npm registry is reachable (npm ping), then rerun npm run setup:tfjs-node',
    );
  }
  const installed = pkgDir('@tensorflow/tfjs-node');
  if (!installed || versionOf(installed) !== TFJS_NODE_VERSION) {
    throw new SetupError(
      'npm install',
      'npm install finished but @tensorflow/tfjs-node is not resolvable from the project',
      'rerun npm run setup:tfjs-node',
    );
  }
  return installed;
}

function libsInPlace(dir, stamp) {
  if (!stamp || stamp.tensorflowVersion !== TF_VERSION || !stamp.libraries) return false;
  return (
    LIBS.every((l) => {
      const f = path.join(dir, 'deps', 'lib', l.name);
      return (
        existsSync(f) &&
        statSync(f).size === stamp.libraries[l.name] &&
        existsSync(path.join(dir, 'deps', 'lib', l.link))
      );
    }) && existsSync(path.join(dir, 'deps', 'include', 'tensorflow', 'c', 'c_api.h'))
  );
}

function findPython() {
  const candidates = [process.env.PYTHON, path.join(root, '.venv', 'bin', 'python'), 'python3', 'python'].filter(
    Boolean,
  );
  for (const py of candidates) {
    const r = run(py, ['-m', 'pip', '--version'], { capture: true });
    if (r.ok) return py;
  }
  throw new SetupError(
    'wheel',
    `no Python with pip found (tried ${candidates.join(', ')})`,
    'install python3 with pip, or set PYTHON=/path/to/python, or pass --wheel path/to/tensorflow_cpu-2.21.0-...-manylinux_2_27_x86_64.whl',
  );
}

function cachedWheel() {
  if (!existsSync(cacheDir)) return null;
  const f = readdirSync(cacheDir).find((n) => WHEEL_RE.test(n));
  return f ? path.join(cacheDir, f) : null;
}

function getWheel() {
  if (wheelArg) {
    if (!existsSync(wheelArg) || !WHEEL_RE.test(path.basename(wheelArg))) {
      throw new SetupError(
        'wheel',
        `--wheel ${wheelArg}: not an existing tensorflow_cpu-${TF_VERSION} manylinux x86_64 wheel`,
        'pass the path of the pinned wheel',
      );
    }
    return path.resolve(wheelArg);
  }
  const cached = cachedWheel();
  if (cached) {
    log(`wheel from cache: ${cached}`);
    return cached;
  }
  mkdirSync(cacheDir, { recursive: true });
  const py = findPython();
  log(`pip download ${WHEEL_REQ} --no-deps -d ${cacheDir} (with ${py})`);
  let r = run(py, ['-m', 'pip', 'download', WHEEL_REQ, '--no-deps', '--only-binary=:all:', '-d', cacheDir]);
  if (!r.ok || !cachedWheel()) {
    // The interpreter's own tags may have no wheel (e.g. a newer Python): ask for the cp311 manylinux one explicitly.
    log('retrying for python 3.11 / manylinux_2_27_x86_64 explicitly');
    r = run(py, [
      '-m',
      'pip',
      'download',
      WHEEL_REQ,
      '--no-deps',
      '--only-binary=:all:',
      '--python-version',
      '3.11',
      '--implementation',
      'cp',
      '--platform',
      'manylinux_2_27_x86_64',
      '-d',
      cacheDir,
    ]);
  }
  const got = cachedWheel();
  if (!r.ok || !got) {
    throw new SetupError(
      'wheel',
      `pip download ${WHEEL_REQ} failed`,
      "make the wheel reachable through pip's configured index (pip config list), or pass --wheel path/to/the.whl",
    );
  }
  return got;
}

function sha256(file) {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (d) => h.update(d))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

const EXTRACT_PY = `
import sys, zipfile, os, shutil
wheel, out, prefixes, members = sys.argv[1], sys.argv[2], sys.argv[3].split(','), sys.argv[4].split(',')
n = 0
with zipfile.ZipFile(wheel) as z:
    names = set(z.namelist())
    missing = [m for m in members if m not in names]
    if missing:
        sys.exit('wheel lacks ' + ', '.join(missing))
    for info in z.infolist():
        name = info.filename
        if name.endswith('/'):
            continue
        if name in members:
            dest = os.path.join(out, 'lib', os.path.basename(name))
        elif any(name.startswith(p) for p in prefixes):
            dest = os.path.join(out, 'include', name[len('tensorflow/include/'):])
        else:
            continue
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with z.open(info) as src, open(dest, 'wb') as dst:
            shutil.copyfileobj(src, dst, 1 << 22)
        n += 1
print(n)
`;

async function provisionLibs(dir) {
  const wheel = getWheel();
  const digest = await sha256(wheel);
  const staging = path.join(dir, 'deps.staging');
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const py = findPython();
  const r = run(
    py,
    ['-c', EXTRACT_PY, wheel, staging, HEADER_PREFIXES.join(','), LIBS.map((l) => l.member).join(',')],
    { capture: true },
  );
  if (!r.ok) {
    rmSync(staging, { recursive: true, force: true });
    throw new SetupError(
      'extract',
      `extracting libtensorflow from ${path.basename(wheel)} failed: ${r.err.trim().split('\n').pop()}`,
      `delete ${wheel} (it may be truncated) and rerun npm run setup:tfjs-node`,
    );
  }
  for (const l of LIBS) symlinkSync(l.name, path.join(staging, 'lib', l.link));
  const deps = path.join(dir, 'deps');
  rmSync(deps, { recursive: true, force: true });
  renameSync(staging, deps);
  const libraries = Object.fromEntries(LIBS.map((l) => [l.name, statSync(path.join(deps, 'lib', l.name)).size]));
  log(
    `libtensorflow ${TF_VERSION} from ${path.basename(wheel)} (sha256 ${digest.slice(0, 12)}…): ${LIBS.map((l) => `${l.name} (${(libraries[l.name] / 2 ** 20).toFixed(0)} MiB)`).join(', ')}, ${Number(r.out.trim()) - LIBS.length} headers`,
  );
  return {
    source: `${WHEEL_REQ} wheel`,
    tensorflowVersion: TF_VERSION,
    wheel: path.basename(wheel),
    wheelSha256: digest,
    libraries,
  };
}

function bindingTarget(dir) {
  const preGyp = createRequire(path.join(dir, 'package.json'))('@mapbox/node-pre-gyp');
  const file = preGyp.find(path.join(dir, 'package.json'));
  const m = /napi-v(\d+)/.exec(file);
  if (!m)
    throw new SetupError(
      'build',
      `unexpected addon path from node-pre-gyp: ${file}`,
      'report this; the tfjs-node package layout changed',
    );
  return { file, napi: Number(m[1]) };
}

function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  if (process.env.npm_execpath)
    candidates.push(
      path.join(path.dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    );
  const g = run('npm', ['root', '-g'], { capture: true });
  if (g.ok) candidates.push(path.join(g.out.trim(), 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  const found = candidates.find((c) => existsSync(c));
  if (!found)
    throw new SetupError(
      'build',
      `node-gyp not found (looked at ${candidates.join(', ') || 'nothing'})`,
      'run through npm (npm run setup:tfjs-node), which bundles node-gyp',
    );
  return found;
}

function findNodeDir() {
  const candidates = [
    process.env.npm_config_nodedir,
    path.resolve(path.dirname(process.execPath), '..'),
    path.join(os.homedir(), '.cache', 'node-gyp', process.versions.node),
  ].filter(Boolean);
  const found = candidates.find(
    (d) =>
      existsSync(path.join(d, 'include', 'node', 'node_api.h')) &&
      existsSync(path.join(d, 'include', 'node', 'common.gypi')),
  );
  if (!found) {
    throw new SetupError(
      'build',
      `Node.js ${process.version} headers not found (looked for include/node/node_api.h under ${candidates.join(', ')})`,
      'install the Node.js headers (they ship with the official Node.js tarball; Debian/Ubuntu: the nodejs package from NodeSource includes them), or run node-gyp install once with internet',
    );
  }
  return found;
}

function buildAddon(dir) {
  for (const tool of [
    ['make', ['--version']],
    ['c++', ['--version']],
  ]) {
    if (!run(tool[0], tool[1], { capture: true }).ok) {
      throw new SetupError(
        'build',
        `${tool[0]} is not available; the addon is compiled from source`,
        'install a C++ toolchain (Debian/Ubuntu: apt-get install build-essential)',
      );
    }
  }
  const target = bindingTarget(dir);
  const nodeGyp = findNodeGyp();
  const nodedir = findNodeDir();
  log(`building the addon with node-gyp (N-API ${target.napi}, headers from ${nodedir})`);
  const r = spawnSync(
    process.execPath,
    [
      nodeGyp,
      'rebuild',
      `--nodedir=${nodedir}`,
      `--napi_build_version=${target.napi}`,
      '--module_name=tfjs_binding',
      `--module_path=${path.dirname(target.file)}`,
      '--jobs=max',
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' },
  );
  if (r.status !== 0 || !existsSync(target.file)) {
    process.stderr.write(`${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n').slice(-40).join('\n'));
    throw new SetupError(
      'build',
      `node-gyp rebuild failed (exit ${r.status})`,
      'see the compiler output above; rerun with --force after fixing it',
    );
  }
  return { binding: path.relative(dir, target.file), node: process.version, napi: target.napi };
}

const VERIFY_JS = `
const tf = require('@tensorflow/tfjs-node');
const b = tf.engine().findBackend('tensorflow');
const y = tf.add(tf.tensor([1, 2]), tf.tensor([3, 4])).dataSync();
if (tf.getBackend() !== 'tensorflow' || y[0] !== 4 || y[1] !== 6) throw new Error('tensorflow backend computed ' + Array.from(y));
process.stdout.write(JSON.stringify({ tf: b.binding.TF_Version, gpu: b.isUsingGpuDevice }));
`;

function verify() {
  const r = run(process.execPath, ['-e', VERIFY_JS], { capture: true, env: { TF_CPP_MIN_LOG_LEVEL: '2' } });
  if (!r.ok)
    return {
      ok: false,
      error: (
        r.err
          .trim()
          .split('\n')
          .find((l) => /Error/.test(l)) ??
        r.err.trim().split('\n').pop() ??
        ''
      ).trim(),
    };
  return { ok: true, ...JSON.parse(r.out) };
}

async function main() {
  log(
    `${force ? 'forced ' : ''}provisioning @tensorflow/tfjs-node@${TFJS_NODE_VERSION} with libtensorflow from ${WHEEL_REQ}`,
  );
  checkPlatform();
  const dir = await step('package', () => installPackage());
  let stamp = force ? null : readStamp(dir);
  if (libsInPlace(dir, stamp)) {
    log(`libtensorflow already in place (${stamp.wheel})`);
  } else {
    const libs = await step('libtensorflow', () => provisionLibs(dir));
    stamp = { tool: 'scripts/setup-tfjs-node.mjs', ...libs };
    writeStamp(dir, stamp);
  }
  const target = bindingTarget(dir);
  const built =
    stamp.binding &&
    stamp.node === process.version &&
    existsSync(target.file) &&
    path.relative(dir, target.file) === stamp.binding;
  if (built && !force && verify().ok) {
    log(`addon already built for Node ${process.version} (${stamp.binding})`);
  } else {
    const b = await step('addon', () => buildAddon(dir));
    stamp = { ...stamp, ...b };
    writeStamp(dir, stamp);
  }
  const v = await step('verify', () => verify());
  if (!v.ok) {
    throw new SetupError(
      'verify',
      `require('@tensorflow/tfjs-node') fails: ${v.error}`,
      'rerun with --force; if it persists, see docs/tfjs.md (troubleshooting)',
    );
  }
  const seconds = (Date.now() - started) / 1000;
  writeStamp(dir, { ...stamp, seconds });
  log(
    `ready: tfjs-node ${TFJS_NODE_VERSION} on libtensorflow ${v.tf} (${path.relative(root, path.join(dir, 'deps', 'lib'))}), ` +
      `addon ${stamp.binding} — ${seconds.toFixed(1)} s`,
  );
}

main().catch((err) => {
  if (err instanceof SetupError) {
    process.stderr.write(`setup:tfjs-node: FAILED at ${err.step}: ${err.message}\n  fix: ${err.fix}\n`);
  } else {
    process.stderr.write(`setup:tfjs-node: FAILED: ${err && err.stack ? err.stack : String(err)}\n`);
  }
  process.exit(1);
});
