/**
 * Floating-point operation counts of a forward pass, computed from the ModelSpec (per image).
 *
 * Convention (the one every "GFLOP/s" in this project uses, and the usual one for CNNs):
 *   headline = 2 × multiply-adds of the Conv2D and Dense layers
 *   Conv2D:  2 · kh · kw · cin · oh · ow · cout      Dense:  2 · in · units
 * That is what the hardware's fused multiply-add peak is quoted in, and what the MatMul ceiling
 * (2·n³ for an n×n×n product) measures, so achieved / ceiling is a like-for-like ratio.
 * For the notebook's ResNet-50 at 64×64×3 it is 0.616 GFLOP per image.
 *
 * Everything else (bias adds, BatchNormalization, ReLU, Add, pooling, zero padding, softmax) is
 * counted separately in `other` and left out of the headline: together it is well under 1% of the
 * total, it is memory-bound rather than compute-bound, and runtimes fold much of it away
 * (BatchNormalization into the convolution, bias into the GEMM epilogue), so counting it would
 * make the same work look different per runtime. Per-element costs used for `other`:
 *   bias add 1 · BatchNormalization (inference, folded to x·scale + shift) 2 · ReLU 1 · Add 1 ·
 *   MaxPooling (k·k − 1 comparisons per output) · AveragePooling (k·k − 1 adds + 1 divide per output) ·
 *   softmax (exp + add + divide, 3 per unit) · ZeroPadding2D / Flatten / InputLayer 0.
 */
import { sizeOf } from '../tensor';
import { inputShapeOf } from '../model/graph';
import type { LayerClassName, LayerSpec, ModelSpec } from '../model/types';

export interface LayerFlops {
  name: string;
  className: LayerClassName;
  /** 2 × multiply-adds (Conv2D and Dense only; 0 elsewhere). */
  macFlops: number;
  /** Other arithmetic (bias, normalization, activations, pooling), by the per-element costs above. */
  otherFlops: number;
}

export interface ModelFlops {
  model: string;
  /** Input shape without the batch dimension. */
  inputShape: number[];
  /** Per image: 2 × MACs of Conv2D + Dense. The number every GFLOP/s figure is based on. */
  headline: number;
  /** Per image: the Conv2D part of the headline. */
  conv: number;
  /** Per image: the Dense part of the headline. */
  dense: number;
  /** Per image: everything outside the headline (see the module comment). */
  other: number;
  /** Number of multiply-adds per image (headline / 2). */
  macs: number;
  layers: LayerFlops[];
  convention: string;
}

export const FLOP_CONVENTION =
  '2 x multiply-adds of Conv2D and Dense layers per image; bias, BatchNormalization, ReLU, Add, pooling and softmax counted separately (other) and excluded';

function layerFlops(spec: ModelSpec, l: LayerSpec): LayerFlops {
  const out = sizeOf(l.outputShape);
  let macFlops = 0;
  let otherFlops = 0;
  switch (l.className) {
    case 'Conv2D': {
      const inShape = inputShapeOf(spec, l);
      if (inShape.length !== 3)
        throw new Error(`flops: Conv2D '${l.name}' needs an h,w,c input, got [${inShape.join(',')}]`);
      macFlops = 2 * l.kernelSize[0] * l.kernelSize[1] * inShape[2] * out;
      otherFlops = out; // bias
      break;
    }
    case 'Dense': {
      const inShape = inputShapeOf(spec, l);
      if (inShape.length !== 1)
        throw new Error(`flops: Dense '${l.name}' needs a flat input, got [${inShape.join(',')}]`);
      macFlops = 2 * inShape[0] * l.units;
      otherFlops = l.units + (l.activation === 'softmax' ? 3 * l.units : 0);
      break;
    }
    case 'BatchNormalization':
      otherFlops = 2 * out;
      break;
    case 'Activation':
    case 'Add':
      otherFlops = out;
      break;
    case 'MaxPooling2D':
      otherFlops = (l.poolSize[0] * l.poolSize[1] - 1) * out;
      break;
    case 'AveragePooling2D':
      otherFlops = l.poolSize[0] * l.poolSize[1] * out;
      break;
    case 'InputLayer':
    case 'ZeroPadding2D':
    case 'Flatten':
      break;
    default: {
      const never: never = l;
      throw new Error(`flops: unsupported layer class '${(never as LayerSpec).className}'`);
    }
  }
  return { name: l.name, className: l.className, macFlops, otherFlops };
}

/** FLOP counts per image of a model (see the module comment for what counts). */
export function modelFlops(spec: ModelSpec): ModelFlops {
  const layers = spec.layers.map((l) => layerFlops(spec, l));
  let conv = 0;
  let dense = 0;
  let other = 0;
  for (const f of layers) {
    if (f.className === 'Conv2D') conv += f.macFlops;
    else if (f.className === 'Dense') dense += f.macFlops;
    other += f.otherFlops;
  }
  const input = spec.layers.find((l) => l.name === spec.input);
  return {
    model: spec.model,
    inputShape: input ? [...input.outputShape] : [],
    headline: conv + dense,
    conv,
    dense,
    other,
    macs: (conv + dense) / 2,
    layers,
    convention: FLOP_CONVENTION,
  };
}

export { matmulFlops } from '../calibration/matmul-flops';

/** GFLOP/s achieved by `flops` of work in `ms` milliseconds. */
export function gflopsPerSecond(flops: number, ms: number): number {
  if (!(ms > 0)) throw new Error(`gflopsPerSecond: time must be > 0 ms, got ${ms}`);
  return flops / (ms * 1e6);
}
