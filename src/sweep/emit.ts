/**
 * Writes each failure group's standalone reproduction (./repro.ts) under the report directory and,
 * optionally, runs it once to record whether it reproduces on its own (exit 1).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { getAdapterEntry } from '../adapters/registry';
import type { PrecisionProfile } from '../adapters/types';
import { BOUND_PROFILES, oracleWithBound } from './bounds';
import { buildSweepCase } from './configs';
import { writeRepro } from './repro';
import type { SweepReport } from './sweep';

export interface EmitOptions {
  /** Run each script (bounded by timeoutS) and record its exit code. */
  verify: boolean;
  timeoutS?: number;
  profileOf?: (id: string) => PrecisionProfile;
  progress?: (line: string) => void;
}

export function emitRepros(report: SweepReport, outDir: string, opts: EmitOptions): void {
  const profileOf = opts.profileOf ?? ((id: string) => getAdapterEntry(id).profile);
  report.groups.forEach((g, i) => {
    const dir = path.join(outDir, 'repro', `${String(i + 1).padStart(2, '0')}-${g.adapter}-${g.minimal.kind}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'config.json'),
      `${JSON.stringify({ adapter: g.adapter, config: g.minimal }, null, 2)}\n`,
    );
    const sc = buildSweepCase(g.minimal);
    const ob = oracleWithBound(sc.spec, sc.weights, sc.input, sc.training, BOUND_PROFILES[profileOf(g.adapter)]);
    const r = writeRepro(g.adapter, g.minimal, sc, ob);
    if ('none' in r) {
      g.noRepro = r.none;
      return;
    }
    const file = path.join(dir, r.repro.file);
    fs.writeFileSync(file, r.repro.text);
    g.repro = path.relative(outDir, file);
    if (!opts.verify) return;
    const res = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: (opts.timeoutS ?? 120) * 1000 });
    const tail = `${res.stdout ?? ''}${res.stderr ?? ''}`.trim().split('\n').slice(-3).join(' | ').slice(0, 400);
    g.reproVerified = { exitCode: res.status, tail };
    opts.progress?.(`${g.adapter}: ${g.repro}: exit ${res.status} ${res.status === 1 ? '(reproduces)' : ''}`);
  });
}
