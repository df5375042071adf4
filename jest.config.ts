/** @jest-config-loader esbuild-register */
import * as os from 'os';
import type { Config } from 'jest';

const config: Config = {
  testEnvironment: '<rootDir>/suites/helpers/jest-node-environment.ts',
  roots: ['<rootDir>/suites'],
  testMatch: ['**/*.test.ts'],
  modulePathIgnorePatterns: ['<rootDir>/.tmp/', '<rootDir>/.venv/'],
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest', {}] },
  // Explicit: Jest otherwise switches reporters when some agent/CI variables are set.
  reporters: ['default'],
  globalSetup: '<rootDir>/suites/global-setup.ts',
  testTimeout: 120_000,
  // Setting a worker memory limit makes Jest run the test files in worker processes even with one
  // worker (2-core machines otherwise run them inside Jest's own process): a native crash of a
  // runtime (a SIGFPE, a segfault) then ends that worker, Jest reports the file as failed and goes
  // on, and the results file is still written. suites/native-crash.test.ts proves it.
  workerIdleMemoryLimit: '6GB',
  // At least two test files at once, also on 2 cores (Jest's default there is one): most of the long
  // suites spend their time waiting for another process (Python programs, Chromium, the CLI and its
  // workers), so one file leaves a core idle. Each file still gets its own worker process.
  maxWorkers: Math.max(2, os.availableParallelism() - 1),
  // Longest files first also on a fresh clone, which has no Jest timing cache (suites/helpers/sequencer.cjs).
  testSequencer: '<rootDir>/suites/helpers/sequencer.cjs',
};

export default config;
