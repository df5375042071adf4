/** @jest-config-loader esbuild-register */
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
};

export default config;
