/**
 * Measurement (not a test) behind docs/error-bounds.md: runs the sweep generator's small
 * configurations on CPU adapters, judges each against the float64 oracle and its error bound
 * (src/sweep/bounds.ts, the adapter's BatchNormalization forms from src/sweep/capabilities.ts), and
 * counts false failures (a correct runtime outside its bound), the worst error/bound over the
 * passes, and how often a planted 1e-4 relative change of the largest output element is caught,
 * per kind. The oracle and bound are computed once per configuration and forms, shared by adapters.
 *
 * Usage: npx tsx scripts/measure-sweep-bounds.ts [--adapters a,b] [--seed S] [--configs N] [--max-cost C]
 */
import { getAdapterEntry } from '../src/adapters/registry';
import {
  batchNormFormsOf,
  BOUND_PROFILES,
  buildSweepCase,
  describeConfig,
  generateConfig,
  judgeAgainstBound,
  oracleWithBound,
  SWEEP_KINDS,
  type OracleBound,
} from '../src/sweep';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

async function main(): Promise<void> {
  const ids = arg(
    'adapters',
    'reference-fp32,onnxruntime-cpu,onnxruntime-cpu-noopt,tfjs-cpu,tfjs-wasm,onnxruntime-web-wasm',
  ).split(',');
  const seed = Number(arg('seed', '11'));
  const configs = Number(arg('configs', '1000'));
  const maxCost = Number(arg('max-cost', '2000'));
  const live = [];
  for (const id of ids) {
    const entry = getAdapterEntry(id);
    const adapter = entry.create();
    const probe = await adapter.probe({ dedicatedProcess: true });
    if (!probe.available) {
      console.log(`${id}: unavailable: ${probe.reason ?? ''}`);
      continue;
    }
    const stats = {
      pass: 0,
      fail: 0,
      unbounded: 0,
      error: 0,
      worst: 0,
      caught: {} as Record<string, [number, number]>,
      failures: [] as string[],
    };
    live.push({ id, adapter, entry, forms: batchNormFormsOf(id), stats });
  }
  const t0 = Date.now();
  for (let i = 0; i < configs; i++) {
    const c = generateConfig(seed, i, SWEEP_KINDS, maxCost);
    const sc = buildSweepCase(c);
    const oracles = new Map<string, OracleBound>();
    for (const a of live) {
      const key = `${a.entry.profile}/${a.forms.variance}/${a.forms.output}`;
      let ob = oracles.get(key);
      if (!ob) {
        ob = oracleWithBound(sc.spec, sc.weights, sc.input, sc.training, BOUND_PROFILES[a.entry.profile], a.forms);
        oracles.set(key, ob);
      }
      let out;
      try {
        await a.adapter.build(sc.spec, sc.weights);
        out = (await a.adapter.run(sc.input, { training: sc.training })).output;
      } catch (err) {
        a.stats.error++;
        a.stats.failures.push(`#${i} ERROR ${describeConfig(c)}: ${String(err).slice(0, 200)}`);
        continue;
      }
      const j = judgeAgainstBound(ob, out);
      a.stats[j.status]++;
      if (j.status === 'fail')
        a.stats.failures.push(`#${i} ${describeConfig(c)}: ${j.reason} worst ${JSON.stringify(j.worst)}`);
      if (j.status !== 'pass') continue;
      a.stats.worst = Math.max(a.stats.worst, j.worstRatio);
      let k = 0;
      for (let q = 1; q < out.data.length; q++) if (Math.abs(out.data[q]) > Math.abs(out.data[k])) k = q;
      if (out.data[k] === 0) continue;
      const d = Float64Array.from(out.data);
      d[k] *= 1 + 1e-4;
      const caught = judgeAgainstBound(ob, { shape: out.shape, data: d }).status === 'fail';
      const kind = c.kind === 'bn' || c.kind === 'block' ? `${c.kind}${c.training ? '-train' : '-infer'}` : c.kind;
      const cell = (a.stats.caught[kind] ??= [0, 0]);
      cell[1]++;
      if (caught) cell[0]++;
      else a.stats.failures.push(`#${i} planted change not caught: ${describeConfig(c)}`);
    }
  }
  for (const a of live) {
    await a.adapter.dispose();
    const s = a.stats;
    const caught = Object.entries(s.caught)
      .map(([k, [x, n]]) => `${k} ${x}/${n}`)
      .join(', ');
    console.log(
      `${a.id} (${a.forms.variance}, ${a.forms.output}): pass ${s.pass} fail ${s.fail} unbounded ${s.unbounded} error ${s.error}; worst error/bound ${s.worst.toFixed(3)}; planted caught: ${caught}`,
    );
    for (const f of s.failures.slice(0, 20)) console.log(`  ${f}`);
  }
  console.log(
    `${configs} configurations (seed ${seed}, ≤ ${maxCost} multiply-accumulates), ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(2);
});
