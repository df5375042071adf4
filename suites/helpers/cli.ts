import { spawn, type ChildProcess } from 'child_process';
import * as path from 'path';

export const REPO = path.resolve(__dirname, '..', '..');
export const CLI = path.join(REPO, 'bin', 'resnet-conformance.cjs');
export const FAULTY_MODULE = path.join(__dirname, 'faulty-adapter.ts');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * `args` with `--adapter-module suites/helpers/faulty-adapter.ts` added right after the command when
 * some argument names a faulty adapter (`--adapters reference,faulty-nan`); otherwise unchanged, so
 * every other test sees the commands exactly as a user does.
 */
export function withFaultyModule(args: string[]): string[] {
  const dd = args.indexOf('--');
  const own = dd >= 0 ? args.slice(0, dd) : args;
  if (!own.some((a) => /(^|[,=])faulty-/.test(a)) || own.includes('--adapter-module')) return args;
  return [args[0], '--adapter-module', FAULTY_MODULE, ...args.slice(1)];
}

/**
 * Runs `resnet-conformance ...args` in a child process (the faulty test adapters added where the
 * arguments name one, see withFaultyModule). `onSpawn` gets the child, e.g. to interrupt it.
 */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
  onSpawn?: (child: ChildProcess) => void,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...withFaultyModule(args)], {
      cwd: REPO,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    onSpawn?.(child);
  });
}
