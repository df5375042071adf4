/**
 * A runtime that dies of a native crash inside a test file must not take the test run down with it:
 * the project's Jest configuration runs test files in worker processes (jest.config.ts), so Jest
 * reports the crashed file as failed, runs the others and writes its results file (which .ci/run
 * counts). Proven here with a stand-in that raises SIGFPE in the process that loads it.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import config from '../jest.config';
import { detectKnownCrash, TF_ONEDNN_CONV_SIGFPE, type CrashProbe } from '../src/adapters/known-crashes';
import { writeNpy } from '../src/tensor/npy';
import { parseCpuinfo } from '../src/util/cpu';
import { runCli } from './helpers/cli';

const ROOT = path.join(__dirname, '..');
const FIXTURES = path.join(__dirname, 'helpers', 'native-crash');

test('jest: a SIGFPE in one test file fails that file; the next file runs and the results file is written', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jest-crash-'));
  const cfgFile = path.join(dir, 'jest.config.json');
  const out = path.join(dir, 'results.json');
  // The project's configuration, with only what selects the files changed.
  const { globalSetup: _g, roots: _r, testMatch: _t, transform: _x, testEnvironment: _e, ...rest } = config;
  fs.writeFileSync(
    cfgFile,
    JSON.stringify({
      ...rest,
      rootDir: FIXTURES,
      roots: ['<rootDir>'],
      testMatch: ['**/*.crash-fixture.js'],
      testEnvironment: 'node',
      testSequencer: undefined,
    }),
  );
  expect(rest.workerIdleMemoryLimit).toBeDefined(); // the setting under test
  const r = spawnSync(
    process.execPath,
    [
      require.resolve('jest/bin/jest'),
      '--config',
      cfgFile,
      '--runTestsByPath',
      '--json',
      '--outputFile',
      out,
      path.join(FIXTURES, 'dies.crash-fixture.js'),
      path.join(FIXTURES, 'survives.crash-fixture.js'),
    ],
    { cwd: ROOT, encoding: 'utf8', timeout: 110_000, env: { ...process.env, CI: 'true' } },
  );
  expect(r.signal).toBeNull(); // Jest itself survived
  expect(r.status).toBe(1); // and failed the run
  const results = JSON.parse(fs.readFileSync(out, 'utf8')) as {
    numPassedTests: number;
    numFailedTestSuites: number;
    testResults: Array<{ name: string; status: string; message: string }>;
  };
  const byFile = new Map(results.testResults.map((t) => [path.basename(t.name), t]));
  expect(byFile.get('survives.crash-fixture.js')?.status).toBe('passed');
  expect(byFile.get('dies.crash-fixture.js')?.status).toBe('failed');
  expect(results.numFailedTestSuites).toBe(1);
  expect(results.numPassedTests).toBe(1);
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('known native crashes: a child-process probe, cached per machine', () => {
  const crash = TF_ONEDNN_CONV_SIGFPE;
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crash-probe-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  // A stand-in probe: counts its runs in a file, then dies of `signal` (or exits 0).
  const probe = (signal: string | null): CrashProbe => ({
    name: 'stand-in',
    runtimeVersion: '2.21.0',
    argv: [
      process.execPath,
      '-e',
      `require('fs').appendFileSync(${JSON.stringify(path.join(dir, 'runs'))}, 'x');` +
        (signal ? `process.kill(process.pid, '${signal}');setTimeout(() => {}, 10000);` : ''),
    ],
  });
  const runs = () =>
    fs.existsSync(path.join(dir, 'runs')) ? fs.readFileSync(path.join(dir, 'runs'), 'utf8').length : 0;

  test('a probe that dies of the crash signal is the crash; the second answer comes from the cache', () => {
    const f = detectKnownCrash(crash, probe('SIGFPE'), { cacheDir: dir, env: {} });
    expect(f).toMatchObject({ signal: 'SIGFPE', cached: false, probe: 'stand-in' });
    expect(f!.crash.id).toBe(crash.id);
    const again = detectKnownCrash(crash, probe('SIGFPE'), { cacheDir: dir, env: {} });
    expect(again).toMatchObject({ signal: 'SIGFPE', cached: true });
    expect(runs()).toBe(1);
  });

  test('the switch that avoids the crash is part of the cache key: with it set, the probe runs again', () => {
    detectKnownCrash(crash, probe('SIGFPE'), { cacheDir: dir, env: {} });
    expect(detectKnownCrash(crash, probe(null), { cacheDir: dir, env: { TF_ENABLE_ONEDNN_OPTS: '0' } })).toBeNull();
    expect(runs()).toBe(2);
    // and a CPU of another family is probed again too
    const cpu = parseCpuinfo(
      'vendor_id : AuthenticAMD\ncpu family : 25\nmodel : 17\nmodel name : AMD EPYC\nflags : avx2\n',
    );
    detectKnownCrash(crash, probe(null), { cacheDir: dir, env: {}, cpu });
    expect(runs()).toBe(3);
  });

  test('a probe that runs, or dies of another signal, is not this crash', () => {
    expect(detectKnownCrash(crash, probe(null), { cacheDir: dir, env: {} })).toBeNull();
    expect(detectKnownCrash(crash, { ...probe('SIGSEGV'), name: 'other' }, { cacheDir: dir, env: {} })).toBeNull();
  });

  test('the record names the runtime, the CPU, the reproduction (which exists), the workaround and the docs', () => {
    expect(crash.adapters).toEqual(expect.arrayContaining(['keras', 'tfjs-node']));
    expect(fs.existsSync(path.join(ROOT, crash.reproduction))).toBe(true);
    expect(fs.existsSync(path.join(ROOT, crash.docs))).toBe(true);
    expect(crash.workaround).toMatch(/TF_ENABLE_ONEDNN_OPTS=0/);
    expect(crash.seenOn).toMatch(/family 26/);
  });
});

describe('commands that run an adapter in their own process survive its native crash', () => {
  test('forward: an isolated adapter raising SIGFPE is reported as crashed, with the signal; exit 1', async () => {
    const x = path.join(os.tmpdir(), `crash-x-${process.pid}.npy`);
    writeNpy(x, { shape: [1, 8, 8, 3], data: new Float32Array(192).fill(0.5) });
    const r = await runCli([
      'forward',
      '--adapter',
      'faulty-fpe',
      '--model',
      'identity_block',
      '--input',
      x,
      '--out',
      `${x}.out.npy`,
    ]);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /adapter 'faulty-fpe' crashed while running identity_block: .*signal SIGFPE: arithmetic exception in native code/,
    );
    const d = await runCli(['diagnose', '--adapter', 'faulty-fpe', '--model', 'identity_block', '--input', x]);
    expect(d.signal).toBeNull();
    expect(d.stderr).toMatch(/signal SIGFPE/);
  });

  test('bench: a worker killed by SIGFPE is the adapter error, with the signal and its meaning', async () => {
    const json = path.join(os.tmpdir(), `crash-bench-${process.pid}.json`);
    const r = await runCli(['bench', '--adapters', 'faulty-fpe', '--no-ceiling', '--batch', '1', '--json-out', json]);
    expect(r.signal).toBeNull();
    expect(r.stdout).toMatch(
      /faulty-fpe: error — adapter crashed: worker killed by SIGFPE \(arithmetic exception in native code\)/,
    );
    fs.rmSync(json, { force: true });
  });

  test('run: an adapter whose probe finds a known crash is not started; its cases are crashed with the cause and the workaround', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'crash-run-'));
    const r = await runCli([
      'run',
      '--adapters',
      'faulty-known-crash',
      '--cases',
      'notebook/identity_block/*',
      '--out',
      out,
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /crashed: faulty-known-crash — not started, known crash on this CPU \(tensorflow-2\.21-onednn-conv-sigfpe\); workaround: TF_ENABLE_ONEDNN_OPTS=0/,
    );
    const report = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')) as {
      results: Array<{ status: string; reason: string }>;
      adapters: Array<{ id: string; knownCrash?: { id: string } }>;
    };
    expect(report.results.length).toBeGreaterThan(0);
    for (const c of report.results) {
      expect(c.status).toBe('crashed');
      expect(c.reason).toMatch(/known crash on this CPU \(SIGFPE.*workaround: TF_ENABLE_ONEDNN_OPTS=0/);
    }
    expect(report.adapters.find((a) => a.id === 'faulty-known-crash')?.knownCrash?.id).toBe(TF_ONEDNN_CONV_SIGFPE.id);
    fs.rmSync(out, { recursive: true, force: true });
  });

  test('fixtures check: a generator that dies of SIGFPE is reported as a crash with the known cause, never "exited with code 1"', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crash-gen-'));
    // A Python stand-in: answers the version probe, dies of SIGFPE on everything else (the known-crash
    // probe included, so the generator is also started with the workaround set, and still dies).
    const python = path.join(dir, 'python');
    fs.writeFileSync(
      python,
      `#!/bin/sh\ncase "$1" in -c) echo '{"tensorflow": "2.21.0", "keras": "3.15.1", "numpy": "2.4.6"}'; exit 0;; esac\nkill -FPE $$\n`,
      { mode: 0o755 },
    );
    const r = await runCli(['fixtures', 'check', '--no-setup'], {
      RESNET_CONFORMANCE_PYTHON: python,
      RESNET_CONFORMANCE_CRASH_PROBE_CACHE: path.join(dir, 'cache'),
    });
    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/known crash on this CPU .*TF_ENABLE_ONEDNN_OPTS=0/);
    expect(r.stderr).toMatch(
      /generate\.py crashed: killed by SIGFPE \(arithmetic exception in native code\); on this CPU most likely the known crash tensorflow-2\.21-onednn-conv-sigfpe/,
    );
    expect(r.stderr).toMatch(/the generator failed \(exit code 136/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
