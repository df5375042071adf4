/**
 * The geometry of one NHWC convolution: input, kernel, strides, the 'same' padding's top/left share
 * (TensorFlow's rule: the extra row/column goes to the bottom/right) and the output size. Shared by
 * the JavaScript loops (./conv2d.ts) and the SIMD kernel (./simd-kernel.ts).
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

export function convGeometry(
  input: { n: number; h: number; w: number; cin: number },
  kernel: { kh: number; kw: number; cout: number },
  strides: [number, number],
  padding: Padding,
): ConvGeometry {
  const [sh, sw] = strides;
  const oh = windowOutput(input.h, kernel.kh, sh, padding);
  const ow = windowOutput(input.w, kernel.kw, sw, padding);
  const padTop = padding === 'same' ? samePadding(input.h, kernel.kh, sh)[0] : 0;
  const padLeft = padding === 'same' ? samePadding(input.w, kernel.kw, sw)[0] : 0;
  return { ...input, ...kernel, sh, sw, padTop, padLeft, oh, ow };
}
