/**
 * Noise between bench runs, measured: several bench results of the same code on the same machine
 * (`bench --noise r1.json r2.json r3.json --json noise.json`) give, per adapter × batch, how far the
 * medians spread — raw, and normalized by each batch's ceiling. `compareBench(a, b, { profile })`
 * then only reports a change larger than that spread (and than the floor).
 *
 * band = max / min − 1 of the row's metric over the runs: the largest change seen between two runs
 * where nothing changed.
 */
/** The fields of a bench result (BenchReport, src/bench/schema.ts) a noise profile reads. */
export interface NoiseSourceReport {
  adapters: ReadonlyArray<{
    id: string;
    ceilingGflops?: number | null;
    batches: ReadonlyArray<{ batch: number; latencyMs: { median: number }; ceilingGflops?: number | null }>;
  }>;
}

export const NOISE_PROFILE_KIND = 'resnet-conformance-bench-noise';
export const NOISE_PROFILE_SCHEMA_VERSION = 1;

export interface NoiseProfileRow {
  adapter: string;
  batch: number;
  /** Whether the metric is latency × ceiling (true) or raw latency (false). */
  normalized: boolean;
  runs: number;
  /** The metric per run: median latency in ms, times the batch's ceiling in GFLOP/s when normalized. */
  values: number[];
  band: number;
}

export interface NoiseProfile {
  kind: typeof NOISE_PROFILE_KIND;
  schemaVersion: typeof NOISE_PROFILE_SCHEMA_VERSION;
  createdAt: string;
  sources: string[];
  rows: NoiseProfileRow[];
}

function band(values: number[]): number {
  return Math.max(...values) / Math.min(...values) - 1;
}

export function noiseProfile(reports: readonly NoiseSourceReport[], sources: readonly string[] = []): NoiseProfile {
  if (reports.length < 2)
    throw new Error(`noise profile: needs at least 2 bench results of the same code, got ${reports.length}`);
  const keys = new Map<string, { adapter: string; batch: number }>();
  for (const r of reports)
    for (const a of r.adapters)
      for (const b of a.batches) keys.set(`${a.id}\u0000${b.batch}`, { adapter: a.id, batch: b.batch });
  const rows: NoiseProfileRow[] = [];
  for (const { adapter, batch } of keys.values()) {
    const raw: number[] = [];
    const norm: number[] = [];
    for (const r of reports) {
      const a = r.adapters.find((x) => x.id === adapter);
      const b = a?.batches.find((x) => x.batch === batch);
      if (!a || !b || !(b.latencyMs.median > 0)) continue;
      raw.push(b.latencyMs.median);
      const c = b.ceilingGflops ?? a.ceilingGflops;
      if (c && c > 0) norm.push(b.latencyMs.median * c);
    }
    if (raw.length >= 2)
      rows.push({ adapter, batch, normalized: false, runs: raw.length, values: raw, band: band(raw) });
    if (norm.length >= 2)
      rows.push({ adapter, batch, normalized: true, runs: norm.length, values: norm, band: band(norm) });
  }
  if (rows.length === 0) throw new Error('noise profile: no adapter × batch was measured in two of the bench results');
  return {
    kind: NOISE_PROFILE_KIND,
    schemaVersion: NOISE_PROFILE_SCHEMA_VERSION,
    createdAt: new Date().toISOString(),
    sources: [...sources],
    rows,
  };
}

export function parseNoiseProfile(text: string, name: string): NoiseProfile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`noise profile ${name} is not valid JSON (${(err as Error).message})`);
  }
  const p = raw as Partial<NoiseProfile> | null;
  if (!p || p.kind !== NOISE_PROFILE_KIND)
    throw new Error(
      `${name} is not a bench noise profile (make one with: resnet-conformance bench --noise r1.json r2.json ... --json ${name})`,
    );
  if (p.schemaVersion !== NOISE_PROFILE_SCHEMA_VERSION)
    throw new Error(
      `noise profile ${name} has schemaVersion ${JSON.stringify(p.schemaVersion)}; this tool reads ${NOISE_PROFILE_SCHEMA_VERSION}`,
    );
  if (
    !Array.isArray(p.rows) ||
    p.rows.some(
      (r) =>
        typeof r?.adapter !== 'string' ||
        typeof r.batch !== 'number' ||
        typeof r.band !== 'number' ||
        typeof r.normalized !== 'boolean',
    )
  ) {
    throw new Error(`noise profile ${name}: rows must be objects with adapter, batch, normalized and band`);
  }
  return p as NoiseProfile;
}
