/**
 * External program adapters: any program that speaks the stdio protocol of
 * docs/adapter-protocol.md (version 1) becomes an adapter. `createCommandAdapterEntry` makes the
 * registry-style entry; its Adapter spawns the program on first use (probe, describe or build) and
 * keeps it for the adapter's lifetime.
 *
 * Faults are this adapter's, never the harness's: a program that cannot start, exits before its
 * hello or speaks another protocol version is 'unavailable' (reason with its stderr tail, and a
 * fix); a malformed frame, a wrong output shape or dtype, an exit or a hang during a request is an
 * ExternalAdapterError (./errors.ts) whose `kind` tells the runner crashed / timeout / error.
 * After the program has gone (crash, timeout, protocol fault), the next run() starts it again and
 * rebuilds the last model (at most MAX_RESTARTS times per adapter), so the remaining cases still run.
 */
import { inputProblem } from '../input-check';
import * as path from 'path';
import type { ModelSpec, ModelWeights, ParamCount } from '../../model/types';
import { formatShape, type Tensor } from '../../tensor';
import type {
  Adapter,
  AdapterDescription,
  AdapterEntry,
  PrecisionProfile,
  ProbeResult,
  RunOptions,
  RunResult,
} from '../types';
import { ExternalAdapterError } from './errors';
import { frameTensors, FrameError, PROTOCOL_VERSION, type Frame } from './frames';
import { ProgramProcess, type PayloadLimit } from './process';

export { ExternalAdapterError, externalFaultStatus, type ExternalFaultKind } from './errors';
export { PROTOCOL_VERSION } from './frames';

export const DEFAULT_TIMEOUT_MS = 300_000;
export const DEFAULT_HELLO_TIMEOUT_MS = 60_000;
export const MAX_RESTARTS = 3;
const LOGITS_SUFFIX = ':logits';
/** Room for one tensor's .npy header (numpy writes 64-128 bytes; format 2.0 headers may be longer). */
const NPY_HEADER_SLACK_BYTES = 4096;
/** Room in a 'run' answer beyond its tensors (alignment padding, an extra small tensor). */
const RUN_ANSWER_SLACK_BYTES = 1 << 20;

export interface CommandAdapterOptions {
  /** The program: a command line (split into words like a shell does, without expansion) or an argv list. */
  command: string | string[];
  /** Adapter id; default: derived from the command (see commandAdapterId), or the hello name via resolveCommandAdapterEntry. */
  id?: string;
  /** Tolerance-table column the adapter is judged by (default 'fp32-cpu'). */
  profile?: PrecisionProfile;
  /** Per-request timeout (build, run, ...), default 300 s. */
  timeoutMs?: number;
  /** Timeout of the first answer (hello: the program's start-up, imports included), default max(60 s, timeoutMs). */
  helloTimeoutMs?: number;
  cwd?: string;
  /** Added to this process's environment for the program. */
  env?: Record<string, string>;
  /** One line for `resnet-conformance adapters`. */
  summary?: string;
  /** The fix shown when the program cannot start (default: names the command). */
  fix?: string;
}

/** Splits a command line into words: whitespace separates, '…' and "…" quote, backslash escapes; no expansion. */
export function splitCommand(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quote === "'") {
      if (ch === "'") quote = null;
      else cur += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = null;
      else if (ch === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1])) cur += line[++i];
      else cur += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < line.length) {
      cur += line[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (quote) throw new ExternalAdapterError('usage', `command ${JSON.stringify(line)}: unterminated ${quote} quote`);
  if (inWord) words.push(cur);
  if (words.length === 0) throw new ExternalAdapterError('usage', 'the adapter command is empty');
  return words;
}

function argvOf(command: string | string[]): string[] {
  if (Array.isArray(command)) {
    if (command.length === 0 || command.some((w) => typeof w !== 'string') || !command[0]) {
      throw new ExternalAdapterError(
        'usage',
        `the adapter command must be a non-empty list of strings, got ${JSON.stringify(command)}`,
      );
    }
    return [...command];
  }
  return splitCommand(command);
}

/** An id from the command: the last word naming a script or program, without folder and extension, e.g. 'jax_adapter'. */
export function commandAdapterId(command: string | string[]): string {
  const argv = argvOf(command);
  const word =
    [...argv].reverse().find((w) => !w.startsWith('-') && /\.(py|js|mjs|cjs|ts|rb|jl|sh)$/.test(w)) ?? argv[0];
  const base = path
    .basename(word)
    .replace(/\.[^.]+$/, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-');
  return `external-${base || 'program'}`;
}

function commandText(argv: string[]): string {
  return argv.map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, "'\\''")}'`)).join(' ');
}

interface Hello {
  protocol: number;
  name: string;
  version: string;
}

export class CommandAdapter implements Adapter {
  readonly argv: string[];
  private readonly timeoutMs: number;
  private readonly helloTimeoutMs: number;
  private readonly label: string;
  private proc: ProgramProcess | undefined;
  private hello: Hello | undefined;
  /** Why the program could not be used (start/hello/version): the probe's answer. */
  private startFailure: ProbeResult | undefined;
  private spec: ModelSpec | undefined;
  private weights: ModelWeights | undefined;
  private built: { paramCount?: ParamCount } | undefined;
  private restarts = 0;

  constructor(private readonly opts: CommandAdapterOptions & { id: string }) {
    this.argv = argvOf(opts.command);
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // Start-up is not a request: a short per-request timeout (a hang test's) must not fail a program
    // that starts slowly on a loaded machine.
    this.helloTimeoutMs = opts.helloTimeoutMs ?? Math.max(DEFAULT_HELLO_TIMEOUT_MS, this.timeoutMs);
    this.label = `adapter '${opts.id}' (${commandText(this.argv)})`;
  }

  get id(): string {
    return this.opts.id;
  }

  /** The program's hello (after it has started). */
  helloInfo(): Hello | undefined {
    return this.hello && { ...this.hello };
  }

  private defaultFix(): string {
    return (
      this.opts.fix ??
      `make \`${commandText(this.argv)}\` runnable${this.opts.cwd ? ` in ${this.opts.cwd}` : ''} (it runs without a shell; check the program path and its interpreter), and have it speak docs/adapter-protocol.md version ${PROTOCOL_VERSION}`
    );
  }

  /** Starts the program and exchanges hello; on failure records and returns an 'unavailable' probe result. */
  private async start(): Promise<ProbeResult | undefined> {
    if (this.proc && this.proc.exitReason === undefined && this.hello) return undefined;
    this.hello = undefined;
    const proc = new ProgramProcess({ argv: this.argv, cwd: this.opts.cwd, env: this.opts.env, label: this.label });
    this.proc = proc;
    let f: Frame;
    try {
      f = await proc.request(
        'hello',
        { protocol: PROTOCOL_VERSION, harness: { name: 'resnet-conformance', protocol: PROTOCOL_VERSION } },
        [],
        this.helloTimeoutMs,
      );
    } catch (e) {
      const err = e as ExternalAdapterError;
      let reason: string;
      if (proc.notStarted) reason = `cannot start \`${commandText(this.argv)}\`: the program ${proc.exitReason}`;
      else if (err.kind === 'crashed')
        reason = `the program ${proc.exitReason} before answering hello; ${proc.stderrSummary()}`;
      else if (err.kind === 'timeout')
        reason = `no hello from the program within ${this.helloTimeoutMs} ms (it was killed); ${proc.stderrSummary()}`;
      else reason = `hello failed: ${err.message}`;
      proc.kill();
      this.startFailure = { available: false, reason, fix: this.defaultFix() };
      return this.startFailure;
    }
    const h = f.header;
    if (h.protocol !== PROTOCOL_VERSION) {
      await proc.stop(1000);
      this.startFailure = {
        available: false,
        reason: `the program speaks protocol version ${JSON.stringify(h.protocol)}, this harness speaks version ${PROTOCOL_VERSION}`,
        fix: `use a client library / program for protocol version ${PROTOCOL_VERSION} (docs/adapter-protocol.md), or a harness that speaks version ${JSON.stringify(h.protocol)}`,
      };
      return this.startFailure;
    }
    this.hello = { protocol: h.protocol, name: String(h.name ?? 'unnamed'), version: String(h.version ?? 'unknown') };
    this.startFailure = undefined;
    return undefined;
  }

  /** Starts (or restarts) the program; throws when it cannot be used. */
  private async ensureRunning(what: string): Promise<ProgramProcess> {
    const fail = await this.start();
    if (fail) throw new ExternalAdapterError('crashed', `${this.label}: cannot ${what}: ${fail.reason}`);
    return this.proc!;
  }

  async probe(): Promise<ProbeResult> {
    const fail = await this.start();
    if (fail) return { ...fail };
    let f: Frame;
    try {
      f = await this.proc!.request('probe', {}, [], this.timeoutMs);
    } catch (e) {
      return { available: false, reason: `probe failed: ${(e as Error).message}`, fix: this.defaultFix() };
    }
    const h = f.header;
    if (h.available === true) return { available: true };
    if (h.available !== false) {
      return {
        available: false,
        reason: `the program's probe answer has no boolean 'available' (got ${JSON.stringify(h.available)})`,
        fix: this.defaultFix(),
      };
    }
    return {
      available: false,
      reason:
        typeof h.reason === 'string' && h.reason ? h.reason : 'the program says it cannot run here (no reason given)',
      fix: typeof h.fix === 'string' && h.fix ? h.fix : this.defaultFix(),
    };
  }

  async describe(): Promise<AdapterDescription> {
    const proc = await this.ensureRunning('describe');
    const h = (await proc.request('describe', {}, [], this.timeoutMs)).header;
    const str = (k: string): string => {
      if (typeof h[k] !== 'string')
        throw new ExternalAdapterError(
          'protocol',
          `${this.label}: describe answer: '${k}' must be a string, got ${JSON.stringify(h[k])}`,
        );
      return h[k] as string;
    };
    const settings: Record<string, string | number | boolean> = {};
    if (h.settings !== undefined) {
      if (typeof h.settings !== 'object' || h.settings === null || Array.isArray(h.settings)) {
        throw new ExternalAdapterError('protocol', `${this.label}: describe answer: 'settings' must be an object`);
      }
      for (const [k, v] of Object.entries(h.settings as Record<string, unknown>)) {
        settings[k] = typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : JSON.stringify(v);
      }
    }
    const notes = Array.isArray(h.notes) ? h.notes.map(String) : [];
    notes.push(
      `external program \`${commandText(this.argv)}\`: ${this.hello!.name} ${this.hello!.version}, protocol version ${this.hello!.protocol}`,
    );
    return {
      runtime: str('runtime'),
      version: str('version'),
      device: str('device'),
      precision: str('precision'),
      settings,
      notes,
    };
  }

  private async sendBuild(proc: ProgramProcess, spec: ModelSpec, weights: ModelWeights): Promise<void> {
    const list: { layer: string; name: string; trainable: boolean; tensor: string }[] = [];
    const tensors: { name: string; tensor: Tensor }[] = [];
    for (const [layer, ws] of weights) {
      for (const w of ws) {
        const name = `${layer}/${w.name}`;
        list.push({ layer, name: w.name, trainable: w.trainable, tensor: name });
        tensors.push({ name, tensor: { shape: w.shape, data: w.data } });
      }
    }
    const f = await proc.request('build', { spec, weights: list }, tensors, this.timeoutMs);
    const pc = f.header.paramCount;
    this.built = pc && typeof pc === 'object' ? { paramCount: this.checkParamCount(pc, 'build answer') } : {};
  }

  async build(spec: ModelSpec, weights: ModelWeights): Promise<void> {
    this.spec = undefined;
    this.weights = undefined;
    this.built = undefined;
    const proc = await this.ensureRunning('build');
    await this.sendBuild(proc, spec, weights);
    this.spec = spec;
    this.weights = weights;
  }

  /** The program is gone (crash, timeout, protocol fault): start it again and rebuild the last model. */
  private async revive(): Promise<ProgramProcess> {
    const proc = this.proc;
    if (proc && proc.exitReason === undefined && this.hello) return proc;
    if (this.restarts >= MAX_RESTARTS) {
      throw new ExternalAdapterError(
        'crashed',
        `${this.label}: the program ${proc?.exitReason ?? 'is not running'} and was already restarted ${this.restarts} times; not restarting it again`,
      );
    }
    this.restarts++;
    const p = await this.ensureRunning('restart the program');
    await this.sendBuild(p, this.spec!, this.weights!);
    return p;
  }

  private expectedShape(name: string, batch: number): number[] | undefined {
    const spec = this.spec!;
    const base = name.endsWith(LOGITS_SUFFIX) ? name.slice(0, -LOGITS_SUFFIX.length) : name;
    const layer = spec.layers.find((l) => l.name === base);
    if (!layer) return undefined;
    return [batch, ...layer.outputShape];
  }

  private checkShape(tensorName: string, t: Tensor, expected: number[] | undefined): void {
    if (!expected) return;
    if (t.shape.length !== expected.length || t.shape.some((d, i) => d !== expected[i])) {
      throw new ExternalAdapterError(
        'shape',
        `${this.label}: tensor '${tensorName}' has shape ${formatShape(t.shape)}, the spec says ${formatShape(expected)}`,
        { tensor: tensorName, actualShape: [...t.shape], expectedShape: expected },
      );
    }
  }

  /**
   * What a 'run' answer can legitimately hold: the output and every requested capture at the
   * spec's shapes as float64 (the widest protocol dtype), each with room for its .npy header, plus
   * slack. A capture the spec does not know counts as the spec's largest layer output.
   */
  private runAnswerLimit(batch: number, capture: string[]): PayloadLimit {
    const spec = this.spec!;
    const elements = (s: number[] | undefined): number => (s ?? []).reduce((a, d) => a * d, 1);
    const largest = Math.max(1, ...spec.layers.map((l) => batch * elements(l.outputShape)));
    const outShape = this.expectedShape(spec.output, batch);
    let bytes = RUN_ANSWER_SLACK_BYTES + NPY_HEADER_SLACK_BYTES + 8 * (outShape ? elements(outShape) : largest);
    for (const name of capture) {
      const s = this.expectedShape(name, batch);
      bytes += NPY_HEADER_SLACK_BYTES + 8 * (s ? elements(s) : largest);
    }
    return {
      bytes,
      what: `output ${outShape ? formatShape(outShape) : '(unknown shape)'} and ${capture.length} capture(s) as float64, plus .npy headers and slack`,
    };
  }

  async run(input: Tensor, opts: RunOptions): Promise<RunResult> {
    const spec = this.spec;
    if (!spec) throw new ExternalAdapterError('usage', `${this.label}: build() must be called before run()`);
    const shape = input.shape;
    const problem = inputProblem(spec, input);
    if (problem) throw new ExternalAdapterError('usage', `${this.label}: ${problem}`);
    if (typeof opts.training !== 'boolean')
      throw new ExternalAdapterError('usage', `${this.label}: run option 'training' must be true or false`);
    const capture = opts.capture ?? [];
    const proc = await this.revive();
    const f = await proc.request(
      'run',
      { training: opts.training, capture },
      [{ name: 'input', tensor: input }],
      this.timeoutMs,
      this.runAnswerLimit(shape[0], capture),
    );
    this.lastComputeMs = typeof f.header.computeMs === 'number' ? f.header.computeMs : undefined;
    let tensors: Map<string, Tensor>;
    try {
      tensors = frameTensors(f, `'run' answer (#${f.header.id})`);
    } catch (e) {
      proc.abandon('killed after a malformed frame');
      throw new ExternalAdapterError('protocol', `${this.label}: ${(e as FrameError).message}; the program was killed`);
    }
    const output = tensors.get('output');
    if (!output)
      throw new ExternalAdapterError(
        'protocol',
        `${this.label}: 'run' answer has no tensor 'output' (tensors: ${[...tensors.keys()].join(', ') || 'none'})`,
      );
    const n = shape[0];
    this.checkShape('output', output, this.expectedShape(spec.output, n));
    const intermediates: Record<string, Tensor> = {};
    for (const name of capture) {
      const t = tensors.get(`intermediates/${name}`);
      if (!t) continue; // reported by the comparison as a missing capture
      this.checkShape(`intermediates/${name}`, t, this.expectedShape(name, n));
      intermediates[name] = t;
    }
    return { output, intermediates };
  }

  /** The program's own compute time of the last run (its `computeMs`), if it reported one. */
  lastComputeMs: number | undefined;

  private checkParamCount(pc: unknown, where: string): ParamCount {
    const o = pc as Record<string, unknown>;
    const ok = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
    if (!o || !ok(o.total) || !ok(o.trainable) || !ok(o.nonTrainable)) {
      throw new ExternalAdapterError(
        'protocol',
        `${this.label}: ${where}: paramCount must be {total, trainable, nonTrainable} non-negative integers, got ${JSON.stringify(pc)}`,
      );
    }
    if (o.total !== o.trainable + o.nonTrainable) {
      throw new ExternalAdapterError(
        'protocol',
        `${this.label}: ${where}: paramCount total ${o.total} is not trainable ${o.trainable} + non-trainable ${o.nonTrainable}`,
      );
    }
    return { total: o.total, trainable: o.trainable, nonTrainable: o.nonTrainable };
  }

  async paramCount(): Promise<ParamCount> {
    if (!this.spec)
      throw new ExternalAdapterError('usage', `${this.label}: build() must be called before paramCount()`);
    const proc = await this.revive();
    const f = await proc.request('paramCount', {}, [], this.timeoutMs);
    return this.checkParamCount(f.header, "'paramCount' answer");
  }

  async dispose(): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    this.hello = undefined;
    this.spec = undefined;
    this.weights = undefined;
    this.built = undefined;
    if (proc) await proc.stop();
  }
}

/** A registry-style entry for a protocol program (see CommandAdapterOptions). */
export function createCommandAdapterEntry(opts: CommandAdapterOptions): AdapterEntry {
  const argv = argvOf(opts.command);
  const id = opts.id ?? commandAdapterId(argv);
  return {
    id,
    summary: opts.summary ?? `external program \`${commandText(argv)}\` (stdio protocol v${PROTOCOL_VERSION})`,
    profile: opts.profile ?? 'fp32-cpu',
    outOfTheBox: false,
    host: 'child',
    create: () => new CommandAdapter({ ...opts, command: argv, id }),
  };
}

/**
 * Like createCommandAdapterEntry, but without an id the program is started once and its hello
 * `name` becomes the id (the CLI's `--adapter-command` without `--adapter-id`). A program that
 * cannot start keeps the id derived from the command (its probe then says why).
 */
export async function resolveCommandAdapterEntry(opts: CommandAdapterOptions): Promise<AdapterEntry> {
  if (opts.id) return createCommandAdapterEntry(opts);
  const probe = new CommandAdapter({ ...opts, id: commandAdapterId(opts.command) });
  try {
    await probe.probe();
    const name = probe.helloInfo()?.name;
    const id = name && /^[A-Za-z0-9][A-Za-z0-9._:-]*$/.test(name) ? name : undefined;
    return createCommandAdapterEntry({ ...opts, id });
  } finally {
    await probe.dispose();
  }
}
