/**
 * A long-lived Python subprocess speaking JSON lines (src/adapters/keras/worker.py): one request
 * at a time per line on stdin, one response per line on stdout, matched by id.
 *
 * The child's handles are unref'ed while no request is pending, so an idle worker never keeps
 * Node alive (a forgotten dispose() does not hang Jest or the CLI); they are ref'ed again while a
 * request waits for its answer.
 */
import { likelyKnownCrash } from '../known-crashes';
import { signalMeaning } from '../../util/signals';
import { spawn, type ChildProcessWithoutNullStreams } from 'child_process';
import * as readline from 'readline';

export interface WorkerReady {
  ready: true;
  tensorflow: string;
  keras: string;
  numpy: string;
  python: string;
  backend: string;
  oneDNN: string;
  pid: number;
}

interface Pending {
  resolve: (v: Record<string, unknown>) => void;
  reject: (e: Error) => void;
  op: string;
}

const STDERR_KEEP = 8000;

export class PythonWorker {
  private child: ChildProcessWithoutNullStreams | undefined;
  private readyPromise: Promise<WorkerReady> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stderrTail = '';
  private exited: string | undefined;

  constructor(
    private readonly python: string,
    private readonly script: string,
    private readonly env: Record<string, string> = {},
  ) {}

  /** Starts the worker (once) and resolves with its versions when TensorFlow is imported. */
  start(): Promise<WorkerReady> {
    if (this.readyPromise) return this.readyPromise;
    this.readyPromise = new Promise<WorkerReady>((resolve, reject) => {
      const child = spawn(this.python, ['-u', this.script], {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: {
          ...process.env,
          TF_CPP_MIN_LOG_LEVEL: '3',
          CUDA_VISIBLE_DEVICES: '',
          PYTHONUNBUFFERED: '1',
          ...this.env,
        },
      });
      this.child = child;
      let ready = false;
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (s: string) => {
        this.stderrTail = (this.stderrTail + s).slice(-STDERR_KEEP);
      });
      const rl = readline.createInterface({ input: child.stdout });
      rl.on('line', (line) => {
        let msg: Record<string, unknown>;
        try {
          msg = JSON.parse(line) as Record<string, unknown>;
        } catch {
          this.stderrTail = (this.stderrTail + `\n[stdout] ${line}`).slice(-STDERR_KEEP);
          return;
        }
        if (!ready && msg.ready === true) {
          ready = true;
          this.setRef(false);
          resolve(msg as unknown as WorkerReady);
          return;
        }
        const id = msg.id as number;
        const p = this.pending.get(id);
        if (!p) return;
        this.pending.delete(id);
        if (this.pending.size === 0) this.setRef(false);
        if (msg.ok === true) p.resolve(msg);
        else {
          const tb = typeof msg.traceback === 'string' ? `\n${msg.traceback}` : '';
          p.reject(new Error(`keras worker: ${p.op} failed: ${String(msg.error)}${tb}`));
        }
      });
      child.on('error', (err) => {
        this.exited = `could not start ${this.python}: ${err.message}`;
        if (!ready) reject(new Error(`keras worker: ${this.exited}`));
        this.failAll();
      });
      child.on('exit', (code, signal) => {
        const known = likelyKnownCrash('keras', signal);
        this.exited = signal
          ? `exited (${signal}, ${signalMeaning(signal)}${known ? `; most likely the known crash ${known.id}: ${known.title}; workaround: ${known.workaround}; see ${known.docs}` : ''})`
          : `exited (code ${code})`;
        if (!ready) reject(new Error(`keras worker ${this.exited} before it was ready: ${this.stderrSummary()}`));
        this.failAll();
      });
    });
    return this.readyPromise;
  }

  private stderrSummary(): string {
    const lines = this.stderrTail
      .trim()
      .split('\n')
      .filter((l) => !/oneDNN custom operations|absl::InitializeLog/.test(l));
    return lines.slice(-12).join('\n') || '(no output on stderr)';
  }

  private failAll(): void {
    for (const [id, p] of this.pending) {
      p.reject(new Error(`keras worker ${this.exited} while '${p.op}' was pending: ${this.stderrSummary()}`));
      this.pending.delete(id);
    }
  }

  private setRef(on: boolean): void {
    const c = this.child;
    if (!c) return;
    const f = on ? 'ref' : 'unref';
    c[f]();
    for (const s of [c.stdin, c.stdout, c.stderr] as unknown as { ref?: () => void; unref?: () => void }[]) s[f]?.();
  }

  /** Sends one request and resolves with the worker's response (rejects with its error and traceback). */
  async request(op: string, body: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    await this.start();
    if (this.exited || !this.child)
      throw new Error(`keras worker ${this.exited ?? 'not running'}: ${this.stderrSummary()}`);
    const id = this.nextId++;
    const child = this.child;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, op });
      this.setRef(true);
      child.stdin.write(`${JSON.stringify({ ...body, id, op })}\n`);
    });
  }

  /** Asks the worker to exit; kills it if it has not exited after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    const child = this.child;
    if (!child || this.exited) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.setRef(true);
    try {
      child.stdin.write(`${JSON.stringify({ id: 0, op: 'exit' })}\n`);
      child.stdin.end();
    } catch {
      // the pipe may already be closed
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}
