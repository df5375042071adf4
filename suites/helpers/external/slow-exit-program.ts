/**
 * A protocol program that answers `bye` and then takes 5 s to exit (a Python client's atexit work, a
 * runtime's slow teardown): suites/external-command.test.ts checks that the harness process waits for
 * it (killing it after the grace period) instead of ending inside dispose().
 */
import { serveAdapter } from '../../../src/adapters/external/serve';
import { ReferenceAdapter } from '../../../src/adapters/reference';

const exit = process.exit.bind(process);
(process as unknown as { exit: (code?: number) => void }).exit = (code?: number) => {
  setTimeout(() => exit(code), 5000);
};
serveAdapter(new ReferenceAdapter({ id: 'slow-exit', precision: 'fp64' }), 'slow-exit', '1');
