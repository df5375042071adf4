/**
 * Start-up shared by the child processes the harness forks (the runner's adapter worker,
 * src/runner/worker.ts, and the bench worker, src/bench/worker.ts): sending over the IPC channel,
 * reporting an uncaught error as a 'fatal' message before exiting with code 70, and waiting for the
 * one message that starts the work.
 *
 * No imports: the bench worker measures its own start-up cost from the first line of its module.
 */

export interface FatalMessage {
  type: 'fatal';
  error: string;
}

/** Exit code of a worker that reported a fatal error. */
export const FATAL_EXIT_CODE = 70;

export function errorText(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

export interface WorkerChannel<M> {
  send(msg: M | FatalMessage): Promise<void>;
  /** Sends the error as a 'fatal' message (best effort) and exits with FATAL_EXIT_CODE. */
  fatal(err: unknown): Promise<never>;
  /**
   * Runs `work` on the first message, which must have type `expected` (anything else is fatal);
   * exits with code 0 when it resolves (runtimes may keep thread pools alive), fatal when it rejects.
   */
  onStart<S extends { type: string }>(expected: S['type'], work: (msg: S) => Promise<void>): void;
}

/**
 * Sets up a worker process: uncaught exceptions and unhandled rejections become 'fatal' messages.
 * `worker` names the module in the error shown when it was not forked with an IPC channel;
 * `exitOnDisconnect`: leave as soon as the parent goes away (nobody will read the results).
 */
export function workerChannel<M>(worker: string, opts: { exitOnDisconnect?: boolean } = {}): WorkerChannel<M> {
  const send = (msg: M | FatalMessage): Promise<void> =>
    new Promise((resolve, reject) => {
      if (!process.send) {
        reject(new Error(`${worker} must be started with child_process.fork (it talks over the IPC channel)`));
        return;
      }
      process.send(msg, (err: Error | null) => (err ? reject(err) : resolve()));
    });
  const fatal = async (err: unknown): Promise<never> => {
    try {
      await send({ type: 'fatal', error: errorText(err) });
    } finally {
      process.exit(FATAL_EXIT_CODE);
    }
  };
  process.on('uncaughtException', (err) => void fatal(err));
  process.on('unhandledRejection', (err) => void fatal(err));
  if (opts.exitOnDisconnect) process.on('disconnect', () => process.exit(0));
  const onStart = <S extends { type: string }>(expected: S['type'], work: (msg: S) => Promise<void>): void => {
    process.once('message', (msg: S) => {
      if (msg?.type !== expected) {
        void fatal(new Error(`${worker}: expected a '${expected}' message first, got ${JSON.stringify(msg)}`));
        return;
      }
      work(msg).then(
        () => process.exit(0),
        (err) => fatal(err),
      );
    });
  };
  return { send, fatal, onStart };
}
