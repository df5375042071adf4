/**
 * The case status an adapter's thrown error stands for, for the runner: an adapter whose runtime
 * lives in another process (an external program, a browser page) reports that process's crash or
 * silence as an error with a `kind`; everything else is the runner's own 'error'.
 * Duck-typed on `name` and `kind` so it also works across module copies (precompiled workers).
 */
import { externalFaultStatus } from './external/errors';

export type FaultStatus = 'crashed' | 'timeout' | 'fail-shape';

export function adapterFaultStatus(err: unknown): FaultStatus | undefined {
  const ext = externalFaultStatus(err);
  if (ext) return ext;
  const e = err as { kind?: unknown; name?: unknown } | null;
  if (!e || typeof e !== 'object') return undefined;
  if (e.name === 'ExternalOutputShapeError' && e.kind === 'shape') return 'fail-shape';
  if (e.name === 'BrowserFault') {
    if (e.kind === 'timeout') return 'timeout';
    if (e.kind === 'crashed' || e.kind === 'device-lost') return 'crashed';
  }
  return undefined;
}
