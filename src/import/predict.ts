/**
 * Running an imported model on adapters (shared by `classify` and `evaluate`): which adapters,
 * their availability, and the model's probabilities for batches of inputs, as Keras's
 * model.predict computes them (BatchNormalization in inference mode: training=False).
 */
import { adapterForThisProcess } from '../adapters/isolated';
import type { AdapterSelection } from '../adapters/select';
import type { AdapterEntry } from '../adapters/types';
import { UsageError } from '../util/errors';
import type { Tensor } from '../tensor';
import type { ImportedModel } from './index';

export interface AdapterPlan {
  entries: AdapterEntry[];
  /** Adapters left out because they cannot run here (only when not named explicitly). */
  skipped: { id: string; reason: string; fix: string }[];
  /** The --adapter-module files (an isolated adapter's child process loads them). */
  modules: string[];
}

/**
 * Probes the selected adapters (src/adapters/select.ts; classify and evaluate default to every
 * adapter): chosen by default or `all` -> those available here (the others are listed as skipped,
 * with the reason); named -> each must be available (else a UsageError with the reason and the
 * fix: exit code 2).
 */
export async function planAdapters(selection: AdapterSelection): Promise<AdapterPlan> {
  const all = selection.mode !== 'explicit';
  const chosen = selection.entries;
  const entries: AdapterEntry[] = [];
  const skipped: AdapterPlan['skipped'] = [];
  for (const e of chosen) {
    const a = e.create();
    let probe;
    try {
      probe = await a.probe();
    } catch (err) {
      probe = { available: false, reason: `probe failed: ${(err as Error).message}` };
    } finally {
      await a.dispose().catch(() => undefined);
    }
    if (probe.available) entries.push(e);
    else if (all)
      skipped.push({ id: e.id, reason: probe.reason ?? 'unavailable', fix: probe.fix ?? 'see README.md (adapters)' });
    else
      throw new UsageError(
        `adapter '${e.id}' is unavailable here: ${probe.reason ?? 'no reason given'}\nfix: ${probe.fix ?? 'see README.md (adapters)'}`,
      );
  }
  if (entries.length === 0) throw new UsageError('no adapter is available here');
  return { entries, skipped, modules: selection.modules };
}

export interface AdapterPredictions {
  id: string;
  /** One probability row per input, as computed (float32 or float64 values). */
  rows: number[][];
  /** Set when the adapter failed to build or run. */
  error?: string;
  seconds: number;
}

/**
 * Where an adapter's probabilities are NaN or ±Inf, one line naming each input and its counts
 * ("a.png: 6 NaN of 6"); undefined when every value is finite. A non-finite probability is never
 * compared (NaN > x is false, so no --max-diff could catch it, and argmax would call it class 0).
 */
export function nonFiniteText(rows: readonly number[][], inputName: (row: number) => string): string | undefined {
  const parts: string[] = [];
  let inputs = 0;
  rows.forEach((row, i) => {
    let nan = 0;
    let inf = 0;
    for (const v of row) {
      if (v !== v) nan++;
      else if (v === Infinity || v === -Infinity) inf++;
    }
    if (nan + inf === 0) return;
    inputs++;
    if (parts.length < 5) {
      const what = [nan ? `${nan} NaN` : '', inf ? `${inf} Inf` : ''].filter(Boolean).join(' and ');
      parts.push(`${inputName(i)}: ${what} of ${row.length}`);
    }
  });
  if (inputs === 0) return undefined;
  return `returned non-finite probabilities for ${inputs} of ${rows.length} input(s): ${parts.join('; ')}${inputs > parts.length ? `; and ${inputs - parts.length} more` : ''}`;
}

/**
 * Builds the imported model on one adapter and runs every batch with training=false. Non-finite
 * probabilities make the adapter's result an error (see nonFiniteText); `inputName` names the
 * inputs in that message (default "input <row>").
 */
export async function predictOnAdapter(
  entry: AdapterEntry,
  model: ImportedModel,
  batches: Tensor[],
  inputName: (row: number) => string = (i) => `input ${i}`,
  modules: readonly string[] = [],
): Promise<AdapterPredictions> {
  const adapter = adapterForThisProcess(entry, modules);
  const t0 = Date.now();
  const rows: number[][] = [];
  try {
    try {
      await adapter.build(model.spec, model.weights);
    } catch (err) {
      return {
        id: entry.id,
        rows,
        error: `could not build the imported ${model.spec.model}: ${(err as Error).message}`,
        seconds: (Date.now() - t0) / 1000,
      };
    }
    for (const x of batches) {
      let out: Tensor;
      try {
        out = (await adapter.run(x, { training: false })).output;
      } catch (err) {
        return {
          id: entry.id,
          rows,
          error: `could not run: ${(err as Error).message}`,
          seconds: (Date.now() - t0) / 1000,
        };
      }
      const n = out.shape[0];
      const c = out.data.length / n;
      for (let i = 0; i < n; i++) rows.push(Array.from(out.data.subarray(i * c, (i + 1) * c)));
    }
    const nonFinite = nonFiniteText(rows, inputName);
    return { id: entry.id, rows, ...(nonFinite ? { error: nonFinite } : {}), seconds: (Date.now() - t0) / 1000 };
  } finally {
    await adapter.dispose().catch(() => undefined);
  }
}

/** numpy.argmax: the first index of the largest value. */
export function argmax(row: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

export interface Disagreement {
  maxAbs: number;
  a: string;
  b: string;
  /** Input row and class index of the largest difference. */
  row: number;
  cls: number;
}

/** The largest |p_a - p_b| over all pairs of adapters (rows restricted to `rowsOf`, default all). */
export function largestDisagreement(preds: AdapterPredictions[], rowsOf?: number[]): Disagreement | undefined {
  const ok = preds.filter((p) => !p.error);
  let best: Disagreement | undefined;
  for (let i = 0; i < ok.length; i++) {
    for (let j = i + 1; j < ok.length; j++) {
      const rows = rowsOf ?? ok[i].rows.map((_, k) => k);
      for (const r of rows) {
        const pa = ok[i].rows[r];
        const pb = ok[j].rows[r];
        for (let c = 0; c < pa.length; c++) {
          const d = Math.abs(pa[c] - pb[c]);
          if (!best || d > best.maxAbs) best = { maxAbs: d, a: ok[i].id, b: ok[j].id, row: r, cls: c };
        }
      }
    }
  }
  return best;
}
