import type { LayerSpec, ModelSpec } from './types';

export function layerByName(spec: ModelSpec): Map<string, LayerSpec> {
  return new Map(spec.layers.map((l) => [l.name, l]));
}

export function getLayer(spec: ModelSpec, name: string): LayerSpec {
  const l = spec.layers.find((x) => x.name === name);
  if (!l) throw new Error(`${spec.model}: no layer named '${name}'`);
  return l;
}

/**
 * Layers in the order Keras 3 lists them in `model.layers` / `model.summary()`
 * (keras/src/ops/function.py map_graph): by decreasing depth (longest path to the output),
 * ties broken by depth-first pre-order traversal from the output, inbound tensors in call order.
 * Differs from creation order in the convolutional block: the shortcut Conv2D is listed
 * right after the main path's third Conv2D.
 */
export function kerasLayerOrder(spec: ModelSpec): LayerSpec[] {
  const byName = layerByName(spec);
  const traversal = new Map<string, number>();
  const visit = (name: string): void => {
    if (traversal.has(name)) return;
    traversal.set(name, traversal.size);
    for (const p of byName.get(name)!.inbound) visit(p);
  };
  visit(spec.output);
  // Longest distance to the output: process in reverse creation order (a topological order reversed).
  const depth = new Map<string, number>([[spec.output, 0]]);
  for (let i = spec.layers.length - 1; i >= 0; i--) {
    const l = spec.layers[i];
    const d = depth.get(l.name);
    if (d === undefined) continue; // not connected to the output
    for (const p of l.inbound) depth.set(p, Math.max(depth.get(p) ?? 0, d + 1));
  }
  return spec.layers
    .filter((l) => depth.has(l.name))
    .sort((a, b) => depth.get(b.name)! - depth.get(a.name)! || traversal.get(a.name)! - traversal.get(b.name)!);
}

/** Input channel count of a layer (last dim of its first inbound layer's output). */
export function inputChannels(spec: ModelSpec, layer: LayerSpec): number {
  const src = getLayer(spec, layer.inbound[0]);
  return src.outputShape[src.outputShape.length - 1];
}

export function inputShapeOf(spec: ModelSpec, layer: LayerSpec): number[] {
  return getLayer(spec, layer.inbound[0]).outputShape;
}
