/**
 * Progress output while a run goes on. On a terminal: one line per finished case (adapter, case,
 * verdict, error, time). Otherwise (CI logs): one compact line per finished adapter.
 */
import { metricRank, neededToleranceText } from '../compare/metrics';
import { STATUS_ICON } from '../report/format';
import { formatMs, formatNumber, truncate } from '../util/format';
import { emptyCounts, countsText, statusLabel, type CaseResult } from '../report/schema';
import type { AdapterRun, ProgressSink } from './orchestrator';

export interface ProgressOptions {
  tty: boolean;
  write: (line: string) => void;
}

function counts(results: CaseResult[]): string {
  const c = emptyCounts();
  for (const r of results) c[r.status]++;
  return countsText(c) || 'no cases';
}

/** A numeric failure in brief: the worst failing tensor's max abs error and the tolerance it would have needed. */
function failText(r: CaseResult): string {
  const worst = r.checks
    .filter((c) => !c.pass && !c.outcome && c.metrics)
    .sort((a, b) => metricRank(b.metrics!.maxAbs) - metricRank(a.metrics!.maxAbs))[0];
  const m = worst?.metrics;
  if (!m) return '';
  const needed = m.neededTolerance ? `, ${neededToleranceText(m.neededTolerance.atol, m.neededTolerance.rtol)}` : '';
  return `${worst.name}: max abs ${formatNumber(m.maxAbs)}${needed}`;
}

export function progressPrinter(opts: ProgressOptions): ProgressSink {
  const width = 34;
  return {
    adapterStart(id) {
      if (opts.tty) opts.write(`▶ ${id}`);
    },
    caseResult(r) {
      if (!opts.tty) return;
      const err = r.metrics ? `max abs ${formatNumber(r.metrics.maxAbs)}` : '';
      const detail =
        r.status === 'pass' ? err : r.status === 'fail-numeric' ? failText(r) || err : truncate(r.reason, 100);
      const time = r.timings ? ` (${formatMs(r.timings.totalMs)})` : '';
      opts.write(
        `  ${STATUS_ICON[r.status]} ${statusLabel(r.status).padEnd(12)} ${r.adapter.padEnd(22)} ${r.case.padEnd(width)} ${detail}${time}`,
      );
    },
    adapterDone(run: AdapterRun) {
      const note = run.knownCrash
        ? ` — not started: known crash on this CPU (${run.knownCrash.id}); workaround: ${run.knownCrash.workaround}`
        : !run.available
          ? ` — unavailable: ${truncate(run.unavailableReason ?? '', 120)}`
          : '';
      opts.write(`${opts.tty ? '■ ' : ''}${run.id}: ${counts(run.results)} [${formatMs(run.durationMs)}]${note}`);
    },
  };
}
