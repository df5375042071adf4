/**
 * Where a runtime spends a forward pass, by block of the model (`bench --layers`): the per-node
 * kernel times of the runtime's own profiler (Adapter.profileKernels), attributed to the spec's
 * blocks and stages, with the achieved GFLOP/s of each. For a kernel developer: which part of
 * ResNet-50 a change made faster or slower, and how far each part is from the MatMul ceiling.
 *
 * A node is attributed to the block of the spec layer it computes (a fused node: its last layer).
 * Blocks are the spec's boundaries, in order: a layer belongs to the first block whose boundary
 * layer is at or after it (ResNet-50: `stage1`, the 16 `stageN_blockM_*` blocks, and `logits` =
 * pooling, flatten and the Dense layer with its softmax); layers after the last boundary form `head`. FLOPs per block come from
 * the spec (src/bench/flops.ts), so fusion does not move work between blocks.
 */
import { escapeMarkdownCell } from '../util/format';
import type { KernelProfile } from '../adapters/types';
import type { ModelSpec } from '../model/types';
import type { ModelFlops } from './flops';
import type { BenchReport, LayerProfileResult, PartTime } from './schema';

export type { LayerProfileResult, PartTime } from './schema';

/** Block label of every layer of the spec. */
export function blockOfLayers(spec: ModelSpec): Map<string, string> {
  const index = new Map(spec.layers.map((l, i) => [l.name, i]));
  const ends = spec.boundaries
    .map((b) => {
      const i = index.get(b.layer.split(':')[0]); // `<dense>:logits` is the Dense layer's pre-activation output
      if (i === undefined) throw new Error(`spec ${spec.model}: boundary ${b.label} names unknown layer ${b.layer}`);
      return { label: b.label, i };
    })
    .sort((a, b) => a.i - b.i);
  const out = new Map<string, string>();
  spec.layers.forEach((l, i) => out.set(l.name, ends.find((e) => e.i >= i)?.label ?? 'head'));
  return out;
}

/** The stage a block label belongs to: `stage3_block2_identity` → `stage3`. */
export function stageOf(block: string): string {
  return /^(stage\d+)/.exec(block)?.[1] ?? block;
}

export function profileByBlock(
  spec: ModelSpec,
  flops: ModelFlops,
  profile: KernelProfile,
  batch: number,
): LayerProfileResult {
  if (!(Number.isInteger(batch) && batch >= 1))
    throw new Error(`profileByBlock: batch must be a positive integer, got ${batch}`);
  const blockOf = blockOfLayers(spec);
  const order: string[] = [];
  const acc = new Map<string, { ms: number; flops: number }>();
  const part = (label: string): { ms: number; flops: number } => {
    let p = acc.get(label);
    if (!p) {
      p = { ms: 0, flops: 0 };
      acc.set(label, p);
      order.push(label);
    }
    return p;
  };
  for (const l of spec.layers) part(blockOf.get(l.name)!);
  for (const lf of flops.layers) {
    const b = blockOf.get(lf.name);
    if (b === undefined)
      throw new Error(`profileByBlock: FLOP count names layer ${lf.name}, which spec ${spec.model} does not have`);
    part(b).flops += lf.macFlops * batch;
  }
  const unattributed: LayerProfileResult['unattributed'] = [];
  let kernelMs = 0;
  for (const n of profile.nodes) {
    if (!(n.medianMs >= 0) || !Number.isFinite(n.medianMs))
      throw new Error(`profile (${profile.source}): node ${n.node} has time ${n.medianMs}`);
    kernelMs += n.medianMs;
    const b = n.layer === null ? undefined : blockOf.get(n.layer);
    if (n.layer !== null && b === undefined)
      throw new Error(
        `profile (${profile.source}): node ${n.node} names layer ${n.layer}, which spec ${spec.model} does not have`,
      );
    if (b === undefined) unattributed.push({ node: n.node, op: n.op, ms: n.medianMs });
    else part(b).ms += n.medianMs;
  }
  const finish = (label: string, p: { ms: number; flops: number }): PartTime => ({
    part: label,
    ms: p.ms,
    share: kernelMs > 0 ? p.ms / kernelMs : 0,
    flops: p.flops,
    gflops: p.flops > 0 && p.ms > 0 ? p.flops / (p.ms * 1e6) : null,
  });
  const blocks = order.map((label) => finish(label, acc.get(label)!));
  const stageAcc = new Map<string, { ms: number; flops: number }>();
  for (const b of blocks) {
    const s = stageAcc.get(stageOf(b.part)) ?? { ms: 0, flops: 0 };
    s.ms += b.ms;
    s.flops += b.flops;
    stageAcc.set(stageOf(b.part), s);
  }
  const stages = [...stageAcc].map(([label, p]) => finish(label, p));
  return { source: profile.source, runs: profile.runs, kernelMs, blocks, stages, unattributed };
}

function cell(p: PartTime): string {
  return `${p.ms.toFixed(2)} ms${p.gflops === null ? '' : ` · ${p.gflops.toFixed(0)}`}`;
}

/** Rows adapter × batch, a column per stage ("ms · GFLOP/s"); null when no batch was profiled. */
function stageRows(r: BenchReport): { header: string[]; rows: string[][]; sources: string[] } | null {
  const profiled = r.adapters.flatMap((a) => a.batches.filter((b) => b.layers).map((b) => ({ a, b, l: b.layers! })));
  if (profiled.length === 0) return null;
  const stages = [...new Set(profiled.flatMap((x) => x.l.stages.map((s) => s.part)))];
  const header = ['adapter', 'batch', 'kernels', ...stages, 'unattributed'];
  const rows = profiled.map(({ a, b, l }) => [
    a.id,
    String(b.batch),
    `${l.kernelMs.toFixed(2)} ms`,
    ...stages.map((st) => {
      const p = l.stages.find((s) => s.part === st);
      return p ? cell(p) : '–';
    }),
    `${l.unattributed.reduce((s, u) => s + u.ms, 0).toFixed(2)} ms`,
  ]);
  return { header, rows, sources: [...new Set(profiled.map((x) => `${x.l.source}, median of ${x.l.runs} runs`))] };
}

const LEGEND =
  "Kernel time per stage, from the runtime's own profiler (sum of per-node medians) · achieved GFLOP/s of the stage's Conv2D/Dense work";

export function layersText(r: BenchReport): string | null {
  const t = stageRows(r);
  if (!t) return null;
  const all = [t.header, ...t.rows];
  const widths = t.header.map((_, i) => Math.max(...all.map((row) => row[i].length)));
  const line = (row: string[]) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [`${LEGEND} (${t.sources.join('; ')}):`, '', line(t.header), ...t.rows.map(line)].join('\n');
}

export function layersMarkdown(r: BenchReport, heading = '## Per stage'): string | null {
  const t = stageRows(r);
  if (!t) return null;
  return [
    heading,
    '',
    `${LEGEND} (${t.sources.map(escapeMarkdownCell).join('; ')}). Per block: \`batches[].layers.blocks\` in the bench JSON.`,
    '',
    `| ${t.header.join(' | ')} |`,
    `|${t.header.map(() => '---').join('|')}|`,
    ...t.rows.map((row) => `| ${row.map(escapeMarkdownCell).join(' | ')} |`),
    '',
  ].join('\n');
}
