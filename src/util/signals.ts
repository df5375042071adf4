/**
 * SIGINT and SIGTERM, handled one way in every process of the harness (the CLI commands, the runner
 * and bench workers, a library user's process): first every registered cleanup runs (synchronously:
 * kill the external programs' process groups), then
 *   - if a command owns termination (the `run` and `bench` commands: stop the workers, say that
 *     there is no complete report, exit 130 / 143), its handler decides;
 *   - otherwise the process dies of the signal as it would have without these handlers (the
 *     handlers are removed and the signal raised again), unless another listener of the process
 *     handles it.
 * Nothing is installed while there is nothing to clean up and no owner, so a process that never
 * starts an external program keeps Node's default behaviour.
 */
import * as os from 'os';

export type TerminationSignal = 'SIGINT' | 'SIGTERM';

const SIGNALS: TerminationSignal[] = ['SIGINT', 'SIGTERM'];
const cleanups = new Set<() => void>();
const owners: ((signal: TerminationSignal) => void)[] = [];
let installed = false;

/** Exit status of a process ended by `signal` (128 + its number), as shells report it. */
export function signalExitCode(signal: TerminationSignal): number {
  return signal === 'SIGINT' ? 130 : 143;
}

function runCleanups(): void {
  for (const c of [...cleanups]) {
    try {
      c();
    } catch {
      /* a cleanup must not stop the others */
    }
  }
}

function onSignal(signal: TerminationSignal): void {
  runCleanups();
  const owner = owners[owners.length - 1];
  if (owner) {
    owner(signal);
    return;
  }
  uninstall();
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const s of SIGNALS) process.on(s, onSignal);
  process.on('exit', runCleanups);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  process.removeListener('exit', runCleanups);
}

function update(): void {
  if (cleanups.size > 0 || owners.length > 0) install();
  else uninstall();
}

/**
 * Runs `cleanup` (synchronous) on SIGINT, SIGTERM and at process exit, until the returned function
 * is called.
 */
export function onTermination(cleanup: () => void): () => void {
  cleanups.add(cleanup);
  update();
  return () => {
    cleanups.delete(cleanup);
    update();
  };
}

/**
 * Makes `handler` decide what SIGINT / SIGTERM do (after the cleanups) until the returned function
 * is called; the handler is expected to end the process.
 */
export function ownTermination(handler: (signal: TerminationSignal) => void): () => void {
  owners.push(handler);
  update();
  return () => {
    const i = owners.lastIndexOf(handler);
    if (i >= 0) owners.splice(i, 1);
    update();
  };
}

/**
 * How long a worker gets to end after SIGTERM before SIGKILL. A worker that waits on an external
 * program handles SIGTERM at once (it kills the program's group, then dies of the signal); one busy
 * in synchronous code, with no handler installed, dies of SIGTERM at once too; only a worker busy
 * while it holds a program needs SIGKILL, and then that program sees its stdin end.
 */
export const CHILD_STOP_GRACE_MS = 2000;

interface Killable {
  kill(signal?: NodeJS.Signals): boolean;
  exitCode: number | null;
  signalCode: NodeJS.Signals | null;
  once(event: 'exit', listener: () => void): unknown;
}

function ended(c: Killable): boolean {
  return c.exitCode !== null || c.signalCode !== null;
}

/** SIGTERM now, SIGKILL after `graceMs` unless the child has exited by then. */
export function terminateChild(child: Killable, graceMs = CHILD_STOP_GRACE_MS): void {
  if (ended(child)) return;
  child.kill('SIGTERM');
  const t = setTimeout(() => {
    if (!ended(child)) child.kill('SIGKILL');
  }, graceMs);
  child.once('exit', () => clearTimeout(t));
}

/** Stops every child (terminateChild) and resolves once all have exited. */
export function stopChildren(children: Iterable<Killable>, graceMs = CHILD_STOP_GRACE_MS): Promise<void> {
  const live = [...children].filter((c) => !ended(c));
  return Promise.all(
    live.map(
      (c) =>
        new Promise<void>((resolve) => {
          c.once('exit', () => resolve());
          terminateChild(c, graceMs);
          if (ended(c)) resolve();
        }),
    ),
  ).then(() => undefined);
}

/** What a fatal signal most plausibly means, for messages about a process that died of it. */
const MEANING: Record<string, string> = {
  SIGSEGV: 'segmentation fault in native code',
  SIGBUS: 'bus error in native code',
  SIGILL: 'illegal instruction (CPU feature missing?)',
  SIGFPE: 'arithmetic exception in native code',
  SIGABRT: 'aborted',
  SIGKILL: 'killed from outside (possibly the kernel out-of-memory killer)',
};

export function signalMeaning(signal: string): string {
  return MEANING[signal] ?? 'signal';
}

/** The signal a child's exit status stands for: Node's `signal`, or a shell's 128+N exit code. */
export function signalOfExit(code: number | null, signal: NodeJS.Signals | string | null): string | null {
  if (signal) return signal;
  if (code !== null && code > 128 && code < 160) {
    const entry = Object.entries(os.constants.signals).find(([, n]) => n === code - 128);
    if (entry) return entry[0];
  }
  return null;
}
