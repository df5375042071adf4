/**
 * Errors of an external (command) adapter. Each carries a `kind` so the runner can classify the
 * case without parsing text:
 *   crashed   the program exited (or its pipes closed) while a request was pending  -> status 'crashed'
 *   timeout   no answer within the request timeout; the program was killed         -> status 'timeout'
 *   protocol  a malformed frame / wrong id / wrong message type; the program was killed -> 'error'
 *   program   the program answered with an `error` message (it stays usable)         -> 'error'
 *   shape     a returned tensor's shape differs from what the spec says             -> 'error' (or 'fail-shape')
 *   usage     the harness used the adapter wrongly (run before build, bad input)     -> 'error'
 */
export type ExternalFaultKind = 'crashed' | 'timeout' | 'protocol' | 'program' | 'shape' | 'usage';

const NAMES: Record<ExternalFaultKind, string> = {
  crashed: 'ExternalProgramCrashed',
  timeout: 'ExternalProgramTimeout',
  protocol: 'ExternalProtocolError',
  program: 'ExternalProgramError',
  shape: 'ExternalOutputShapeError',
  usage: 'ExternalAdapterUsageError',
};

export class ExternalAdapterError extends Error {
  readonly kind: ExternalFaultKind;
  /** For kind 'shape': the tensor and both shapes. */
  readonly tensor?: string;
  readonly actualShape?: number[];
  readonly expectedShape?: number[];

  constructor(
    kind: ExternalFaultKind,
    message: string,
    extra: { tensor?: string; actualShape?: number[]; expectedShape?: number[] } = {},
  ) {
    super(message);
    this.kind = kind;
    this.name = NAMES[kind];
    if (extra.tensor !== undefined) this.tensor = extra.tensor;
    if (extra.actualShape) this.actualShape = extra.actualShape;
    if (extra.expectedShape) this.expectedShape = extra.expectedShape;
  }
}

/**
 * The case status a runner should give an error thrown by an adapter's build/run: 'crashed' or
 * 'timeout' for those external-program faults, undefined for everything else (the runner's own rule).
 * Duck-typed on `kind` and `name` so it also works across module copies (precompiled workers).
 */
export function externalFaultStatus(err: unknown): 'crashed' | 'timeout' | undefined {
  const e = err as { kind?: unknown; name?: unknown } | null;
  if (!e || typeof e !== 'object') return undefined;
  if (e.kind === 'crashed' && e.name === NAMES.crashed) return 'crashed';
  if (e.kind === 'timeout' && e.name === NAMES.timeout) return 'timeout';
  return undefined;
}
