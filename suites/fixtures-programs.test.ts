/**
 * Every golden fixture case (fixtures/manifest.json) against every available adapter that is a
 * separate program (Python over the stdio protocol, Keras's worker, other child processes), judged as
 * a run judges it: suites/helpers/fixture-suite.ts. The JavaScript runtimes are in
 * suites/fixtures.test.ts; the two files split the adapters so that two Jest workers run them side by side.
 */
import { fixtureSuite } from './helpers/fixture-suite';
import { javascriptRuntime } from './helpers/fixture-hosts';

fixtureSuite((entry) => !javascriptRuntime(entry));
