/**
 * sha256 of a float array's bytes: the per-tensor digest the weight cache records for every tensor
 * of an entry and checks on every read (src/init/weight-cache.ts).
 */
import { createHash } from 'crypto';

/** sha256 (hex) of the array's bytes (host byte order), computed now. */
export function float32Sha256(a: Float32Array): string {
  return createHash('sha256')
    .update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
    .digest('hex');
}
