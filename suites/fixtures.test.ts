/**
 * Every golden fixture case (fixtures/manifest.json) against every available adapter that is a
 * JavaScript runtime (in this Node process or in Chromium), judged as a run judges it:
 * suites/helpers/fixture-suite.ts. The other adapters (Python programs, other child processes) are
 * in suites/fixtures-programs.test.ts.
 */
import { BrowserHost } from '../src/adapters/browser';
import { fixtureSuite } from './helpers/fixture-suite';
import { javascriptRuntime } from './helpers/fixture-hosts';

fixtureSuite(javascriptRuntime);

// The browser adapters share this process's host; disposing them only schedules its close (an unref'd
// timer), so Chromium would keep the Jest worker alive ("failed to exit gracefully").
afterAll(async () => {
  await BrowserHost.shared().close();
});
