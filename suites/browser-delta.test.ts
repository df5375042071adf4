/**
 * Models sent to the page as a delta against the previous one (src/adapters/browser/delta.ts encodes,
 * src/adapters/browser/page/delta.ts rebuilds and checks): the rebuilt bytes are exactly the model,
 * a delta is refused when it does not rebuild it (a different previous model, a bad op), and an
 * unrelated previous model gives no delta at all (the model then travels whole). No Chromium needed.
 */
import { randomBytes } from 'node:crypto';
import { encodeDelta } from '../src/adapters/browser/delta';
import { applyDelta, DELTA_MISMATCH, rebuildBlob } from '../src/adapters/browser/page/delta';

function concat(parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts.map((p) => Buffer.from(p))));
}

/** A "model": a header, a graph part, 2 MB of initializers, outputs (like an ONNX file's layout). */
function model(graph: Uint8Array, weights: Uint8Array, outputs: Uint8Array): Uint8Array {
  return concat([Buffer.from('onnx-ish header'), graph, weights, outputs]);
}

describe('model deltas', () => {
  const weights = new Uint8Array(randomBytes(2 << 20));
  const plain = model(randomBytes(5000), weights, randomBytes(300));
  // another graph of the same weights: a longer node list (the initializers shift) and more outputs
  const capture = model(randomBytes(9000), weights, randomBytes(2000));

  test('a graph of the same weights travels as a few KB and is rebuilt exactly', async () => {
    const d = encodeDelta(plain, capture);
    expect(d).not.toBeNull();
    expect(d!.literalBytes).toBeLessThan(40_000);
    const rebuilt = await rebuildBlob(plain, concat(d!.parts), d!);
    expect(Buffer.from(rebuilt).equals(Buffer.from(capture))).toBe(true);
  });

  test('a delta against other previous bytes is refused by its sha256 (planted: one byte of the weights)', async () => {
    const d = encodeDelta(plain, capture)!;
    const other = plain.slice();
    other[100_000] ^= 1;
    await expect(rebuildBlob(other, concat(d.parts), d)).rejects.toThrow(DELTA_MISMATCH);
    await expect(rebuildBlob(undefined, concat(d.parts), d)).rejects.toThrow(DELTA_MISMATCH);
  });

  test('ops out of range or of the wrong total size are refused', () => {
    const d = encodeDelta(plain, capture)!;
    expect(() => applyDelta(plain, concat(d.parts), { ...d, size: d.size + 1 })).toThrow(DELTA_MISMATCH);
    expect(() => applyDelta(plain, concat(d.parts), { ...d, ops: [[0, plain.length - 10, 20]], size: 20 })).toThrow(
      /out of range/,
    );
  });

  test('an unrelated previous model gives no delta (sent whole)', () => {
    const perturbed = model(randomBytes(5000), new Uint8Array(randomBytes(2 << 20)), randomBytes(300));
    expect(encodeDelta(plain, perturbed)).toBeNull();
  });

  test('a previous model under half the size of the next gives no delta at once, even when its bytes would do (no search)', () => {
    // next is prev three times over: copies would cover all of it, but the encoder does not look
    const small = plain.subarray(0, 1 << 20);
    expect(encodeDelta(small, concat([small, small, small]))).toBeNull();
    expect(encodeDelta(small, concat([small, small]))).not.toBeNull();
  });

  test('rebuilt into a reused buffer (larger, holding old bytes): the same bytes; an input as output is refused', async () => {
    const d = encodeDelta(plain, capture)!;
    const spare = new Uint8Array(capture.length + 1000).fill(7);
    const out = await rebuildBlob(plain, concat(d.parts), d, spare);
    expect(out.buffer).toBe(spare.buffer);
    expect(Buffer.from(out).equals(Buffer.from(capture))).toBe(true);
    expect(() => applyDelta(plain, concat(d.parts), d, plain)).toThrow(/must not be one of the inputs/);
    expect(() => applyDelta(plain, concat(d.parts), d, new Uint8Array(10))).toThrow(/10 bytes/);
  });

  test('identical bytes are one copy', async () => {
    const d = encodeDelta(plain, plain)!;
    expect(d.ops).toEqual([[0, 0, plain.length]]);
    expect(d.literalBytes).toBe(0);
    expect(Buffer.from(await rebuildBlob(plain, new Uint8Array(0), d)).equals(Buffer.from(plain))).toBe(true);
  });
});
