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
import { STATUS_ICON } from '../report/format';
import { formatMs, formatNumber, truncate } from '../util/format';
import { emptyCounts, countsText, FAILING_STATUSES, statusLabel, type CaseResult } from '../report/schema';
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

function counts(results: readonly CaseResult[]): string {
  const c = emptyCounts();
  for (const r of results) c[r.status]++;
  return countsText(c) || 'no cases';
}

/** A workflow-command value: GitHub's escaping of %, CR and LF (and of , and : in properties). */
function ghEscape(s: string, property = false): string {
  const t = s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
  return property ? t.replace(/:/g, '%3A').replace(/,/g, '%2C') : t;
}

function caseLine(r: CaseResult): string {
  const err = r.metrics ? `max abs ${formatNumber(r.metrics.maxAbs)}` : '';
  const detail = r.status === 'pass' || r.status === 'fail-numeric' ? err : truncate(r.reason, 100);
  const time = r.timings ? ` (${formatMs(r.timings.totalMs)})` : '';
  return `${STATUS_ICON[r.status]} ${statusLabel(r.status).padEnd(12)} ${r.adapter.padEnd(22)} ${r.case.padEnd(34)} ${detail}${time}`;
}

export function progressPrinter(opts: ProgressOptions): RunProgressSink {
  const mode: ProgressMode = opts.mode ?? (opts.tty ? 'tty' : 'plain');
  const now = opts.now ?? (() => performance.now());
  const everyCases = Math.max(1, opts.everyCases ?? 10);
  const everyMs = opts.everyMs ?? 10_000;
  const t0 = now();
  let total: number | null = null;
  let done = 0;
  let failing = 0;
  let lastLineAt = t0;
  let lastLineDone = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  const byAdapter = new Map<string, CaseResult[]>();

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
      done++;
      if (FAILING_STATUSES.includes(r.status)) failing++;
      if (mode === 'tty') {
        opts.write(`  [${ofTotal()} ${elapsed()}] ${caseLine(r)}`);
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
      const line = `${run.id}: ${counts(run.results)} [${formatMs(run.durationMs)}]${note}`;
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
      for (const r of results) opts.write(`  ${caseLine(r)}`);
      opts.write('::endgroup::');
      for (const r of results.filter((x) => FAILING_STATUSES.includes(x.status))) {
        const title = ghEscape(`${r.adapter} × ${r.case}: ${statusLabel(r.status)}`, true);
        opts.write(`::error title=${title}::${ghEscape(truncate(r.reason || statusLabel(r.status), 500))}`);
      }
      byAdapter.delete(run.id);
    },
  };
}
