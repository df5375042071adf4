import { kerasLayerOrder } from './graph';
import { initializerClassName } from './initializers';
import { layerParamCount, modelParamCount } from './params';
import type { LayerSpec, ModelSpec, ParamCount } from './types';

export interface SummaryRow {
  name: string;
  className: string;
  /** Output shape with the batch dimension as null (Keras None). */
  outputShape: (number | null)[];
  params: number;
  trainable: number;
  nonTrainable: number;
  /** Keras "Connected to": `layer[0][0]` per inbound tensor. */
  connectedTo: string[];
}

export interface ModelSummary {
  rows: SummaryRow[];
  totals: ParamCount;
}

/** The content of Keras `model.summary()`, rows in Keras's layer order. */
export function summary(spec: ModelSpec): ModelSummary {
  const rows = kerasLayerOrder(spec).map((l) => {
    const p = layerParamCount(spec, l);
    return {
      name: l.name,
      className: l.className,
      outputShape: [null, ...l.outputShape],
      params: p.total,
      trainable: p.trainable,
      nonTrainable: p.nonTrainable,
      connectedTo: l.inbound.map((n) => `${n}[0][0]`),
    };
  });
  return { rows, totals: modelParamCount(spec) };
}

export type Descriptor = (string | number | null | (number | null)[] | (number | null)[][] | number[][])[];

/**
 * The per-layer list the notebook's `test_utils.summary()` builds and `comparator()` checks:
 * [class name, output shape, param count, extras...] with extras for Conv2D (padding, activation,
 * initializer class), MaxPooling2D (pool size, strides, padding), ZeroPadding2D (padding), Dense (activation).
 */
export function descriptors(spec: ModelSpec): Descriptor[] {
  return kerasLayerOrder(spec).map((l) => descriptor(spec, l));
}

function descriptor(spec: ModelSpec, l: LayerSpec): Descriptor {
  const shape: (number | null)[] = [null, ...l.outputShape];
  const params = layerParamCount(spec, l).total;
  switch (l.className) {
    case 'InputLayer':
      return [l.className, [shape], params];
    case 'Conv2D':
      return [l.className, shape, params, l.padding, l.activation, initializerClassName(l.kernelInitializer)];
    case 'MaxPooling2D':
      return [l.className, shape, params, [...l.poolSize], [...l.strides], l.padding];
    case 'ZeroPadding2D':
      return [l.className, shape, params, l.padding.map((p) => [...p])];
    case 'Dense':
      return [l.className, shape, params, l.activation];
    default:
      return [l.className, shape, params];
  }
}

function fmtInt(n: number): string {
  return n.toLocaleString('en-US');
}

function fmtBytes(n: number): string {
  const b = n * 4;
  if (b >= 1024 * 1024) return `${(b / 1024 / 1024).toFixed(2)} MB`;
  if (b >= 1024) return `${(b / 1024).toFixed(2)} KB`;
  return `${b} B`;
}

/** A text rendering with the columns of Keras 3's functional-model summary. */
export function formatSummary(spec: ModelSpec, title = spec.model): string {
  const s = summary(spec);
  const head = ['Layer (type)', 'Output Shape', 'Param #', 'Connected to'];
  const body = s.rows.map((r) => [
    `${r.name} (${r.className})`,
    `(${r.outputShape.map((d) => (d === null ? 'None' : String(d))).join(', ')})`,
    fmtInt(r.params),
    r.connectedTo.join(', ') || '-',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  const rule = '-'.repeat(widths.reduce((a, w) => a + w + 2, -2));
  return [
    `Model: "${title}"`,
    rule,
    line(head),
    rule,
    ...body.map(line),
    rule,
    ` Total params: ${fmtInt(s.totals.total)} (${fmtBytes(s.totals.total)})`,
    ` Trainable params: ${fmtInt(s.totals.trainable)} (${fmtBytes(s.totals.trainable)})`,
    ` Non-trainable params: ${fmtInt(s.totals.nonTrainable)} (${fmtBytes(s.totals.nonTrainable)})`,
  ].join('\n');
}
