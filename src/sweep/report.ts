/**
 * The sweep report: sweep.json (the SweepReport) and sweep.md (configurations per kind and adapter,
 * failures by group with their minimal reproduction, "none in N configurations" per adapter), and
 * the comparison with an earlier sweep (--baseline): groups new, gone and still there, and adapters
 * whose counts changed.
 */
import * as fs from 'node:fs';
import { SWEEP_KINDS } from './configs';
import { OUTCOMES, type AdapterSweep, type SweepGroup, type SweepReport } from './sweep';

export interface BaselineComparison {
  baseline: string;
  sameConfigurations: boolean;
  newGroups: string[];
  goneGroups: string[];
  stillFailing: string[];
  /** Adapters whose fail + error count grew. */
  worse: string[];
}

export function readSweepReport(file: string): SweepReport {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`--baseline ${file}: cannot read a sweep report (${(err as Error).message})`);
  }
  const r = raw as Partial<SweepReport>;
  if (r.schema !== 'resnet-conformance/sweep/1' || !Array.isArray(r.adapters) || !Array.isArray(r.groups))
    throw new Error(`--baseline ${file}: not a sweep report (schema resnet-conformance/sweep/1)`);
  return r as SweepReport;
}

export function compareWithBaseline(cur: SweepReport, base: SweepReport, baseFile: string): BaselineComparison {
  const was = new Set(base.groups.map((g) => g.key));
  const now = new Set(cur.groups.map((g) => g.key));
  // A baseline written before timeouts were counted has no `timeout` count.
  const bad = (a: AdapterSweep) => a.counts.fail + a.counts.error + (a.counts.timeout ?? 0);
  const worse = cur.adapters
    .filter((a) => {
      const b = base.adapters.find((x) => x.adapter === a.adapter);
      return b !== undefined && bad(a) > bad(b);
    })
    .map((a) => a.adapter);
  return {
    baseline: baseFile,
    sameConfigurations:
      cur.seed === base.seed &&
      cur.configurations === base.configurations &&
      cur.kinds.join(',') === base.kinds.join(',') &&
      JSON.stringify(cur.shard) === JSON.stringify(base.shard),
    newGroups: [...now].filter((k) => !was.has(k)),
    goneGroups: [...was].filter((k) => !now.has(k)),
    stillFailing: [...now].filter((k) => was.has(k)),
    worse,
  };
}

function groupLine(g: SweepGroup): string {
  const w = g.worst
    ? ` worst: expected ${g.worst.expected}, got ${g.worst.got}, bound ${g.worst.bound.toExponential(2)}.`
    : '';
  return `${g.outcome} — ${g.description}: ${g.reason}.${w} From ${g.indices.length} configuration(s) (#${g.indices.slice(0, 8).join(', #')}${g.indices.length > 8 ? ', …' : ''}); shrunk in ${g.shrink.steps} steps (${g.shrink.evaluations} runs${g.shrink.exhausted ? ', budget exhausted: may not be minimal' : ''}).`;
}

/** One line per adapter: its verdict over the configurations it ran. */
export function adapterVerdict(a: AdapterSweep, groups: SweepGroup[]): string {
  if (!a.available) return `${a.adapter}: unavailable (${a.reason ?? 'no reason'}); not run`;
  const judged = a.counts.pass + a.counts.fail + a.counts.error + a.counts.timeout + a.counts.unbounded;
  const na = a.counts['not-applicable'] ? `, ${a.counts['not-applicable']} not applicable` : '';
  const unb = a.counts.unbounded ? `, ${a.counts.unbounded} without a finite bound (not judged)` : '';
  const to = a.counts.timeout ? `, ${a.counts.timeout} timed out (not judged, not shrunk)` : '';
  const bad = a.counts.fail + a.counts.error;
  const mine = groups.filter((g) => g.adapter === a.adapter).length;
  if (bad === 0 && !a.counts.timeout) return `${a.adapter}: none in ${judged} configurations${unb}${na}`;
  return `${a.adapter}: ${bad} failing of ${judged} configurations in ${mine} group(s)${to}${unb}${na}`;
}

export function renderSweepMarkdown(r: SweepReport, cmp?: BaselineComparison): string {
  const out: string[] = [];
  out.push('# Sweep', '');
  out.push(
    `Seed ${r.seed}, kinds ${r.kinds.join(',')}, ${r.configurations} configurations` +
      `${r.shard ? ` (shard ${r.shard.index + 1}/${r.shard.count})` : ''}, ${(r.durationMs / 1000).toFixed(1)} s, started ${r.startedAt}.`,
    '',
  );
  out.push('## Verdict per adapter', '');
  for (const a of r.adapters) out.push(`- ${adapterVerdict(a, r.groups)}`);
  out.push('', '## Configurations per kind and adapter', '');
  out.push(`| adapter | kind | ${OUTCOMES.join(' | ')} |`, `|---|---|${OUTCOMES.map(() => '---:').join('|')}|`);
  for (const a of r.adapters) {
    if (!a.available) continue;
    for (const k of SWEEP_KINDS) {
      const c = a.byKind[k];
      if (OUTCOMES.every((o) => c[o] === 0)) continue;
      out.push(`| ${a.adapter} | ${k} | ${OUTCOMES.map((o) => c[o]).join(' | ')} |`);
    }
  }
  out.push('', '## Headroom and throughput', '');
  out.push(
    '| adapter | profile | worst error/bound over passes | configurations/minute (build+run) |',
    '|---|---|---:|---:|',
  );
  for (const a of r.adapters) {
    if (!a.available) continue;
    out.push(`| ${a.adapter} | ${a.profile} | ${a.worstPassRatio.toExponential(2)} | ${a.configsPerMinute ?? 'n/a'} |`);
  }
  out.push('', '## Failures by group (minimal form)', '');
  if (r.groups.length === 0) out.push('None.');
  for (const g of r.groups) {
    out.push(`### ${g.adapter}: ${g.description}`, '', groupLine(g), '');
    out.push('Minimal configuration:', '', '```json', JSON.stringify(g.minimal), '```', '');
    if (g.repro) {
      const v = g.reproVerified;
      const ver = v
        ? v.exitCode === 1
          ? 'ran it: reproduces (exit 1)'
          : `ran it: exit ${v.exitCode} (does NOT reproduce standalone)`
        : 'not run';
      out.push(`Standalone reproduction: \`node ${g.repro}\` (${ver}).`, '');
    } else if (g.noRepro) out.push(`No standalone script: ${g.noRepro}.`, '');
  }
  if (r.unshrunk)
    out.push(`${r.unshrunk} failing configuration(s) were not shrunk (--max-shrink); see sweep.json.`, '');
  if (cmp) {
    out.push('## Compared with the baseline', '');
    out.push(
      `Baseline: ${cmp.baseline}${cmp.sameConfigurations ? '' : ' (different seed, kinds, shard or configuration count: counts are not comparable)'}.`,
    );
    out.push(`- new groups: ${cmp.newGroups.length ? cmp.newGroups.join('; ') : 'none'}`);
    out.push(`- gone groups: ${cmp.goneGroups.length ? cmp.goneGroups.join('; ') : 'none'}`);
    out.push(`- still failing: ${cmp.stillFailing.length}`);
    out.push(`- adapters with more failures: ${cmp.worse.length ? cmp.worse.join(', ') : 'none'}`);
    out.push('');
  }
  return `${out.join('\n')}\n`;
}
