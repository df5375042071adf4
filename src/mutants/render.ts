/** The mutation report as Markdown (mutation.md) and as the command's closing summary. */
import type { MutantOutcome, MutationReport, MutationSummary } from './score';

function pct(x: number | null): string {
  return x === null ? 'n/a' : `${(100 * x).toFixed(1)}%`;
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** The score in three lines (the command's summary, README). */
export function scoreLines(s: MutationSummary): string[] {
  return [
    `caught: ${s.caught}/${s.nonEquivalent} non-equivalent mutants (${pct(s.caughtShare)}); ${s.equivalent.length} equivalent listed apart`,
    `localized: ${s.localized}/${s.caught} caught mutants (${pct(s.localizedShare)}): the diagnosis names a mutated layer first`,
    `false alarms: ${s.falseAlarms.length}/${s.controls} negative controls${s.falseAlarms.length ? ` (${s.falseAlarms.join(', ')})` : ''}`,
  ];
}

function touched(o: MutantOutcome): string {
  const names = new Set<string>();
  let models = 0;
  for (const t of o.targets) {
    const live = t.layers.filter((l) => !(l in t.inert));
    if (live.length) models++;
    for (const l of live) names.add(l);
  }
  if (!models) return '—';
  const where = `in ${models}/${o.targets.length} models`;
  return names.size <= 3 ? `${[...names].join(', ')} ${where}` : `${names.size} layer names ${where}`;
}

function result(o: MutantOutcome): string {
  if (o.verdict === 'caught' || o.verdict === 'false-alarm' || o.verdict === 'equivalent-caught') {
    const byStatus = new Map<string, number>();
    for (const f of o.failing) byStatus.set(f.status, (byStatus.get(f.status) ?? 0) + 1);
    return `**${o.verdict}** (${[...byStatus].map(([s, n]) => `${n} ${s}`).join(', ')}; ${o.passed} pass)`;
  }
  return `**${o.verdict}** (${o.passed} pass)`;
}

function diagnosis(o: MutantOutcome): string {
  if (!o.diagnoses.length) return o.verdict === 'caught' ? (o.why ?? '—') : '—';
  const counts = new Map<string, number>();
  for (const d of o.diagnoses) {
    const text = d.error
      ? 'diagnosis error'
      : `${d.firstDiverging ?? 'none'}${d.role ? ` (${d.role})` : ''} ${d.localized ? '✓' : '✗'}`;
    counts.set(text, (counts.get(text) ?? 0) + 1);
  }
  return [...counts].map(([t, n]) => (n > 1 ? `${t} ×${n}` : t)).join('<br>');
}

export function renderMutationMarkdown(r: MutationReport): string {
  const s = r.summary;
  const lines: string[] = [
    '# Mutation score',
    '',
    `${r.mutants.length} bank entries (${s.mutants} mutants, ${s.controls} negative controls) through ` +
      `${r.fixtures.cases.length} cases (${r.fixtures.casesPattern === null ? 'the default case set of `run`' : `--cases '${r.fixtures.casesPattern}'`}; ` +
      `manifest sha256 ${r.fixtures.manifestSha256.slice(0, 12)}), ${(r.durationMs / 1000).toFixed(0)} s, ${r.createdAt}.`,
    '',
    ...scoreLines(s).map((l) => `- ${l}`),
    '',
    '| mutant | kind | changes | result | first diverging layer (diagnosis) |',
    '|---|---|---|---|---|',
    ...r.mutants.map(
      (o) =>
        `| \`${o.id}\` | ${o.kind === 'control' ? 'control' : o.category} | ${cell(touched(o))} | ${result(o)} | ${cell(diagnosis(o))} |`,
    ),
    '',
  ];
  const survived = r.mutants.filter((o) => o.verdict === 'survived');
  if (survived.length) {
    lines.push('## Survivors (every case passed)', '');
    for (const o of survived) lines.push(`- \`${o.id}\` — ${o.title}. Catching it needs ${o.needs}.`);
    lines.push('');
  }
  const eq = r.mutants.filter((o) => o.verdict === 'equivalent' || o.verdict === 'equivalent-caught');
  if (eq.length) {
    lines.push('## Equivalent mutants (cannot change any output of these models)', '');
    for (const o of eq)
      lines.push(
        `- \`${o.id}\`${o.verdict === 'equivalent-caught' ? ' **(declared equivalent but caught: the claim is wrong)**' : ''} — ${o.title}: ${[...new Set(o.equivalentWhy ?? [])].join('; ')}`,
      );
    lines.push('');
  }
  const unloc = r.mutants.filter((o) => o.verdict === 'caught' && o.localized !== true);
  if (unloc.length) {
    lines.push('## Caught but not localized', '');
    for (const o of unloc) lines.push(`- \`${o.id}\`: ${o.why ?? ''}`);
    lines.push('');
  }
  const alarms = r.mutants.filter((o) => o.verdict === 'false-alarm');
  if (alarms.length) {
    lines.push('## False alarms (controls that failed)', '');
    for (const o of alarms)
      for (const f of o.failing) lines.push(`- \`${o.id}\` × ${f.case}: ${f.status}: ${f.reason}`);
    lines.push('');
  }
  return lines.join('\n');
}
