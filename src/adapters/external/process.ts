/**
 * One running external adapter program: spawns it, sends request frames on its stdin, matches
 * the response frames on its stdout by id, keeps the tail of its stderr for error messages.
 *
 * Requests are sent one at a time (the protocol has at most one request in flight). Every request
 * has a timeout; on timeout, on a malformed frame or on a protocol violation the program is killed
 * (it cannot be trusted to be in step any more); on exit every pending request fails with a
 * 'crashed' error naming the exit code or signal.
 *
 * The child's handles are unref'ed while no request is pending, so an idle program never keeps
 * Node alive (as src/adapters/keras/worker-client.ts does).
 *
 * Nothing the program started outlives it or the harness: the program runs in its own process
 * group, and the whole group is killed (SIGKILL) on a timeout or fault, when the program exits
 * (whatever it left running), when it is stopped, and when the harness process exits or gets
 * SIGINT / SIGTERM (src/util/signals.ts). A harness killed with SIGKILL cannot do that: the program
 * then sees its stdin end, and must exit (docs/adapter-protocol.md).
 */
import { spawn, type ChildProcess } from 'child_process';
import type { Tensor } from '../../tensor';
import { onTermination, signalMeaning } from '../../util/signals';
import { ExternalAdapterError } from './errors';
import { encodeFrame, FrameError, FrameReader, type Frame } from './frames';

const STDERR_KEEP = 16_000;
/**
 * Payload limit of an answer that carries no tensors by the protocol (hello, probe, describe,
 * build, paramCount, bye, error) and of a frame with no request pending: 1 MiB of slack.
 */
export const UNTENSORED_ANSWER_BYTES = 1 << 20;
const STDERR_LINES = 15;

export interface ProgramOptions {
  argv: string[];
  cwd?: string;
  env?: Record<string, string>;
  /** Label for messages, e.g. the adapter id. */
  label: string;
}

/** The largest payload the answer to a request may announce, and what that is (for the error). */
export interface PayloadLimit {
  bytes: number;
  what: string;
}

interface Pending {
  id: number;
  type: string;
  resolve: (f: Frame) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** Programs whose process group may still hold processes. */
const liveGroups = new Set<ProgramProcess>();
let releaseTermination: (() => void) | undefined;

function trackGroup(p: ProgramProcess, on: boolean): void {
  if (on) liveGroups.add(p);
  else liveGroups.delete(p);
  if (liveGroups.size > 0) releaseTermination ??= onTermination(killAllPrograms);
  else if (releaseTermination) {
    releaseTermination();
    releaseTermination = undefined;
  }
}

/** Kills the process group of every program this process started (synchronous: usable at exit). */
export function killAllPrograms(): void {
  for (const p of [...liveGroups]) p.kill();
}

/**
 * Set to '1' (by `run --verbose` for its workers, or by hand for diagnose, forward, bench): every
 * program's stderr is passed through to this process's stderr, each line prefixed with the
 * program's label. Otherwise only its last lines are kept, for error messages.
 */
export const PROGRAM_STDERR_ENV = 'RESNET_CONFORMANCE_PROGRAM_STDERR';

export class ProgramProcess {
  private child: ChildProcess | undefined;
  private reader = new FrameReader('program');
  private pending: Pending | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private nextId = 1;
  private stderrTail = '';
  /** Set once the program is gone: why (exit code/signal, spawn error, killed after a fault). */
  private gone: string | undefined;
  private spawnError: Error | undefined;
  private readonly exitPromise: Promise<void>;
  /** The program has exited and its group was killed after it: its pid may be reused, never signal it again. */
  private groupGone = false;
  private resolveExit!: () => void;

  constructor(private readonly opts: ProgramOptions) {
    this.exitPromise = new Promise((r) => {
      this.resolveExit = r;
    });
    this.reader.setPayloadLimit(UNTENSORED_ANSWER_BYTES, 'a frame with no request pending');
    const [cmd, ...args] = opts.argv;
    let child: ChildProcess;
    try {
      child = spawn(cmd, args, {
        cwd: opts.cwd,
        env: { ...process.env, ...opts.env },
        stdio: ['pipe', 'pipe', 'pipe'],
        // Own process group: a timeout kills the program and anything it started.
        detached: process.platform !== 'win32',
      });
    } catch (e) {
      this.spawnError = e as Error;
      this.gone = `could not be started: ${(e as Error).message}`;
      this.resolveExit();
      return;
    }
    this.child = child;
    if (child.pid !== undefined) trackGroup(this, true);
    child.stdin!.on('error', () => {
      /* EPIPE when the program has exited: reported by 'exit' */
    });
    child.stderr!.setEncoding('utf8');
    const echo = process.env[PROGRAM_STDERR_ENV] === '1';
    child.stderr!.on('data', (s: string) => {
      this.stderrTail = (this.stderrTail + s).slice(-STDERR_KEEP);
      // `run --verbose`: the program's own messages as it writes them (the worker's stderr goes to the terminal).
      if (echo) process.stderr.write(s);
    });
    child.stdout!.on('data', (b: Buffer) => this.onData(b));
    child.on('error', (err) => {
      this.spawnError = err;
      this.markGone(`could not be started: ${err.message}`);
    });
    let stdoutEnded = false;
    child.stdout!.once('end', () => {
      stdoutEnded = true;
    });
    child.on('exit', (code, signal) => {
      // Whatever the program left running in its group goes with it.
      this.kill();
      this.groupGone = true;
      trackGroup(this, false);
      const why = `exited (${signal ? `signal ${signal}: ${signalMeaning(signal)}` : `code ${code}`})`;
      // Let the last stdout chunks arrive first (a frame written just before exit still counts);
      // a grandchild holding stdout open does not delay this more than 200 ms.
      if (stdoutEnded) {
        setImmediate(() => this.markGone(why));
      } else {
        const t = setTimeout(() => this.markGone(why), 200);
        child.stdout!.once('end', () => {
          clearTimeout(t);
          setImmediate(() => this.markGone(why));
        });
      }
    });
    this.setRef(false);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Why the program is not running, or undefined while it runs. */
  get exitReason(): string | undefined {
    return this.gone;
  }

  /** The spawn failed (command not found, not executable). */
  get notStarted(): boolean {
    return this.spawnError !== undefined;
  }

  stderrSummary(): string {
    const lines = this.stderrTail.replace(/\s+$/, '').split('\n');
    const text = lines.slice(-STDERR_LINES).join('\n').trim();
    return text ? `stderr (last lines):\n${text}` : 'nothing on stderr';
  }

  private markGone(why: string): void {
    if (this.gone === undefined) this.gone = why;
    const p = this.pending;
    if (p) {
      this.pending = undefined;
      clearTimeout(p.timer);
      p.reject(
        new ExternalAdapterError(
          'crashed',
          `${this.opts.label}: the program ${this.gone} while request '${p.type}' (#${p.id}) was pending; ${this.stderrSummary()}`,
        ),
      );
    }
    this.setRef(false);
    this.resolveExit();
  }

  private onData(b: Buffer): void {
    if (this.gone) return;
    this.reader.push(b);
    for (;;) {
      let f: Frame | undefined;
      try {
        f = this.reader.next();
      } catch (e) {
        this.fault('protocol', (e as FrameError).message);
        return;
      }
      if (!f) return;
      const p = this.pending;
      if (!p) {
        this.fault('protocol', `unsolicited '${f.header.type}' frame (id ${f.header.id}) with no request pending`);
        return;
      }
      if (f.header.id !== p.id) {
        this.fault(
          'protocol',
          `response '${f.header.type}' has id ${f.header.id}, but the pending request '${p.type}' has id ${p.id}`,
        );
        return;
      }
      this.pending = undefined;
      clearTimeout(p.timer);
      this.setRef(false);
      this.reader.setPayloadLimit(UNTENSORED_ANSWER_BYTES, 'a frame with no request pending');
      if (f.header.type === 'error') {
        const tb =
          typeof f.header.traceback === 'string' && f.header.traceback ? `\n${f.header.traceback.trimEnd()}` : '';
        p.reject(
          new ExternalAdapterError(
            'program',
            `${this.opts.label}: '${p.type}' failed in the program: ${String(f.header.message ?? '(no message)')}${tb}`,
          ),
        );
      } else if (f.header.type !== p.type) {
        this.fault('protocol', `answered request '${p.type}' (#${p.id}) with a '${f.header.type}' frame`, p);
      } else {
        p.resolve(f);
      }
    }
  }

  /** Kills the program after a protocol fault or a timeout and fails the pending request with `kind`. */
  private fault(kind: 'protocol' | 'timeout', what: string, p: Pending | undefined = this.pending): void {
    this.pending = undefined;
    if (p) clearTimeout(p.timer);
    this.kill();
    const gone = kind === 'timeout' ? 'killed after a timeout' : 'killed after a protocol error';
    if (this.gone === undefined) this.gone = gone;
    if (p) {
      p.reject(
        new ExternalAdapterError(kind, `${this.opts.label}: ${what}; the program was killed. ${this.stderrSummary()}`),
      );
    }
  }

  /** Gives the program up after a fault found outside this class (e.g. a bad .npy in a response): kills it. */
  abandon(why: string): void {
    if (this.gone === undefined) this.gone = why;
    this.kill();
  }

  /** Kills the program's whole process group (the program itself may have exited already: its group may not). */
  kill(): void {
    const c = this.child;
    if (!c || this.groupGone) return;
    try {
      if (c.pid !== undefined && process.platform !== 'win32') process.kill(-c.pid, 'SIGKILL');
      else if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    } catch {
      try {
        if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }

  private setRef(on: boolean): void {
    const c = this.child;
    if (!c) return;
    const f = on ? 'ref' : 'unref';
    c[f]();
    for (const s of [c.stdin, c.stdout, c.stderr] as unknown as ({ ref?: () => void; unref?: () => void } | null)[])
      s?.[f]?.();
  }

  /**
   * Sends one request and resolves with the response frame of the same type and id. Rejects with an
   * ExternalAdapterError: 'program' (an error message; the program stays usable), 'crashed',
   * 'timeout' or 'protocol' (the program is gone after those). `limit`: the largest payload the
   * answer may announce (default UNTENSORED_ANSWER_BYTES); a larger one is a protocol fault before
   * any of it is buffered.
   */
  request(
    type: string,
    fields: Record<string, unknown>,
    tensors: { name: string; tensor: Tensor }[],
    timeoutMs: number,
    limit?: PayloadLimit,
  ): Promise<Frame> {
    const run = (): Promise<Frame> =>
      new Promise<Frame>((resolve, reject) => {
        if (this.gone !== undefined || !this.child) {
          reject(
            new ExternalAdapterError(
              'crashed',
              `${this.opts.label}: cannot send '${type}': the program ${this.gone ?? 'is not running'}; ${this.stderrSummary()}`,
            ),
          );
          return;
        }
        const id = this.nextId++;
        let bytes: Buffer;
        try {
          bytes = encodeFrame({ ...fields, type, id }, tensors);
        } catch (e) {
          reject(
            new ExternalAdapterError('usage', `${this.opts.label}: cannot encode '${type}': ${(e as Error).message}`),
          );
          return;
        }
        const timer = setTimeout(() => {
          this.fault('timeout', `no answer to '${type}' (#${id}) within ${timeoutMs} ms`);
        }, timeoutMs);
        this.pending = { id, type, resolve, reject, timer };
        this.reader.setPayloadLimit(
          limit?.bytes ?? UNTENSORED_ANSWER_BYTES,
          `the answer to '${type}' #${id}${limit ? ` (${limit.what})` : ' (no tensors by the protocol; 1 MiB of slack)'}`,
        );
        this.setRef(true);
        this.child.stdin!.write(bytes);
      });
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** Sends `bye` (if running), closes stdin and waits up to graceMs for the exit; then kills. */
  async stop(graceMs = 3000): Promise<void> {
    const c = this.child;
    if (!c || this.gone !== undefined) {
      this.kill();
      return;
    }
    this.setRef(true);
    const bye = this.request('bye', {}, [], graceMs).catch(() => undefined);
    await Promise.race([bye, this.exitPromise]);
    // The answer to bye unref'd the child (no request pending): held again until it has exited, or a
    // program slow to exit would let this process end inside stop(), the code after it never run.
    this.setRef(true);
    try {
      c.stdin!.end();
    } catch {
      /* closed */
    }
    const timer = setTimeout(() => this.kill(), graceMs);
    await this.exitPromise;
    clearTimeout(timer);
    this.setRef(false);
  }
}
