import * as fs from 'fs';
import { BrowserHost } from '../../src/adapters/browser';
import type { AdapterEntry } from '../../src/adapters/types';
import { PROBE_FILE, type ProbedAdapter } from './probe-file';
import { namedAdapterIds, suiteAdapterEntries } from './selection';

function readProbes(): ProbedAdapter[] {
  if (!fs.existsSync(PROBE_FILE)) {
    throw new Error(`${PROBE_FILE} is missing: run the suites through jest (its globalSetup probes the adapters)`);
  }
  return JSON.parse(fs.readFileSync(PROBE_FILE, 'utf8')) as ProbedAdapter[];
}

/**
 * One suite, many adapters (in the spirit of tfjs-core's describeWithFlags): registers
 * `describe(`${title} [${id}]`)` for every available adapter; an unavailable adapter gets one
 * skipped test whose name carries the reason and the fix, so it is counted as skipped, never passed.
 */
export function describeEachAdapter(
  title: string,
  body: (entry: AdapterEntry) => void,
  filter: (entry: AdapterEntry) => boolean = () => true,
): void {
  // The registry's adapters, plus CONFORMANCE_ADAPTER_MODULES / CONFORMANCE_ADAPTER_COMMANDS (suites/helpers/selection.ts).
  const entries = suiteAdapterEntries();
  const named = namedAdapterIds();
  // The browser adapters share one host per process; their dispose() only schedules its close (an
  // unref'd timer), and Chromium would keep the Jest worker alive ("failed to exit gracefully").
  afterAll(async () => {
    await BrowserHost.shared().close();
  });
  for (const probe of readProbes()) {
    const entry = entries.find((a) => a.id === probe.id);
    if (!entry || !filter(entry)) continue;
    if (entry.suiteOptIn && !named.has(entry.id)) {
      describe(`${title} [${entry.id}]`, () => {
        test.skip(`opt-in: ${entry.suiteOptIn} (run with CONFORMANCE_ADAPTERS=${entry.id})`, () => undefined);
      });
    } else if (probe.available) {
      describe(`${title} [${entry.id}]`, () => body(entry));
    } else {
      // A known native crash on this CPU: the runtime is never loaded into Jest's processes.
      const why = probe.knownCrash ? `not run: ${probe.reason}` : `unavailable: ${probe.reason} (fix: ${probe.fix})`;
      describe(`${title} [${entry.id}]`, () => {
        test.skip(why, () => undefined);
      });
    }
  }
}
