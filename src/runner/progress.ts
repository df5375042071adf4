/**
 * Progress output while a run goes on, in three forms:
 *   - 'tty' (a terminal): one line per finished case (adapter, case, verdict, error, time), led by
 *     an N/M counter and the elapsed time;
 *   - 'plain' (CI logs without a terminal): a line every `everyCases` finished cases or every
 *     `everyMs` (also while a slow case runs: a heartbeat), and one compact line per finished adapter;
 *   - 'github' (GITHUB_ACTIONS=true): as 'plain', and each finished adapter's case lines in a
 *     collapsible `::group::` (workers run concurrently, so a group is written when its adapter ends),
 *     with an `::error` annotation per failing case so that failures show on the run's summary page.
 */
import { metricRank, neededToleranceText } from '../compare/metrics';
import { STATUS_ICON } from '../report/format';
import { formatMs, formatNumber, truncate } from '../util/format';
import {
  emptyCounts,
  countsText,
  FAILING_STATUSES,
  statusLabel,
  type CaseResult,
  type CaseStatus,
} from '../report/schema';
import { willRegress, type RegressionWatch } from './regression';
import type { AdapterRun, ProgressSink } from './orchestrator';

export type ProgressMode = 'tty' | 'plain' | 'github';

export interface ProgressOptions {
  /** Deprecated form of mode: true = 'tty', false = 'plain'. */
  tty?: boolean;
  mode?: ProgressMode;
  write: (line: string) => void;
  /** 'plain'/'github': a progress line after this many finished cases (default 10). */
  everyCases?: number;
  /** 'plain'/'github': and at least this often while cases run (default 10 000 ms; 0: no heartbeat). */
  everyMs?: number;
  /** Clock in milliseconds (tests); default performance.now. */
  now?: () => number;
  /**
   * With `--baseline`: each adapter's baseline errors. A passing case whose error grew beyond the
   * factor is shown and counted 'regressed', as the summary line and the report count it (the
   * baseline is applied to the report only once every adapter has finished).
   */
  regressionWatch?: (adapter: string) => RegressionWatch | undefined;
}

/** A ProgressSink that also hears the run's size (src/runner/run.ts calls start before the first worker). */
export interface RunProgressSink extends ProgressSink {
  start?(total: number): void;
  /** Stops the heartbeat (the run is over). */
  stop?(): void;
}

/** The progress form for this process: GitHub Actions, a terminal, or a plain log. */
export function progressMode(env: NodeJS.ProcessEnv, isTTY: boolean): ProgressMode {
  if (env.GITHUB_ACTIONS === 'true') return 'github';
  return isTTY ? 'tty' : 'plain';
}

function statusOf(r: CaseResult, watch: RegressionWatch | undefined): CaseStatus {
  return willRegress(r, watch) ? 'regressed' : r.status;
}

function counts(results: readonly CaseResult[], watch: RegressionWatch | undefined): string {
  const c = emptyCounts();
  for (const r of results) c[statusOf(r, watch)]++;
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

/** A workflow-command value: GitHub's escaping of %, CR and LF (and of , and : in properties). */
function ghEscape(s: string, property = false): string {
  const t = s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
  return property ? t.replace(/:/g, '%3A').replace(/,/g, '%2C') : t;
}

function caseLine(r: CaseResult, status: CaseStatus): string {
  const err = r.metrics ? `max abs ${formatNumber(r.metrics.maxAbs)}` : '';
  const detail =
    status === 'pass' || status === 'regressed'
      ? err
      : status === 'fail-numeric'
        ? failText(r) || err
        : truncate(r.reason, 100);
  const time = r.timings ? ` (${formatMs(r.timings.totalMs)})` : '';
  return `${STATUS_ICON[status]} ${statusLabel(status).padEnd(12)} ${r.adapter.padEnd(22)} ${r.case.padEnd(34)} ${detail}${time}`;
}

export function progressPrinter(opts: ProgressOptions): RunProgressSink {
  const mode: ProgressMode = opts.mode ?? (opts.tty ? 'tty' : 'plain');
  const now = opts.now ?? (() => performance.now());
  const everyCases = Math.max(1, opts.everyCases ?? 10);
  const everyMs = opts.everyMs ?? 10_000;
  const t0 = now();
  let total: number | null = null;
  // Keyed by adapter and case: a case settled again (a later, final word on it) is not counted twice.
  const settled = new Map<string, boolean>();
  let done = 0;
  let failing = 0;
  let lastLineAt = t0;
  let lastLineDone = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  const byAdapter = new Map<string, CaseResult[]>();
  const memo = new Map<string, RegressionWatch | undefined>();
  const watches = (adapter: string): RegressionWatch | undefined => {
    if (!opts.regressionWatch) return undefined;
    if (!memo.has(adapter)) memo.set(adapter, opts.regressionWatch(adapter));
    return memo.get(adapter);
  };

  const elapsed = () => `${((now() - t0) / 1000).toFixed(1)} s`;
  const ofTotal = () => (total === null ? `${done}` : `${done}/${total}`);
  const progressLine = () => {
    lastLineAt = now();
    lastLineDone = done;
    opts.write(`progress: ${ofTotal()} cases done${failing ? `, ${failing} failing` : ''} after ${elapsed()}`);
  };
  const stop = () => {
    if (timer) clearInterval(timer);
    timer = undefined;
  };

  return {
    start(n) {
      total = n;
      if (mode !== 'tty' && everyMs > 0 && !timer) {
        // The heartbeat: a long case still shows the run alive. unref: it never keeps the process up.
        timer = setInterval(
          () => {
            if (now() - lastLineAt >= everyMs) progressLine();
          },
          Math.min(everyMs, 1000),
        );
        timer.unref?.();
      }
    },
    stop,
    adapterStart(id) {
      if (mode === 'tty') opts.write(`▶ ${id}`);
    },
    caseResult(r) {
      const status = statusOf(r, watches(r.adapter));
      const key = `${r.adapter}\u0000${r.case}`;
      const wasFailing = settled.get(key);
      const isFailing = FAILING_STATUSES.includes(status);
      if (wasFailing === undefined) done++;
      failing += (isFailing ? 1 : 0) - (wasFailing ? 1 : 0);
      settled.set(key, isFailing);
      if (mode === 'tty') {
        opts.write(`  [${ofTotal()} ${elapsed()}] ${caseLine(r, status)}`);
        return;
      }
      if (mode === 'github') {
        const list = byAdapter.get(r.adapter) ?? [];
        list.push(r);
        byAdapter.set(r.adapter, list);
      }
      if (done - lastLineDone >= everyCases || (everyMs > 0 && now() - lastLineAt >= everyMs)) progressLine();
      if (total !== null && done >= total) stop();
    },
    adapterDone(run: AdapterRun) {
      const note = run.knownCrash
        ? ` — not started: known crash on this CPU (${run.knownCrash.id}); workaround: ${run.knownCrash.workaround}`
        : !run.available
          ? ` — unavailable: ${truncate(run.unavailableReason ?? '', 120)}`
          : '';
      const line = `${run.id}: ${counts(run.results, watches(run.id))} [${formatMs(run.durationMs)}]${note}`;
      if (mode === 'tty') {
        opts.write(`■ ${line}`);
        return;
      }
      if (mode !== 'github') {
        opts.write(line);
        return;
      }
      opts.write(`::group::${line}`);
      const results = byAdapter.get(run.id) ?? run.results;
      for (const r of results) opts.write(`  ${caseLine(r, statusOf(r, watches(run.id)))}`);
      opts.write('::endgroup::');
      for (const r of results.filter((x) => FAILING_STATUSES.includes(x.status))) {
        const title = ghEscape(`${r.adapter} × ${r.case}: ${statusLabel(r.status)}`, true);
        opts.write(`::error title=${title}::${ghEscape(truncate(r.reason || statusLabel(r.status), 500))}`);
      }
      byAdapter.delete(run.id);
    },
  };
}
