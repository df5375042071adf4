/**
 * Every golden fixture case (fixtures/manifest.json) against every available adapter that is a
 * JavaScript runtime (in this Node process or in Chromium), judged as a run judges it:
 * suites/helpers/fixture-suite.ts. The other adapters (Python programs, other child processes) are
 * in suites/fixtures-programs.test.ts.
 */
import { fixtureSuite } from './helpers/fixture-suite';
import { javascriptRuntime } from './helpers/fixture-hosts';

fixtureSuite(javascriptRuntime);
