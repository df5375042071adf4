/**
 * The "perf" section: a compact, renderer-friendly digest of a bench result (per adapter × batch:
 * latency, throughput, efficiency against the ceiling, memory) and/or of a conformance run's own
 * cost (src/report/overhead.ts). The conformance report embeds it as `perf` (JSON) and renders it with
 * perfMarkdown / perfHtml; the bench command prints the same tables.
 */
import { escapeHtml, escapeMarkdownCell, formatMs } from '../util/format';
import type { ExternalTimings, HarnessBreakdown, TimedReport } from './overhead';
import { HARNESS_PHASES, harnessBreakdown } from './overhead';
import type { BatchResult, BenchReport } from '../bench/schema';
import { BUSY_NS, FAR_FACTOR } from '../calibration/core-latency';

export const PERF_SECTION_VERSION = 1;

export interface PerfRow {
  adapter: string;
  batch: number;
  medianMs: number;
  p90Ms: number;
  runs: number;
  /** Relative half-widths of the median's 95% interval (noise band). */
  noiseBelow: number;
  noiseAbove: number;
  imagesPerSec: number;
  gflops: number;
  /** The ceiling the efficiency is relative to, and how it was measured. */
  ceilingGflops: number | null;
  ceilingBasis: 'paired' | 'bracket' | null;
  /** Runtimes whose MatMuls were interleaved with the row's runs (empty without a paired ceiling). */
  pairedWith: string[];
  /** Factor the paired rate was scaled by to reach the fastest runtime (1: it was paired; null: no paired ceiling). */
  ceilingScale: number | null;
  efficiency: number | null;
  peakRssMiB: number;
  /**
   * Core-to-core round trip after each block of runs (src/calibration/core-latency.ts): its median, and
   * how many blocks ran with the cores placed far apart, with the latency there and elsewhere.
   * Null when not measured (one core, older bench files).
   */
  cores?: {
    medianNs: number | null;
    /** the lowest round trip "far" was judged against */ lowestNs: number | null;
    maxNs: number | null;
    blocks: number;
    farBlocks: number;
    busyBlocks: number;
    farMedianMs: number | null;
    nearMedianMs: number | null;
    farMaxNs: number | null;
  } | null;
}

export interface PerfAdapterNote {
  adapter: string;
  status: 'unavailable' | 'error';
  reason: string;
}

export interface PerfBenchDigest {
  /** Where the bench result came from (file path as given), when embedded from a file. */
  source: string | null;
  createdAt: string;
  cpu: string;
  cores: number;
  flopsPerImage: number;
  ceiling: { gflops: number; drift: number; op: string; best: string | null; pairedScale: number | null } | null;
  rows: PerfRow[];
  notes: PerfAdapterNote[];
}

export interface PerfSection {
  version: typeof PERF_SECTION_VERSION;
  bench: PerfBenchDigest | null;
  harness: HarnessBreakdown | null;
}

export function benchDigest(r: BenchReport, source: string | null = null): PerfBenchDigest {
  const rows: PerfRow[] = [];
  const notes: PerfAdapterNote[] = [];
  for (const a of r.adapters) {
    if (!a.available)
      notes.push({
        adapter: a.id,
        status: 'unavailable',
        reason: `${a.unavailableReason ?? 'unavailable'}${a.fix ? ` (fix: ${a.fix})` : ''}`,
      });
    else if (a.error) notes.push({ adapter: a.id, status: 'error', reason: a.error.split('\n')[0] });
    for (const b of a.batches) {
      const pc = b.pairedCeiling ?? null;
      // Version 1 bench files: ONNX Runtime was the only paired runtime and the record-wide scale applied.
      const pairedWith = pc ? [...new Set(pc.configs.map((c) => c.runtime ?? 'onnxruntime-node'))] : [];
      const ceilingScale = pc ? (pc.scale ?? r.ceiling?.pairedScale ?? 1) : null;
      rows.push({
        adapter: a.id,
        batch: b.batch,
        medianMs: b.latencyMs.median,
        p90Ms: b.latencyMs.p90,
        runs: b.latencyMs.n,
        noiseBelow: b.noise.below,
        noiseAbove: b.noise.above,
        imagesPerSec: b.imagesPerSec,
        gflops: b.gflops,
        ceilingGflops: b.ceilingGflops ?? null,
        ceilingBasis: b.ceilingBasis ?? null,
        pairedWith,
        ceilingScale,
        efficiency: b.efficiency,
        peakRssMiB: b.peakRssMiB,
        cores: b.coreRoundTrip ? coresOf(b.coreRoundTrip) : null,
      });
    }
  }
  // The configuration that was fastest most often across the ceiling points.
  const votes = new Map<string, number>();
  for (const p of r.ceiling?.points ?? []) {
    if (!p.best) continue;
    const k = `${p.best.runtime}${p.best.threads === null ? '' : `, ${p.best.threads} thread${p.best.threads === 1 ? '' : 's'}`}`;
    votes.set(k, (votes.get(k) ?? 0) + 1);
  }
  const best = [...votes.entries()].sort((x, y) => y[1] - x[1])[0]?.[0] ?? null;
  return {
    source,
    createdAt: r.createdAt,
    cpu: r.environment.cpu.model,
    cores: r.environment.cpu.cores,
    flopsPerImage: r.model.flopsPerImage,
    ceiling: r.ceiling
      ? {
          gflops: r.ceiling.gflops,
          drift: r.ceiling.drift,
          op: r.ceiling.op,
          best,
          pairedScale: r.ceiling.pairedScale ?? null,
        }
      : null,
    rows,
    notes,
  };
}

function coresOf(t: NonNullable<BatchResult['coreRoundTrip']>): NonNullable<PerfRow['cores']> {
  return {
    medianNs: t.medianNs,
    lowestNs: t.lowestNs ?? t.minNs,
    maxNs: t.maxNs,
    blocks: t.samplesNs.length,
    farBlocks: t.farBlocks,
    busyBlocks: t.busyBlocks ?? 0,
    nearMedianMs: t.nearMedianMs,
    farMedianMs: t.farMedianMs,
    farMaxNs: t.farMaxNs ?? t.maxNs,
  };
}

export function perfSection(
  bench: { report: BenchReport; source?: string | null } | null,
  harness: HarnessBreakdown | null,
): PerfSection {
  return {
    version: PERF_SECTION_VERSION,
    bench: bench ? benchDigest(bench.report, bench.source ?? null) : null,
    harness,
  };
}

// ------------------------------------------------------------------------------------------------
// Rendering (pure, deterministic)
// ------------------------------------------------------------------------------------------------

const BENCH_HEADER = [
  'adapter',
  'batch',
  'median',
  'p90',
  'noise ±',
  'runs',
  'images/s',
  'GFLOP/s',
  'ceiling',
  'efficiency',
  'peak RSS',
];

function fixed(x: number, d: number): string {
  return Number.isFinite(x) ? x.toFixed(d) : '–';
}

function benchCells(r: PerfRow): string[] {
  return [
    r.adapter,
    String(r.batch),
    `${fixed(r.medianMs, r.medianMs < 100 ? 2 : 1)} ms`,
    `${fixed(r.p90Ms, r.p90Ms < 100 ? 2 : 1)} ms`,
    `${fixed(Math.max(r.noiseBelow, r.noiseAbove) * 100, 1)}%`,
    String(r.runs),
    fixed(r.imagesPerSec, r.imagesPerSec < 10 ? 2 : 1),
    fixed(r.gflops, r.gflops < 10 ? 2 : 1),
    r.ceilingGflops === null
      ? '–'
      : `${fixed(r.ceilingGflops, 0)}${r.ceilingBasis !== 'paired' ? '*' : scaled(r) ? '†' : ''}`,
    r.efficiency === null ? '–' : `${fixed(r.efficiency * 100, 1)}%`,
    `${fixed(r.peakRssMiB, 0)} MiB`,
  ];
}

const scaled = (r: PerfRow): boolean =>
  r.ceilingBasis === 'paired' && r.ceilingScale !== null && r.ceilingScale > 1.0005;

function ceilingText(d: PerfBenchDigest): string {
  if (!d.ceiling) return 'no ceiling measured (efficiency not available)';
  const pairedWith = [...new Set(d.rows.flatMap((r) => r.pairedWith))];
  const scales = [...new Set(d.rows.filter(scaled).map((r) => fixed(r.ceilingScale!, 2)))];
  const dagger = scales.length
    ? `; † = the fastest runtime could not be paired with that adapter, so its paired MatMuls are scaled ×${scales.join('/×')} (the ratio measured between adapters)`
    : '';
  return (
    `${d.ceiling.op}: ${fixed(d.ceiling.gflops, 1)} GFLOP/s (${d.ceiling.best ?? 'best configuration'}; drift during the run ${fixed(d.ceiling.drift * 100, 1)}%). ` +
    `The ceiling column is the best MatMul rate interleaved with that row's own runs${pairedWith.length ? ` (${pairedWith.join(', ')})` : ''}${dagger}; * = measured between adapters instead`
  );
}

/**
 * One line per row that ran partly with its cores far apart (a core-to-core round trip at least
 * FAR_FACTOR × the lowest of the bench), saying how much slower those blocks were.
 */
export function placementNotes(d: PerfBenchDigest): string[] {
  const out: string[] = [];
  for (const r of d.rows) {
    const c = r.cores;
    if (!c) continue;
    if (c.farBlocks > 0) {
      const slower =
        c.nearMedianMs !== null && c.farMedianMs !== null
          ? `: median ${fixed(c.farMedianMs, 2)} ms in those blocks, ${fixed(c.nearMedianMs, 2)} ms in the others`
          : '';
      out.push(
        `${r.adapter} batch ${r.batch}: ${c.farBlocks} of ${c.blocks} blocks of runs with the cores far apart (core-to-core round trip up to ${fixed(c.farMaxNs ?? NaN, 0)} ns, lowest ${fixed(c.lowestNs ?? NaN, 0)} ns)${slower}`,
      );
    }
    if (c.busyBlocks > 0) {
      out.push(
        `${r.adapter} batch ${r.batch}: after ${c.busyBlocks} of ${c.blocks} blocks the other core was taken (round trip ≥ ${BUSY_NS / 1000} µs: the two threads could not run at once — the adapter's own leftover threads or another process)`,
      );
    }
  }
  return out;
}

/**
 * The range of core-to-core round trips over the whole bench, or null when none was measured: a
 * bench that ran with the cores far apart throughout has no near blocks to judge against, and only
 * this range (compared with another bench's) shows it.
 */
export function roundTripLine(d: PerfBenchDigest): string | null {
  const rows = d.rows.filter((r) => r.cores && r.cores.lowestNs !== null && r.cores.maxNs !== null);
  if (rows.length === 0) return null;
  const lo = Math.min(...rows.map((r) => r.cores!.lowestNs!));
  const hi = Math.max(...rows.map((r) => r.cores!.maxNs!));
  return `Core-to-core round trip over the bench: ${fixed(lo, 0)}–${fixed(hi, 0)} ns (a row is "far apart" at ${FAR_FACTOR}× the lowest; compare with another bench's range)`;
}

const PLACEMENT_INTRO =
  'Core placement (the host moved the vCPUs between cache domains, or another thread held a core, during these rows; a parallel runtime slows down, the MatMul ceiling hardly does — see docs/performance.md)';

function harnessCells(h: HarnessBreakdown): string[][] {
  return HARNESS_PHASES.map((p) => {
    const ms = h.phases[p.key];
    return [
      p.label,
      ms === null ? 'not recorded' : formatMs(ms),
      ms === null || !(h.totalMs > 0) ? '–' : `${fixed((ms / h.totalMs) * 100, 1)}%`,
    ];
  });
}

const ADAPTER_PHASE_HEADER = [
  'adapter',
  'cases',
  'worker wall',
  'build',
  'runtime setup',
  'inference',
  'compare',
  'outside cases',
  'of which probe + describe',
  'of which worker exit',
];

function adapterPhaseCells(h: HarnessBreakdown): string[][] {
  return h.byAdapter.map((a) => [
    a.adapter,
    String(a.cases),
    formatMs(a.durationMs),
    formatMs(a.buildMs),
    formatMs(a.setupMs),
    formatMs(a.inferenceMs),
    formatMs(a.compareMs),
    formatMs(a.outsideCasesMs),
    a.probeMs === undefined ? 'not recorded' : formatMs(a.probeMs),
    a.exitMs === undefined ? 'not recorded' : formatMs(a.exitMs),
  ]);
}

function harnessSummary(h: HarnessBreakdown): string {
  const busy =
    h.concurrency > 1
      ? `, ${formatMs(h.totalMs)} busy time over ${h.concurrency} parallel workers (shares are of busy time)`
      : '';
  const own =
    h.ownOverheadMs === null || h.ownOverheadFraction === null
      ? ''
      : `; without the runtime setup the adapters recorded, the harness's own work is ${formatMs(h.ownOverheadMs)} (${fixed(h.ownOverheadFraction * 100, 1)}%)`;
  return (
    `wall ${formatMs(h.wallMs)}${busy}; inference ${formatMs(h.phases.inferenceMs ?? 0)}; harness overhead ${formatMs(h.overheadMs)} ` +
    `(${fixed(h.overheadFraction * 100, 1)}%; target ≤ 20%)${own}`
  );
}

function mdTable(header: string[], rows: string[][]): string[] {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map(escapeMarkdownCell).join(' | ')} |`),
  ];
}

/**
 * `collapse` (the conformance report's users' view): the harness's own cost is for the harness's
 * developers, so it goes in a closed <details> block, and a section with nothing else has no heading.
 */
export function perfMarkdown(s: PerfSection, heading = '## Performance', opts: { collapse?: boolean } = {}): string {
  const collapse = Boolean(opts.collapse && s.harness);
  const out: string[] = collapse && !s.bench ? [] : [heading, ''];
  // Sub-headings one level below the given heading (## → ###).
  const level = /^(#+)\s/.exec(heading)?.[1].length ?? 2;
  const sub = '#'.repeat(Math.min(6, level + 1));
  if (s.bench) {
    const d = s.bench;
    out.push(
      `ResNet-50 forward (inference), ${fixed(d.flopsPerImage / 1e9, 3)} GFLOP per image; ${escapeMarkdownCell(d.cpu)}, ${d.cores} cores; bench of ${d.createdAt}${d.source ? ` (${escapeMarkdownCell(d.source)})` : ''}.`,
      '',
    );
    out.push(`Ceiling: ${escapeMarkdownCell(ceilingText(d))}. Efficiency = achieved GFLOP/s ÷ ceiling.`, '');
    out.push(...mdTable(BENCH_HEADER, d.rows.map(benchCells)), '');
    for (const n of d.notes)
      out.push(`- ${escapeMarkdownCell(n.adapter)}: ${n.status} — ${escapeMarkdownCell(n.reason)}`);
    if (d.notes.length) out.push('');
    const placement = placementNotes(d);
    if (placement.length)
      out.push(`${PLACEMENT_INTRO}:`, '', ...placement.map((l) => `- ${escapeMarkdownCell(l)}`), '');
    const trips = roundTripLine(d);
    if (trips) out.push(escapeMarkdownCell(trips), '');
  }
  if (s.harness) {
    if (collapse) out.push(`<details><summary>${HARNESS_SUMMARY}</summary>`, '');
    else if (s.bench) out.push(`${sub} Harness overhead`, '');
    out.push(harnessSummary(s.harness), '');
    out.push(...mdTable(['phase', 'time', 'share'], harnessCells(s.harness)), '');
    if (s.harness.byAdapter.length) out.push(...mdTable(ADAPTER_PHASE_HEADER, adapterPhaseCells(s.harness)), '');
    if (s.harness.missing.length) out.push(`Not recorded by this report: ${s.harness.missing.join(', ')}.`, '');
    if (collapse) out.push('</details>', '');
  }
  if (!s.bench && !s.harness) out.push('No performance data.', '');
  return out.join('\n');
}

function htmlTable(header: string[], rows: string[][], numericFrom = 1): string {
  const th = header.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const tr = rows
    .map(
      (r) =>
        `<tr>${r.map((c, i) => `<td${i >= numericFrom ? ' class="num"' : ''}>${escapeHtml(c)}</td>`).join('')}</tr>`,
    )
    .join('\n');
  return `<table class="perf">\n<thead><tr>${th}</tr></thead>\n<tbody>\n${tr}\n</tbody>\n</table>`;
}

/** An HTML fragment (a <section>), styled by the host page; table cells with numbers carry class "num". */
/** `collapse`: as perfMarkdown's (the harness's own cost in a closed <details>). */
export function perfHtml(s: PerfSection, opts: { collapse?: boolean } = {}): string {
  const collapse = Boolean(opts.collapse && s.harness);
  const parts: string[] = ['<section id="performance">', collapse && !s.bench ? '' : '<h2>Performance</h2>'];
  if (s.bench) {
    const d = s.bench;
    parts.push(
      `<p>ResNet-50 forward (inference), ${fixed(d.flopsPerImage / 1e9, 3)} GFLOP per image; ${escapeHtml(d.cpu)}, ${d.cores} cores; bench of ${escapeHtml(d.createdAt)}${d.source ? ` (${escapeHtml(d.source)})` : ''}.</p>`,
    );
    parts.push(`<p>Ceiling: ${escapeHtml(ceilingText(d))}. Efficiency = achieved GFLOP/s ÷ ceiling.</p>`);
    parts.push(htmlTable(BENCH_HEADER, d.rows.map(benchCells)));
    if (d.notes.length)
      parts.push(
        `<ul>${d.notes.map((n) => `<li>${escapeHtml(n.adapter)}: ${n.status} — ${escapeHtml(n.reason)}</li>`).join('')}</ul>`,
      );
    const placement = placementNotes(d);
    if (placement.length)
      parts.push(
        `<p>${escapeHtml(PLACEMENT_INTRO)}:</p>`,
        `<ul>${placement.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>`,
      );
    const trips = roundTripLine(d);
    if (trips) parts.push(`<p>${escapeHtml(trips)}</p>`);
  }
  if (s.harness) {
    parts.push(
      collapse ? `<details class="harness"><summary>${HARNESS_SUMMARY}</summary>` : '<h3>Harness overhead</h3>',
      `<p>${escapeHtml(harnessSummary(s.harness))}</p>`,
      htmlTable(['phase', 'time', 'share'], harnessCells(s.harness)),
    );
    if (s.harness.byAdapter.length) parts.push(htmlTable(ADAPTER_PHASE_HEADER, adapterPhaseCells(s.harness)));
    if (s.harness.missing.length)
      parts.push(`<p>Not recorded by this report: ${escapeHtml(s.harness.missing.join(', '))}.</p>`);
    if (collapse) parts.push('</details>');
  }
  if (!s.bench && !s.harness) parts.push('<p>No performance data.</p>');
  parts.push('</section>');
  return parts.join('\n');
}

/** The closed <details> line of the harness's own cost in users' reports. */
const HARNESS_SUMMARY = "Harness overhead (the harness's own time by phase, for its developers)";

/** Plain-text table for the terminal (aligned columns). */
export function perfText(d: PerfBenchDigest): string {
  const rows = [BENCH_HEADER, ...d.rows.map(benchCells)];
  const widths = BENCH_HEADER.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i <= 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const out = [`Ceiling: ${ceilingText(d)}`, '', line(rows[0]), ...rows.slice(1).map(line)];
  for (const n of d.notes) out.push(`${n.adapter}: ${n.status} — ${n.reason}`);
  const placement = placementNotes(d);
  if (placement.length) out.push('', `${PLACEMENT_INTRO}:`, ...placement.map((l) => `  ${l}`));
  const trips = roundTripLine(d);
  if (trips) out.push('', trips);
  return out.join('\n');
}

/**
 * The perf section of a conformance report: the harness breakdown of the report itself, plus the
 * digest of a bench result when one is given (`run --bench bench.json`). Call it after every timing
 * the report records is set (see docs/performance.md, "Perf section in the conformance report").
 */
export function perfForReport(
  report: TimedReport,
  opts: { bench?: { report: BenchReport; source: string }; external?: ExternalTimings } = {},
): PerfSection {
  return perfSection(opts.bench ?? null, harnessBreakdown(report, opts.external ?? {}));
}
