/** NHWC max and average pooling (TF rules for 'valid' and 'same'). */
import type { Padding } from '../../model/types';
import { outputBuffer } from './buffers';
import { windowPlacement } from './conv-geometry';

export interface PoolGeometry {
  n: number;
  h: number;
  w: number;
  c: number;
  ph: number;
  pw: number;
  sh: number;
  sw: number;
  padTop: number;
  padLeft: number;
  oh: number;
  ow: number;
}

export function poolGeometry(
  input: { n: number; h: number; w: number; c: number },
  pool: [number, number],
  strides: [number, number],
  padding: Padding,
): PoolGeometry {
  const [ph, pw] = pool;
  const [sh, sw] = strides;
  return { ...input, ph, pw, sh, sw, ...windowPlacement(input.h, input.w, ph, pw, sh, sw, padding) };
}

/**
 * Pools each window of in-range positions: max (NaN propagates) or mean over the positions
 * inside the input (TF's 'same' average pooling does not count the padding).
 */
function pool(x: Float64Array, g: PoolGeometry, mode: 'max' | 'avg'): Float64Array {
  const { n, h, w, c, ph, pw, sh, sw, padTop, padLeft, oh, ow } = g;
  if (x.length !== n * h * w * c)
    throw new Error(`${mode}Pool2d: input has ${x.length} elements, expected ${n * h * w * c}`);
  const y = outputBuffer(n * oh * ow * c, false); // every (pixel, channel) is written below
  const acc = new Float64Array(c);
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      const iy0 = Math.max(oy * sh - padTop, 0);
      const iy1 = Math.min(oy * sh - padTop + ph, h);
      for (let ox = 0; ox < ow; ox++) {
        const ix0 = Math.max(ox * sw - padLeft, 0);
        const ix1 = Math.min(ox * sw - padLeft + pw, w);
        const o = ((b * oh + oy) * ow + ox) * c;
        let first = true;
        for (let iy = iy0; iy < iy1; iy++) {
          for (let ix = ix0; ix < ix1; ix++) {
            const xb = ((b * h + iy) * w + ix) * c;
            if (first) {
              for (let ch = 0; ch < c; ch++) acc[ch] = x[xb + ch];
              first = false;
            } else if (mode === 'max') {
              for (let ch = 0; ch < c; ch++) {
                const v = x[xb + ch];
                if (v > acc[ch] || v !== v) acc[ch] = v;
              }
            } else {
              for (let ch = 0; ch < c; ch++) acc[ch] += x[xb + ch];
            }
          }
        }
        const count = (iy1 - iy0) * (ix1 - ix0);
        if (mode === 'max') for (let ch = 0; ch < c; ch++) y[o + ch] = acc[ch];
        else for (let ch = 0; ch < c; ch++) y[o + ch] = acc[ch] / count;
      }
    }
  }
  return y;
}

export function maxPool2d(x: Float64Array, g: PoolGeometry): Float64Array {
  return pool(x, g, 'max');
}

export function avgPool2d(x: Float64Array, g: PoolGeometry): Float64Array {
  return pool(x, g, 'avg');
}
