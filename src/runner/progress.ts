/**
 * Progress output while a run goes on. On a terminal: one line per finished case (adapter, case,
 * verdict, error, time). Otherwise (CI logs): one compact line per finished adapter.
 */
import { STATUS_ICON } from '../report/format';
import { formatMs, formatNumber, truncate } from '../util/format';
import { emptyCounts, countsText, statusLabel, type CaseResult, type CaseStatus } from '../report/schema';
import { willRegress, type RegressionWatch } from './regression';
import type { AdapterRun, ProgressSink } from './orchestrator';

export interface ProgressOptions {
  tty: boolean;
  write: (line: string) => void;
  /**
   * With `--baseline`: each adapter's baseline errors. A passing case whose error grew beyond the
   * factor is shown and counted 'regressed', as the summary line and the report count it (the
   * baseline is applied to the report only once every adapter has finished).
   */
  regressionWatch?: (adapter: string) => RegressionWatch | undefined;
}

function statusOf(r: CaseResult, watch: RegressionWatch | undefined): CaseStatus {
  return willRegress(r, watch) ? 'regressed' : r.status;
}

function counts(results: CaseResult[], watch: RegressionWatch | undefined): string {
  const c = emptyCounts();
  for (const r of results) c[statusOf(r, watch)]++;
  return countsText(c) || 'no cases';
}

export function progressPrinter(opts: ProgressOptions): ProgressSink {
  const width = 34;
  const memo = new Map<string, RegressionWatch | undefined>();
  const watches = (adapter: string): RegressionWatch | undefined => {
    if (!opts.regressionWatch) return undefined;
    if (!memo.has(adapter)) memo.set(adapter, opts.regressionWatch(adapter));
    return memo.get(adapter);
  };
  return {
    adapterStart(id) {
      if (opts.tty) opts.write(`▶ ${id}`);
    },
    caseResult(r) {
      if (!opts.tty) return;
      const status = statusOf(r, watches(r.adapter));
      const err = r.metrics ? `max abs ${formatNumber(r.metrics.maxAbs)}` : '';
      const detail =
        status === 'pass' || status === 'regressed' || status === 'fail-numeric' ? err : truncate(r.reason, 100);
      const time = r.timings ? ` (${formatMs(r.timings.totalMs)})` : '';
      opts.write(
        `  ${STATUS_ICON[status]} ${statusLabel(status).padEnd(12)} ${r.adapter.padEnd(22)} ${r.case.padEnd(width)} ${detail}${time}`,
      );
    },
    adapterDone(run: AdapterRun) {
      const note = run.knownCrash
        ? ` — not started: known crash on this CPU (${run.knownCrash.id}); workaround: ${run.knownCrash.workaround}`
        : !run.available
          ? ` — unavailable: ${truncate(run.unavailableReason ?? '', 120)}`
          : '';
      opts.write(
        `${opts.tty ? '■ ' : ''}${run.id}: ${counts(run.results, watches(run.id))} [${formatMs(run.durationMs)}]${note}`,
      );
    },
  };
}
