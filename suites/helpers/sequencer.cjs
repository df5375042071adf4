/**
 * Test file order for `npm test`: Jest's own (failed first, then the longest by its timing cache),
 * except that a file Jest has no timing for is placed by the typical duration below instead of by
 * its size. A fresh clone (CI) has no timing cache, and Jest's size order would start the longest
 * suites (fixtures.test.ts is a short file) near the end, leaving one worker alone with them while
 * the other idles. Only the order changes: every file runs, each in a worker as before.
 *
 * CommonJS: Jest requires a test sequencer with plain require(), without the config's TypeScript loader.
 */
const path = require('path');
const Sequencer = require('@jest/test-sequencer').default;

/**
 * Typical durations (ms) of the long suites on an idle 2-core machine, rounded (measurements:
 * docs/notes/2026-12-07-test-time.md). An order hint only: a stale number makes a run slower, never wrong.
 */
const TYPICAL_MS = {
  'fixtures.test.ts': 200_000,
  'fixtures-programs.test.ts': 200_000,
  'pretrained.test.ts': 190_000,
  'browser.test.ts': 100_000,
  'runner.test.ts': 50_000,
  'external-adapters-cli.test.ts': 50_000,
  'diagnose.test.ts': 40_000,
  'external-command.test.ts': 35_000,
  'onnxruntime-adapter.test.ts': 35_000,
  'litert.test.ts': 30_000,
  'dawn.test.ts': 30_000,
  'sweep.test.ts': 25_000,
  'case-pack.test.ts': 15_000,
  'baseline-set.test.ts': 15_000,
  'tfjs-adapter.test.ts': 11_000,
  'native-crash.test.ts': 10_000,
};

class TypicalDurationSequencer extends Sequencer {
  sort(tests) {
    // Jest's timing cache: path -> [0 failed | 1 passed, duration ms] (what its own sort reads).
    const cached = (t) => this._getCache(t)[t.path];
    const failed = (t) => (cached(t)?.[0] === 0 ? 1 : 0);
    const weight = (t) => cached(t)?.[1] ?? TYPICAL_MS[path.basename(t.path)] ?? 0;
    const size = (t) => t.context.hasteFS.getSize(t.path) ?? 0;
    return [...tests].sort((a, b) => failed(b) - failed(a) || weight(b) - weight(a) || size(b) - size(a));
  }
}

module.exports = TypicalDurationSequencer;
