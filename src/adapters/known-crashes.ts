/**
 * Known native crashes of a runtime on some CPUs: what dies, where it was seen, how to reproduce it
 * outside the harness and how to avoid it (docs/cpu-dependent.md). Unlike a known numeric defect
 * (src/compare/tolerances/, keyed by adapter and case) a crash is keyed by environment: runtime
 * version × CPU. It is detected before it bites: a probe runs the smallest crashing operation in a
 * child process, and the answer is cached per machine (CPU identity, runtime version and the
 * environment switch that avoids it), so the first adapter probe on a machine pays one process start
 * and later ones nothing. An adapter whose probe finds the crash is never run here: its cases are
 * 'crashed' with this cause and the workaround, never passed and never able to take a process down.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { cpuIdentity, cpuLabel, type CpuIdentity } from '../util/cpu';
import { sha256, writeFileAtomic } from '../util/fs';
import { packageRoot } from '../util/package-root';
import { signalMeaning, signalOfExit } from '../util/signals';

export interface KnownCrash {
  id: string;
  /** One line: what dies. */
  title: string;
  /** The runtime and versions it was seen with. */
  runtime: string;
  signal: NodeJS.Signals;
  /** Where it was seen (CPU vendor, family, model). */
  seenOn: string;
  /** Adapters built on that runtime. */
  adapters: string[];
  /** A script using only the runtime that exits 1 while the crash exists. */
  reproduction: string;
  /** What avoids it, as the user would do it. */
  workaround: string;
  /** The environment variable (and value) that avoids it; part of the probe cache key. */
  avoidedBy: { env: string; value: string };
  docs: string;
}

export const TF_ONEDNN_CONV_SIGFPE: KnownCrash = {
  id: 'tensorflow-2.21-onednn-conv-sigfpe',
  title: "TensorFlow 2.21's oneDNN convolution dies (smallest found: 1x1 conv x[1,1,1,256] * w[1,1,256,1024])",
  runtime: 'TensorFlow 2.21.0 with oneDNN (tensorflow-cpu wheel; libtensorflow 2.21.0 under tfjs-node)',
  signal: 'SIGFPE',
  seenOn: 'AuthenticAMD AMD EPYC, CPU family 26 (Zen 5), model 2',
  adapters: ['keras', 'tfjs-node'],
  reproduction: 'scripts/repro-tf-onednn-sigfpe.py',
  workaround:
    'TF_ENABLE_ONEDNN_OPTS=0 in the environment (TensorFlow without oneDNN; float32 rounds differently, within the fp32 rows)',
  avoidedBy: { env: 'TF_ENABLE_ONEDNN_OPTS', value: '0' },
  docs: 'docs/cpu-dependent.md',
};

export const KNOWN_CRASHES: readonly KnownCrash[] = [TF_ONEDNN_CONV_SIGFPE];

/** A child process that runs the crashing operation: it dies of the crash's signal where the crash exists. */
export interface CrashProbe {
  /** Names the probe in the cache ('python-tensorflow', 'tfjs-node'). */
  name: string;
  argv: string[];
  /** The runtime version the probe loads: a new version is probed again. */
  runtimeVersion: string;
  timeoutMs?: number;
}

export interface KnownCrashFinding {
  crash: KnownCrash;
  probe: string;
  /** The signal the probe died of. */
  signal: string;
  cpu: string;
  /** The answer came from the per-machine cache. */
  cached: boolean;
}

interface CacheRecord {
  crash: string;
  probe: string;
  runtimeVersion: string;
  cpu: string;
  envSwitch: string;
  crashed: boolean;
  signal: string | null;
  probedAt: string;
}

export function crashProbeCacheDir(): string {
  const v = process.env.RESNET_CONFORMANCE_CRASH_PROBE_CACHE;
  return v ? path.resolve(v) : path.join(packageRoot(), 'node_modules', '.cache', 'resnet-conformance', 'crash-probes');
}

function cacheFile(dir: string, crash: KnownCrash, probe: CrashProbe, cpu: CpuIdentity, envSwitch: string): string {
  const key = sha256(
    JSON.stringify([
      crash.id,
      probe.name,
      probe.runtimeVersion,
      cpu.vendor,
      cpu.family,
      cpu.model,
      cpu.stepping,
      cpu.modelName,
      cpu.flags,
      envSwitch,
    ]),
  ).slice(0, 16);
  return path.join(dir, `${crash.id}.${probe.name}.${key}.json`);
}

function findingOf(
  crash: KnownCrash,
  probe: CrashProbe,
  signal: string,
  cpu: CpuIdentity,
  cached: boolean,
): KnownCrashFinding {
  return { crash, probe: probe.name, signal, cpu: cpuLabel(cpu), cached };
}

/**
 * Does `crash` happen here? Runs `probe` in a child process (once per machine, CPU, runtime version
 * and value of the crash's environment switch; then from the cache). Returns the finding when the
 * probe died of the crash's signal, null when it ran (or failed some other way: that is the
 * adapter's ordinary probe's business, not a known crash).
 */
export function detectKnownCrash(
  crash: KnownCrash,
  probe: CrashProbe,
  opts: { env?: NodeJS.ProcessEnv; cacheDir?: string; cpu?: CpuIdentity } = {},
): KnownCrashFinding | null {
  const env = opts.env ?? process.env;
  const cpu = opts.cpu ?? cpuIdentity();
  const envSwitch = `${crash.avoidedBy.env}=${env[crash.avoidedBy.env] ?? ''}`;
  const file = cacheFile(opts.cacheDir ?? crashProbeCacheDir(), crash, probe, cpu, envSwitch);
  try {
    const rec = JSON.parse(fs.readFileSync(file, 'utf8')) as CacheRecord;
    if (rec.crash === crash.id && typeof rec.crashed === 'boolean') {
      return rec.crashed ? findingOf(crash, probe, rec.signal ?? crash.signal, cpu, true) : null;
    }
  } catch {
    // no cache entry (or an unreadable one): probe
  }
  const r = spawnSync(probe.argv[0], probe.argv.slice(1), {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: probe.timeoutMs ?? 180_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  if (r.error && !r.signal) return null; // could not start: not this crash
  const signal = signalOfExit(r.status, r.signal);
  if (signal === 'SIGTERM' && r.error) return null; // the probe timed out: unknown, probe again next time
  const crashed = signal === crash.signal;
  const rec: CacheRecord = {
    crash: crash.id,
    probe: probe.name,
    runtimeVersion: probe.runtimeVersion,
    cpu: cpuLabel(cpu),
    envSwitch,
    crashed,
    signal,
    probedAt: new Date().toISOString(),
  };
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeFileAtomic(file, JSON.stringify(rec, null, 2) + '\n');
  } catch {
    // an unwritable cache only costs a probe next time
  }
  return crashed ? findingOf(crash, probe, signal!, cpu, false) : null;
}

/** The probe of the crash under Python TensorFlow: the reproduction script's one convolution. */
export function pythonTensorflowProbe(python: string, tensorflowVersion: string): CrashProbe {
  return {
    name: 'python-tensorflow',
    argv: [python, path.join(packageRoot(), TF_ONEDNN_CONV_SIGFPE.reproduction), '--child'],
    runtimeVersion: tensorflowVersion,
  };
}

/** The same convolution through tfjs-node (libtensorflow from the same wheel). */
export function tfjsNodeProbe(tfjsNodeDir: string, libtensorflowVersion: string): CrashProbe {
  const script =
    'const tf = require(process.argv[1]);' +
    'const y = tf.conv2d(tf.ones([1, 1, 1, 256]), tf.fill([1, 1, 256, 1024], 0.01), 1, "valid");' +
    'process.stdout.write("RESULT " + y.shape.join("x") + "\\n");';
  return {
    name: 'tfjs-node',
    argv: [process.execPath, '-e', script, tfjsNodeDir],
    runtimeVersion: libtensorflowVersion,
  };
}

/** The fields a probe result and a case carry for a known crash (ProbeResult.knownCrash). */
export interface KnownCrashReport {
  id: string;
  title: string;
  signal: string;
  cpu: string;
  reproduction: string;
  workaround: string;
  docs: string;
}

export function knownCrashReport(f: KnownCrashFinding): KnownCrashReport {
  return {
    id: f.crash.id,
    title: f.crash.title,
    signal: f.signal,
    cpu: f.cpu,
    reproduction: f.crash.reproduction,
    workaround: f.crash.workaround,
    docs: f.crash.docs,
  };
}

/** One line, the workaround before the details: a console line may be cut. */
export function knownCrashText(k: KnownCrashReport): string {
  return (
    `known crash on this CPU (${k.signal}, ${signalMeaning(k.signal)}): ${k.title}; workaround: ${k.workaround}; ` +
    `${k.id} on ${k.cpu}; reproduction: ${k.reproduction}; see ${k.docs}`
  );
}

/** A crash with this signal in a process that ran an adapter of a known crash: the likely cause, or ''. */
export function likelyKnownCrash(adapterId: string, signal: string | null): KnownCrash | undefined {
  if (!signal) return undefined;
  return KNOWN_CRASHES.find((c) => c.signal === signal && c.adapters.includes(adapterId));
}

/** An adapter's probe answer for a found crash: not available here, with the cause and the workaround. */
export function knownCrashProbeResult(f: KnownCrashFinding): {
  available: false;
  reason: string;
  fix: string;
  knownCrash: KnownCrashReport;
} {
  const k = knownCrashReport(f);
  return { available: false, reason: knownCrashText(k), fix: k.workaround, knownCrash: k };
}

/** Probes `crash` with `probe` and gives the adapter's probe answer when it crashes here (else null). */
export function probeKnownCrash(crash: KnownCrash, probe: CrashProbe): ReturnType<typeof knownCrashProbeResult> | null {
  const f = detectKnownCrash(crash, probe);
  return f ? knownCrashProbeResult(f) : null;
}
