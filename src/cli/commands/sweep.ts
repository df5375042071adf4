/**
 * `sweep`: oracle-driven configuration sweep (src/sweep, docs/sweep.md). Exit 0: no adapter failed a
 * configuration; 1: at least one failure (or, with --baseline, a new failure group); 2: usage error
 * or an adapter named explicitly cannot run here.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ADAPTERS, getAdapterEntry } from '../../adapters/registry';
import { parseShard } from '../../runner/shard';
import {
  adapterVerdict,
  compareWithBaseline,
  emitRepros,
  isSweepKind,
  readSweepReport,
  renderSweepMarkdown,
  runSweep,
  SWEEP_KINDS,
  type SweepKind,
} from '../../sweep';
import { UsageError, bool, int, parseArgs, str } from '../args';
import { SWEEP_SPEC } from '../specs';
import { displayDir, makeRunId } from './run';

/** Default budget: what fits CI's 120 s for the out-of-the-box adapters on 2 shared cores (docs/sweep.md). */
export const DEFAULT_SWEEP_BUDGET = 100;

export async function sweepCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, SWEEP_SPEC.flags);
  if (p.positional.length) throw new UsageError(`sweep takes no positional arguments (got ${p.positional.join(' ')})`);
  const write = (line: string) => process.stdout.write(`${line}\n`);
  const adaptersText = str(p, 'adapters');
  let ids: string[];
  if (adaptersText === undefined) ids = ADAPTERS.filter((e) => e.outOfTheBox).map((e) => e.id);
  else if (adaptersText.trim() === 'all') ids = ADAPTERS.map((e) => e.id);
  else
    ids = adaptersText
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  if (ids.length === 0) throw new UsageError('--adapters needs a comma-separated list of adapter ids, or all');
  for (const id of ids) getAdapterEntry(id); // unknown id: a usage error naming it
  const seed = int(p, 'seed') ?? 1;
  const budget = int(p, 'budget');
  const secondsText = str(p, 'seconds');
  const seconds = secondsText === undefined ? undefined : Number(secondsText);
  if (seconds !== undefined && !(seconds > 0))
    throw new UsageError(`--seconds must be a positive number, got '${secondsText}'`);
  if (budget !== undefined && budget < 1) throw new UsageError(`--budget must be a positive integer, got ${budget}`);
  if (budget !== undefined && seconds !== undefined) throw new UsageError('give --budget or --seconds, not both');
  const kindsText = str(p, 'kinds');
  let kinds: SweepKind[] = [...SWEEP_KINDS];
  if (kindsText !== undefined) {
    const ks = kindsText
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const bad = ks.filter((k) => !isSweepKind(k));
    if (bad.length || ks.length === 0)
      throw new UsageError(`--kinds: unknown kind(s) ${bad.join(', ')} (expected some of ${SWEEP_KINDS.join(',')})`);
    kinds = ks as SweepKind[];
  }
  const shardText = str(p, 'shard');
  const shard = shardText === undefined ? undefined : parseShard(shardText);
  const maxShrink = int(p, 'max-shrink');
  if (maxShrink !== undefined && maxShrink < 0) throw new UsageError('--max-shrink must be >= 0');
  const timeoutText = str(p, 'config-timeout');
  const configTimeout = timeoutText === undefined ? undefined : Number(timeoutText);
  if (configTimeout !== undefined && !(configTimeout > 0))
    throw new UsageError(`--config-timeout must be a positive number of seconds, got '${timeoutText}'`);
  const baselineFile = str(p, 'baseline');
  const baseline = baselineFile === undefined ? undefined : readSweepReport(baselineFile);
  const json = bool(p, 'json');
  const outDir = path.resolve(str(p, 'out') ?? path.join('reports', `sweep-${makeRunId(new Date(), null)}`));

  const report = await runSweep({
    adapters: ids,
    seed,
    kinds,
    budget: budget ?? (seconds === undefined ? DEFAULT_SWEEP_BUDGET : undefined),
    seconds,
    shard: shard ? { index: shard.index - 1, count: shard.count } : undefined,
    maxShrink,
    configTimeoutMs: configTimeout === undefined ? undefined : configTimeout * 1000,
    progress: json ? undefined : write,
  });
  fs.mkdirSync(outDir, { recursive: true });
  emitRepros(report, outDir, { verify: !bool(p, 'no-verify-repro'), progress: json ? undefined : write });
  const cmp = baseline ? compareWithBaseline(report, baseline, baselineFile!) : undefined;
  fs.writeFileSync(
    path.join(outDir, 'sweep.json'),
    `${JSON.stringify({ ...report, baseline: cmp ?? null }, null, 2)}\n`,
  );
  fs.writeFileSync(path.join(outDir, 'sweep.md'), renderSweepMarkdown(report, cmp));
  if (json) write(JSON.stringify(report, null, 2));
  else {
    write('');
    for (const a of report.adapters) write(adapterVerdict(a, report.groups));
    for (const g of report.groups)
      write(`group: ${g.adapter}: ${g.description}${g.repro ? ` -> ${displayDir(path.join(outDir, g.repro))}` : ''}`);
    if (cmp)
      write(
        `baseline: ${cmp.newGroups.length} new group(s), ${cmp.goneGroups.length} gone, ${cmp.stillFailing.length} still failing`,
      );
    write(`${(report.durationMs / 1000).toFixed(1)} s. Report: ${displayDir(outDir)}/sweep.json (+ sweep.md)`);
  }
  const explicitUnavailable =
    adaptersText !== undefined && adaptersText.trim() !== 'all' && report.adapters.some((a) => !a.available);
  if (explicitUnavailable) return 2;
  if (cmp) return cmp.newGroups.length > 0 || cmp.worse.length > 0 ? 1 : 0;
  return report.failures.length > 0 ? 1 : 0;
}
