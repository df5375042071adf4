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

const ROOT = path.join(__dirname, '..');
const FIXTURES = path.join(__dirname, 'helpers', 'native-crash');

test('a SIGFPE in one test file fails that file; the next file runs and the results file is written', () => {
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
