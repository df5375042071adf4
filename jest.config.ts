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
};

export default config;
