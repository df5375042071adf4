/** Run as its own Node process (no Jest keeping the event loop alive): probe, dispose, then say so. */
import * as path from 'path';
import { CommandAdapter } from '../../../src/adapters/external/command';

void (async () => {
  const program = path.join(__dirname, 'slow-exit-program.ts');
  const a = new CommandAdapter({
    id: 'slow-exit',
    command: [process.execPath, '--require', require.resolve('tsx/cjs'), program],
  });
  const p = await a.probe();
  process.stdout.write(`probe ${p.available}\n`);
  await a.dispose();
  process.stdout.write('after dispose\n');
})();
