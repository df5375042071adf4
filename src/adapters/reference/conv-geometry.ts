/**
 * The geometry of one NHWC convolution: input, kernel, strides, the 'same' padding's top/left share
 * (TensorFlow's rule: the extra row/column goes to the bottom/right) and the output size. Shared by
 * the JavaScript loops (./conv2d.ts) and the SIMD kernel (./simd-kernel.ts); the window placement
 * also by pooling (./pooling.ts).
 */
import { samePadding, windowOutput } from '../../model/shapes';
import type { Padding } from '../../model/types';

export interface ConvGeometry {
  n: number;
  h: number;
  w: number;
  cin: number;
  kh: number;
  kw: number;
  cout: number;
  sh: number;
  sw: number;
  padTop: number;
  padLeft: number;
  oh: number;
  ow: number;
}

/** Where a kh × kw window with strides sh, sw sits on an h × w input: the 'same' padding's top/left share and the output size. */
export function windowPlacement(
  h: number,
  w: number,
  kh: number,
  kw: number,
  sh: number,
  sw: number,
  padding: Padding,
): { padTop: number; padLeft: number; oh: number; ow: number } {
  return {
    padTop: padding === 'same' ? samePadding(h, kh, sh)[0] : 0,
    padLeft: padding === 'same' ? samePadding(w, kw, sw)[0] : 0,
    oh: windowOutput(h, kh, sh, padding),
    ow: windowOutput(w, kw, sw, padding),
  };
}

export function convGeometry(
  input: { n: number; h: number; w: number; cin: number },
  kernel: { kh: number; kw: number; cout: number },
  strides: [number, number],
  padding: Padding,
): ConvGeometry {
  const [sh, sw] = strides;
  return { ...input, ...kernel, sh, sw, ...windowPlacement(input.h, input.w, kernel.kh, kernel.kw, sh, sw, padding) };
}
