/**
 * Where a layer sits in the notebook's architecture, in words a kernel developer uses:
 * block `stage3_block2_identity`, role `conv 3`. Blocks are the spans between the spec's
 * boundaries; inside a block, layers are numbered by kind in creation order (the fourth Conv2D and
 * BatchNormalization of a convolutional block are its shortcut; the last ReLU is the block output).
 */
import type { LayerSpec, ModelSpec } from '../model/types';

export interface LayerRole {
  /** Block label (a boundary label, or the model name for a single-block model); 'input' for the input layer. */
  block: string;
  /** Whether the block is a residual block (identity or convolutional) — where "of each block" makes sense. */
  inResidualBlock: boolean;
  /** Role inside the block, e.g. 'conv 3', 'shortcut conv', 'bn 1', 'relu out', 'add'; or 'stem conv', 'dense'. */
  role: string;
}

const KIND_WORD: Record<LayerSpec['className'], string> = {
  InputLayer: 'input',
  ZeroPadding2D: 'pad',
  Conv2D: 'conv',
  BatchNormalization: 'bn',
  Activation: 'relu',
  MaxPooling2D: 'maxpool',
  AveragePooling2D: 'avgpool',
  Add: 'add',
  Flatten: 'flatten',
  Dense: 'dense',
};

function blockRole(l: LayerSpec, k: number, total: number): string {
  const word = KIND_WORD[l.className];
  switch (l.className) {
    case 'Conv2D':
    case 'BatchNormalization':
      return k === 4 ? `shortcut ${word}` : `${word} ${k}`;
    case 'Activation':
      return k === total ? 'relu out' : `relu ${k}`;
    default:
      return total > 1 ? `${word} ${k}` : word;
  }
}

/** Roles of every layer, by layer name. */
export function layerRoles(spec: ModelSpec): Map<string, LayerRole> {
  const roles = new Map<string, LayerRole>();
  const singleBlock = spec.model === 'identity_block' || spec.model === 'convolutional_block';
  const ends = new Map<string, string>();
  for (const b of spec.boundaries) if (!ends.has(b.layer)) ends.set(b.layer, b.label);
  let span: LayerSpec[] = [];
  const flush = (label: string): void => {
    const residual = singleBlock || /_block\d+_/.test(label);
    const totals = new Map<string, number>();
    for (const l of span) totals.set(l.className, (totals.get(l.className) ?? 0) + 1);
    const seen = new Map<string, number>();
    for (const l of span) {
      const k = (seen.get(l.className) ?? 0) + 1;
      seen.set(l.className, k);
      const total = totals.get(l.className)!;
      const block = singleBlock ? spec.model : label;
      let role: string;
      if (residual) role = blockRole(l, k, total);
      else if (label === 'stage1') role = `stem ${KIND_WORD[l.className]}`;
      else role = total > 1 ? `${KIND_WORD[l.className]} ${k}` : KIND_WORD[l.className];
      roles.set(l.name, { block, inResidualBlock: residual, role });
    }
    span = [];
  };
  for (const l of spec.layers) {
    if (l.className === 'InputLayer') {
      roles.set(l.name, { block: 'input', inResidualBlock: false, role: 'input' });
      continue;
    }
    span.push(l);
    const label = ends.get(l.name);
    if (label !== undefined) flush(label);
  }
  if (span.length > 0) flush(singleBlock ? spec.model : 'head');
  return roles;
}

/** `stage3_block2_identity conv 3` (or just `conv 3` in a single-block model). */
export function roleText(r: LayerRole, singleBlock: boolean): string {
  return singleBlock || r.block === 'input' ? r.role : `${r.block} ${r.role}`;
}

/** Names of the layers with role `role` (e.g. 'conv 3': the third Conv2D of every residual block). */
export function layersWithRole(spec: ModelSpec, role: string): string[] {
  const roles = layerRoles(spec);
  return spec.layers.filter((l) => roles.get(l.name)?.role === role).map((l) => l.name);
}
