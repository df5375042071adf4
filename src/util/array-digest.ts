/**
 * sha256 of a float array's bytes, and the digests a cache has checked for arrays it handed out.
 *
 * The weight cache checks every tensor it reads against the entry's per-tensor sha256 and notes the
 * digest here for the array it hands out (src/init/weight-cache.ts); the ONNX export cache's key then
 * takes those digests instead of hashing 94 MB of ResNet-50 weights again, and the perturbed set,
 * which shares every kernel array with the notebook set, only hashes its own new arrays.
 *
 * Only the weight cache notes digests, and only for arrays whose bytes it has just checked (on a read,
 * and again on every later hand-out of the same arrays, which recomputes them): a noted digest is
 * that of the array as handed out. Arrays from anywhere else are hashed on every call.
 */
import { createHash } from 'crypto';

const noted = new WeakMap<Float32Array, string>();

/** sha256 (hex) of the array's bytes (host byte order), computed now. */
export function float32Sha256(a: Float32Array): string {
  return createHash('sha256')
    .update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
    .digest('hex');
}

/** Notes that `a`'s bytes, as handed out now, have sha256 `digest` (the caller has checked them). */
export function noteCheckedDigest(a: Float32Array, digest: string): void {
  noted.set(a, digest);
}

/** Forgets a noted digest (the array's bytes were found changed). */
export function forgetCheckedDigest(a: Float32Array): void {
  noted.delete(a);
}

/** The digest noted for `a` by the cache that handed it out, else its sha256 computed now. */
export function checkedOrComputedSha256(a: Float32Array): string {
  return noted.get(a) ?? float32Sha256(a);
}
