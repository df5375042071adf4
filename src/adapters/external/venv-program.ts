/**
 * A protocol program shipped in clients/python/examples and run by the interpreter of a virtual
 * environment the project sets up (`.venv-jax`, `.venv-torch`): an external command adapter that
 * is unavailable, with the setup command as the fix, while that environment or the program is missing.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CommandAdapter } from './command';

/** The interpreter of `venv` under `root`. */
export function venvPython(root: string, venv: string): string {
  return process.platform === 'win32'
    ? path.join(root, venv, 'Scripts', 'python.exe')
    : path.join(root, venv, 'bin', 'python');
}

export interface VenvProgram {
  id: string;
  root: string;
  python: string;
  script: string;
  /** The program's arguments after the script. */
  args: string[];
  /** The command that sets the environment up (the fix). */
  setup: string;
  /** Names the environment in the reason ("the JAX environment"). */
  what: string;
}

export function venvProgramAdapter(p: VenvProgram): CommandAdapter {
  const adapter = new CommandAdapter({ id: p.id, command: [p.python, p.script, ...p.args], cwd: p.root, fix: p.setup });
  const probe = adapter.probe.bind(adapter);
  adapter.probe = async () => {
    if (!fs.existsSync(p.python))
      return {
        available: false,
        reason: `${path.relative(p.root, p.python) || p.python} is missing: ${p.what} is not set up`,
        fix: p.setup,
      };
    if (!fs.existsSync(p.script))
      return {
        available: false,
        reason: `${p.script} is missing`,
        fix: 'reinstall resnet-conformance (clients/python ships with it)',
      };
    return probe();
  };
  return adapter;
}
