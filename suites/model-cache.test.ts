/**
 * What the runner reuses between cases and between adapter workers, and why it cannot make a false
 * PASS: the built model of a case group (one build per model and weight set, src/runner/execute-case
 * ensureBuilt), the weights the weight cache handed out before (src/init/weight-cache), the
 * run records of checked cache files (src/util/verified-files), and the order the workers start in
 * (src/runner/schedule).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ReferenceAdapter } from '../src/adapters/reference';
import type { Adapter, AdapterEntry, RunOptions, RunResult } from '../src/adapters/types';
import { loadManifest } from '../src/golden/load';
import type { FixtureCase } from '../src/golden/manifest';
import { initModelWeights } from '../src/init';
import { cachedInitModelWeights } from '../src/init/weight-cache';
import { convolutionalBlock } from '../src/model/builders';
import type { ModelSpec, ModelWeights, ParamCount } from '../src/model/types';
import { convKernelToOihw } from '../src/onnx/export';
import { casesByModel, executeCase, type EvaluationContext } from '../src/runner/execute-case';
import { orderByHistory } from '../src/runner/schedule';
import type { Tensor } from '../src/tensor';
import { readStamped, recordVerified, STABLE_MS, VERIFIED_DIR_ENV, verifiedInRun } from '../src/util/verified-files';

const FIXTURES = path.join(__dirname, '..', 'fixtures');
let tmp: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-model-cache-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/**
 * A stateful adapter planted on the reference: `kind` 'bn-update' writes into the BatchNormalization
 * moving means it was built with after every training-mode run (as Keras's training=True call
 * updates them, here in the caller's arrays); 'drift' adds 1e-3 to every output after its first run.
 */
class StatefulAdapter implements Adapter {
  readonly id = 'reference';
  private readonly inner = new ReferenceAdapter({ id: 'reference', precision: 'fp64' });
  private spec: ModelSpec | undefined;
  private weights: ModelWeights | undefined;
  private runs = 0;

  constructor(private readonly kind: 'bn-update' | 'drift') {}

  probe() {
    return this.inner.probe();
  }
  describe() {
    return this.inner.describe();
  }
  async build(spec: ModelSpec, weights: ModelWeights): Promise<void> {
    this.spec = spec;
    this.weights = weights;
    this.runs = 0;
    await this.inner.build(spec, weights);
  }
  async run(input: Tensor, opts: RunOptions): Promise<RunResult> {
    const r = await this.inner.run(input, opts);
    this.runs++;
    if (this.kind === 'drift' && this.runs > 1) {
      const data = Float64Array.from(r.output.data, (v) => v + 1e-3);
      return { ...r, output: { shape: r.output.shape, data } };
    }
    if (this.kind === 'bn-update' && opts.training) {
      for (const list of this.weights!.values())
        for (const w of list) if (w.name === 'moving_mean') for (let i = 0; i < w.data.length; i++) w.data[i] += 0.05;
      await this.inner.build(this.spec!, this.weights!);
    }
    return r;
  }
  paramCount(): Promise<ParamCount> {
    return this.inner.paramCount();
  }
  dispose() {
    return this.inner.dispose();
  }
}

describe('one build per model and weight set', () => {
  const entry = { id: 'reference', profile: 'fp64-reference' } as unknown as AdapterEntry;

  // Small-block groups with an inference case after a training case of the same model.
  function groups(): FixtureCase[][] {
    const manifest = loadManifest(FIXTURES);
    return [...casesByModel(manifest.cases).values()].filter(
      (g) => g.length >= 3 && g[0].model.model !== 'resnet50' && g.some((k) => k.training),
    );
  }

  it.each(['bn-update', 'drift'] as const)(
    'a stateful adapter (%s) never passes a case on the shared build that it fails on a fresh build',
    async (kind) => {
      const manifest = loadManifest(FIXTURES);
      const gs = groups();
      expect(gs.length).toBeGreaterThan(0);
      let sharedNotPass = 0;
      for (const g of gs) {
        // as the runner's worker does: one adapter, one context, the group's cases in turn
        const shared = new StatefulAdapter(kind);
        const ctx: EvaluationContext = { fixturesDir: FIXTURES, manifest, reuseRuns: true };
        for (const [i, k] of g.entries()) {
          const s = await executeCase(shared, entry, k, ctx);
          if (i > 0) expect(s.modelReused).toBe(true);
          // a fresh adapter and context: built for this case alone
          const fresh = await executeCase(new StatefulAdapter(kind), entry, k, {
            fixturesDir: FIXTURES,
            manifest,
            reuseRuns: true,
          });
          if (s.status === 'pass') expect(fresh.status).toBe('pass');
          if (s.status !== 'pass') sharedNotPass++;
          // Updated moving statistics only matter to an inference run after a training run; each such
          // inference case here has the input of an earlier one, whose run (made before the update)
          // it is judged on (runReusedFrom): the verdict of a fresh build.
          if (kind === 'bn-update') expect(s.status).toBe(fresh.status);
        }
      }
      // A state that changes the answer of a run it does make shows as a failure, never hidden.
      if (kind === 'drift') expect(sharedNotPass).toBeGreaterThan(0);
    },
    120_000,
  );

  it('the stateless reference passes the same groups on the shared build', async () => {
    const manifest = loadManifest(FIXTURES);
    for (const g of groups()) {
      const ctx: EvaluationContext = { fixturesDir: FIXTURES, manifest, reuseRuns: true };
      const adapter = new ReferenceAdapter({ id: 'reference', precision: 'fp64' });
      for (const k of g) expect((await executeCase(adapter, entry, k, ctx)).status).toBe('pass');
    }
  }, 120_000);
});

describe('weight cache: the entry handed out before', () => {
  const spec = convolutionalBlock(2, [2, 4, 6], 2, { inputShape: [5, 5, 3] });

  it('is handed out again while unchanged, read again once something wrote into it', () => {
    const dir = path.join(tmp, 'weights');
    const opts = { dir, minParams: 0 };
    const expected = initModelWeights(spec);
    const first = cachedInitModelWeights(spec, opts); // computed and stored
    const a = cachedInitModelWeights(spec, opts); // read from the file
    const b = cachedInitModelWeights(spec, opts); // the same arrays, digest checked
    expect(first.source).toBe('computed');
    expect([a.source, b.source]).toEqual(['cache', 'cache']);
    expect(b.weights).toBe(a.weights);
    // planted: an adapter writes into the weights it was built with
    const kernel = [...b.weights.values()].flat().find((w) => w.name === 'kernel')!;
    kernel.data[0] += 1;
    const c = cachedInitModelWeights(spec, opts);
    expect(c.weights).not.toBe(a.weights);
    expect(c.weights).toEqual(expected);
  });
});

describe('ONNX kernel transpose', () => {
  it('the tiled kernel transpose puts every value where [kh,kw,cin,cout] -> [cout,cin,kh,kw] says', () => {
    for (const [kh, kw, cin, cout] of [
      [3, 2, 37, 70],
      [1, 1, 64, 33],
      [7, 7, 3, 5],
    ]) {
      const k = Float32Array.from({ length: kh * kw * cin * cout }, (_, i) => i);
      const expected = new Float32Array(k.length).fill(-1);
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++)
          for (let i = 0; i < cin; i++)
            for (let o = 0; o < cout; o++)
              expected[((o * cin + i) * kh + y) * kw + x] = k[((y * kw + x) * cin + i) * cout + o];
      expect(Array.from(convKernelToOihw(k, kh, kw, cin, cout))).toEqual(Array.from(expected));
    }
  });
});

describe('worker start order', () => {
  const job = (id: string, group?: string) => ({ entry: { id }, group });

  it('orders a process group by its summed duration and keeps it together', () => {
    const jobs = [job('a'), job('b1', 'browser'), job('c'), job('b2', 'browser')];
    const durations = new Map([
      ['a', 50],
      ['b1', 30],
      ['c', 10],
      ['b2', 40],
    ]);
    const order = orderByHistory(jobs, durations, (j) => j.group).map((j) => j.entry.id);
    expect(order).toEqual(['b1', 'b2', 'a', 'c']); // 70 > 50 > 10
    // without units, each adapter alone (as before)
    expect(orderByHistory(jobs, durations).map((j) => j.entry.id)).toEqual(['a', 'b2', 'b1', 'c']);
    // a group with a member of unknown duration starts first
    durations.delete('b2');
    expect(orderByHistory(jobs, durations, (j) => j.group).map((j) => j.entry.id)).toEqual(['b1', 'b2', 'a', 'c']);
  });
});

describe('run records of checked cache files (src/util/verified-files)', () => {
  let saved: string | undefined;
  let runDir: string;
  beforeEach(() => {
    saved = process.env[VERIFIED_DIR_ENV];
    runDir = fs.mkdtempSync(path.join(tmp, 'run-'));
    process.env[VERIFIED_DIR_ENV] = runDir;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env[VERIFIED_DIR_ENV];
    else process.env[VERIFIED_DIR_ENV] = saved;
  });

  /** A record for `file` in its current state, as the first reader of the run leaves it. */
  const record = (file: string, digest: string) => {
    const read = readStamped(file)!;
    recordVerified(file, read, digest, process.env, read.changedMs + STABLE_MS + 1);
    expect(verifiedInRun(file, read, digest)).toBe(true);
  };
  /** A whole second: set as mtime before a record and again after a change, it leaves the mtime exactly as recorded. */
  const MTIME = 1_700_000_000;
  /** Flips one byte near the end of `file` in place (same size), optionally setting its mtime back to MTIME. */
  const corruptInPlace = (file: string, keepMtime: boolean) => {
    const st = fs.statSync(file);
    const fd = fs.openSync(file, 'r+');
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, st.size - 10);
    b[0] ^= 0xff;
    fs.writeSync(fd, b, 0, 1, st.size - 10);
    fs.closeSync(fd);
    if (keepMtime) fs.utimesSync(file, MTIME, MTIME);
  };

  it('a record is made only in a run, for a file that has not changed for STABLE_MS', () => {
    const file = path.join(tmp, 'stable.bin');
    fs.writeFileSync(file, 'abc');
    const read = readStamped(file)!;
    expect(read.bytes.toString()).toBe('abc');
    recordVerified(file, read, 'd', process.env, read.changedMs + STABLE_MS - 1);
    expect(verifiedInRun(file, read, 'd')).toBe(false); // changed too recently
    recordVerified(file, read, 'd', process.env, read.changedMs + STABLE_MS + 1);
    expect(verifiedInRun(file, read, 'd')).toBe(true);
    expect(verifiedInRun(file, read, 'other digest')).toBe(false);
    expect(verifiedInRun(file, read, 'd', {})).toBe(false); // outside the run
    fs.writeFileSync(file, 'abd'); // same size, rewritten
    expect(verifiedInRun(file, readStamped(file)!, 'd')).toBe(false);
  });

  it('weight cache: a recorded entry changed in place afterwards is checked again and recomputed', () => {
    const spec = convolutionalBlock(2, [2, 4, 6], 2, { inputShape: [5, 5, 3] });
    const dir = path.join(tmp, 'weights-run');
    const opts = { dir, minParams: 0 };
    const expected = initModelWeights(spec);
    expect(cachedInitModelWeights(spec, opts).source).toBe('computed');
    const file = path.join(
      dir,
      fs.readdirSync(dir).find((f) => f.endsWith('.bin'))!,
    );
    const bytes = fs.readFileSync(file);
    const headerLen = bytes.readUInt32LE('RCWEIGHTS3\n'.length);
    const header = JSON.parse(bytes.subarray(15, 15 + headerLen).toString('utf8')) as { checksum: string };
    record(file, header.checksum);
    const hit = cachedInitModelWeights(spec, opts);
    expect(hit.source).toBe('cache');
    expect(hit.weights).toEqual(expected);
    // planted (the mtime moves: with it set back, the arrays handed out before, checked in memory, would be reused)
    corruptInPlace(file, false);
    const again = cachedInitModelWeights(spec, opts);
    expect(again.source).toBe('computed');
    expect(again.weights).toEqual(expected);
  });
});
