import type { AdapterEntry } from '../../src/adapters/types';

/**
 * Whether an adapter is a JavaScript runtime of the harness: in the test's own Node process (host
 * 'node', or no host: an adapter module of CONFORMANCE_ADAPTER_MODULES) or in Chromium (host
 * 'browser'). suites/fixtures.test.ts takes these, suites/fixtures-programs.test.ts every other
 * adapter (Python programs, other child processes), so each adapter is in exactly one of them; the
 * two halves take about as long, and two Jest workers run them side by side.
 */
export function javascriptRuntime(entry: AdapterEntry): boolean {
  return entry.host === undefined || entry.host === 'node' || entry.host === 'browser';
}
