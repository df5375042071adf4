/**
 * Case packs (docs/case-packs.md): `export-cases`, the Python client's `play` through the PyTorch
 * adapter class (clients/python/examples/torch_adapter.py, the same class `run --adapters torch`
 * drives over stdio), and `judge` give the statuses and the measured errors of `run` on the same
 * adapter — compared check by check, max abs/rel/ULP errors identical. Then planted defects in the
 * recorded outputs (a changed value, a damaged .npy, a missing file) each fail their own case,
 * named, never a pass; a damaged or foreign pack is a configuration error naming the file.
 * Block cases only (seconds on the CPU); needs .venv-torch (npm run setup:torch).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { CaseResult, ConformanceReport } from '../src/report/schema';
import { readNpy, writeNpy } from '../src/tensor/npy';
import { REPO, runCli } from './helpers/cli';

const TORCH_PYTHON = path.join(REPO, '.venv-torch', 'bin', 'python');
const TORCH_FIX = 'npm run setup:torch (node scripts/setup-torch.mjs: creates .venv-torch with torch 2.13.0+cpu)';
const CLIENT = path.join(REPO, 'clients', 'python', 'resnet_conformance_adapter.py');
const TORCH_ADAPTER = path.join(REPO, 'clients', 'python', 'examples', 'torch_adapter.py');
// One model of each block, inference and training, a 'resume' and a plain output among them.
const CASES = 'identity_block/f2-constant1-X/*,identity_block/f2-random_uniform-5x5/*,convolutional_block/f2-s2-5x5/*';

const readReport = (dir: string): ConformanceReport =>
  JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')) as ConformanceReport;

const byCase = (r: ConformanceReport): Map<string, CaseResult> => new Map(r.results.map((x) => [x.case, x]));

function play(args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(TORCH_PYTHON, args, { cwd: REPO, encoding: 'utf8', timeout: 300_000 });
  return { status: r.status, stderr: r.stderr };
}

if (!fs.existsSync(TORCH_PYTHON)) {
  describe('case packs through the PyTorch adapter', () => {
    test.skip(`unavailable: ${TORCH_PYTHON} does not exist (fix: ${TORCH_FIX})`, () => undefined);
  });
} else {
  describe('case packs through the PyTorch adapter', () => {
    let tmp: string;
    const pack = () => path.join(tmp, 'pack');
    const outs = () => path.join(tmp, 'outs');
    beforeAll(async () => {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'case-pack-'));
      const e = await runCli(['export-cases', '--cases', CASES, '--adapter', 'torch', '--out', pack()]);
      expect(e.stderr).toBe('');
      expect(e.code).toBe(0);
      // Any Adapter subclass through the client's own command line (the class's keyword arguments as JSON).
      const kwargs = { mkldnn: true, memory_format: 'contiguous', compile_: false, device: 'cpu', tf32: false };
      const p = play([
        CLIENT,
        'play',
        '--pack',
        pack(),
        '--adapter',
        `${TORCH_ADAPTER}:TorchAdapter`,
        '--kwargs',
        JSON.stringify(kwargs),
        '--name',
        'torch',
        '--out',
        outs(),
      ]);
      expect(p.stderr).toContain('5 of 5 case(s) have outputs');
      expect(p.status).toBe(0);
    }, 300_000);
    afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

    test('the pack is self-contained: manifest, README, client, spec JSON, weights and inputs with their sha256', () => {
      const m = JSON.parse(fs.readFileSync(path.join(pack(), 'manifest.json'), 'utf8'));
      expect(m.cases.map((c: { id: string }) => c.id)).toHaveLength(5);
      expect(m.judge).toEqual({ adapterId: 'torch', profile: 'fp32-cpu' });
      for (const f of [
        'README.md',
        'client/resnet_conformance_adapter.py',
        m.models[0].spec.file,
        m.models[0].weights[0].file,
        m.cases[0].input.file,
      ])
        expect(fs.existsSync(path.join(pack(), f))).toBe(true);
      // The expected values stay with the judge.
      expect(fs.readdirSync(pack()).sort()).toEqual(['README.md', 'client', 'inputs', 'manifest.json', 'models']);
    });

    test('judge gives the statuses and the measured errors of `run --adapters torch`, check by check', async () => {
      const j = await runCli(['judge', '--pack', pack(), '--outputs', outs(), '--out', path.join(tmp, 'judged')]);
      const r = await runCli(['run', '--adapters', 'torch', '--cases', CASES, '--out', path.join(tmp, 'run')]);
      expect(r.code).toBe(0);
      expect(j.code).toBe(r.code);
      const judged = readReport(path.join(tmp, 'judged'));
      const run = readReport(path.join(tmp, 'run'));
      for (const f of ['report.md', 'report.html', 'junit.xml'])
        expect(fs.existsSync(path.join(tmp, 'judged', f))).toBe(true);
      expect(judged.adapters[0]).toMatchObject({ id: 'torch', profile: 'fp32-cpu', available: true });
      expect(judged.adapters[0].description?.runtime).toBe(run.adapters[0].description?.runtime);
      const jr = byCase(judged);
      expect([...jr.keys()].sort()).toEqual(run.results.map((x) => x.case).sort());
      for (const x of run.results) {
        const y = jr.get(x.case)!;
        expect({ case: x.case, status: y.status }).toEqual({ case: x.case, status: x.status });
        expect(y.tolerance).toEqual(x.tolerance);
        const strip = (c: CaseResult) =>
          c.checks.map((k) => ({ name: k.name, pass: k.pass, metrics: k.metrics, actualValue: k.actualValue }));
        expect(strip(y)).toEqual(strip(x));
        expect(y.checks.some((k) => k.metrics !== null)).toBe(true);
      }
    }, 300_000);

    test('planted defects in the outputs fail their own cases, named; the other cases still pass', async () => {
      const bad = path.join(tmp, 'outs-bad');
      fs.cpSync(outs(), bad, { recursive: true });
      const m = JSON.parse(fs.readFileSync(path.join(pack(), 'manifest.json'), 'utf8'));
      const file = (id: string) => path.join(bad, m.cases.find((c: { id: string }) => c.id === id).outputs.output);
      // 1. a changed value (a valid .npy): fail-numeric, diagnosed per layer from the recorded all-layer run
      // (planted in the recorded all-layer run too, as a runtime whose last layer is wrong would record it)
      const changed = 'identity_block/f2-random_uniform-5x5/inference';
      const kc = m.cases.find((x: { id: string }) => x.id === changed);
      const outputLayer = JSON.parse(
        fs.readFileSync(path.join(pack(), m.models.find((x: { id: string }) => x.id === kc.model).spec.file), 'utf8'),
      ).output;
      for (const f of [
        file(changed),
        path.join(bad, kc.diagnosis.output),
        path.join(bad, kc.diagnosis.intermediates[outputLayer]),
      ]) {
        const t = readNpy(f);
        t.data[5] += 0.01;
        writeNpy(f, t);
      }
      // 2. a damaged .npy (truncated)
      const damaged = 'convolutional_block/f2-s2-5x5/training';
      fs.writeFileSync(file(damaged), fs.readFileSync(file(damaged)).subarray(0, 90));
      // 3. a missing output
      const missing = 'identity_block/f2-constant1-X/inference';
      fs.rmSync(file(missing));

      // 4. an output far larger than any tensor of the model: refused before it is read
      const huge = 'identity_block/f2-random_uniform-5x5/training';
      writeNpy(file(huge), { shape: [1_000_000], data: new Float32Array(1_000_000) });
      const j = await runCli(['judge', '--pack', pack(), '--outputs', bad, '--out', path.join(tmp, 'judged-bad')]);
      expect(j.code).toBe(1);
      const res = byCase(readReport(path.join(tmp, 'judged-bad')));
      const c = res.get(changed)!;
      expect(c.status).toBe('fail-numeric');
      expect(c.reason).toMatch(/^output: 1\/\d+ mismatches/);
      expect(c.metrics!.maxAbs).toBeGreaterThan(0.009);
      expect(c.diagnosis?.firstDiverging?.name).toBe(outputLayer);
      expect(c.diagnosisError).toBeUndefined();
      expect(res.get(damaged)).toMatchObject({ status: 'error' });
      expect(res.get(damaged)!.reason).toContain(file(damaged));
      expect(res.get(damaged)!.reason).toMatch(/malformed \.npy/);
      expect(res.get(missing)).toMatchObject({ status: 'error' });
      expect(res.get(missing)!.reason).toContain(`${file(missing)} is missing`);
      expect(res.get(huge)).toMatchObject({ status: 'error' });
      expect(res.get(huge)!.reason).toMatch(/4000128 bytes, more than any tensor of this model can take/);
      const others = [...res.values()].filter((x) => ![changed, damaged, missing, huge].includes(x.case));
      expect(others).toHaveLength(1);
      for (const x of others) expect(x.status).toBe('pass');
      expect(j.stdout).toContain(`torch × ${damaged}: error`);
    }, 300_000);

    test('a run error recorded on the device is an error with its message; replaying removes stale outputs', async () => {
      const again = path.join(tmp, 'outs-again');
      fs.cpSync(outs(), again, { recursive: true });
      const id = 'convolutional_block/f2-s2-5x5/inference';
      const m = JSON.parse(fs.readFileSync(path.join(pack(), 'manifest.json'), 'utf8'));
      const k = m.cases.find((c: { id: string }) => c.id === id);
      fs.writeFileSync(path.join(again, k.outputs.error), 'RuntimeError: CUDA out of memory');
      let j = await runCli([
        'judge',
        '--pack',
        pack(),
        '--outputs',
        again,
        '--cases',
        id,
        '--out',
        path.join(tmp, 'j1'),
      ]);
      expect(j.code).toBe(1);
      expect(byCase(readReport(path.join(tmp, 'j1'))).get(id)!.reason).toContain('RuntimeError: CUDA out of memory');
      // The program's own --play replays the case: the error file (and every old output of the case) is gone.
      const p = play([
        TORCH_ADAPTER,
        '--device',
        'cpu',
        '--name',
        'torch',
        '--play',
        pack(),
        '--out',
        again,
        '--cases',
        id,
      ]);
      expect(p.status).toBe(0);
      expect(fs.existsSync(path.join(again, k.outputs.error))).toBe(false);
      j = await runCli(['judge', '--pack', pack(), '--outputs', again, '--cases', id, '--out', path.join(tmp, 'j2')]);
      expect(j.code).toBe(0);
    }, 300_000);

    test('a damaged pack manifest, a pack of other fixtures, a missing outputs folder: exit 2 naming it', async () => {
      const broken = path.join(tmp, 'pack-broken');
      fs.cpSync(pack(), broken, { recursive: true });
      const mf = path.join(broken, 'manifest.json');
      const text = fs.readFileSync(mf, 'utf8');
      fs.writeFileSync(mf, text.slice(0, 200));
      let j = await runCli(['judge', '--pack', broken, '--outputs', outs(), '--out', path.join(tmp, 'j3')]);
      expect(j.code).toBe(2);
      expect(j.stderr).toContain(`${mf}: bad JSON`);
      const m = JSON.parse(text);
      m.cases[1].fixtureSha256 = '0'.repeat(64);
      fs.writeFileSync(mf, JSON.stringify(m));
      j = await runCli(['judge', '--pack', broken, '--outputs', outs(), '--out', path.join(tmp, 'j4')]);
      expect(j.code).toBe(2);
      expect(j.stderr).toContain(`pack case '${m.cases[1].id}' differs from the fixture case`);
      j = await runCli([
        'judge',
        '--pack',
        pack(),
        '--outputs',
        path.join(tmp, 'nowhere'),
        '--out',
        path.join(tmp, 'j5'),
      ]);
      expect(j.code).toBe(2);
      expect(j.stderr).toContain(`${path.join(tmp, 'nowhere')}: no such folder`);
      // The device side checks what it received: a damaged weight file is named before anything runs.
      const m2 = JSON.parse(text);
      const w = path.join(broken, m2.models[0].weights[0].file);
      fs.writeFileSync(mf, text);
      fs.writeFileSync(w, Buffer.concat([fs.readFileSync(w), Buffer.from([0])]));
      const p = play([
        CLIENT,
        'play',
        '--pack',
        broken,
        '--adapter',
        `${TORCH_ADAPTER}:TorchAdapter`,
        '--kwargs',
        '{"mkldnn": true, "memory_format": "contiguous", "compile_": false, "device": "cpu", "tf32": false}',
        '--out',
        path.join(tmp, 'o6'),
      ]);
      expect(p.status).toBe(2);
      expect(p.stderr).toContain(`${m2.models[0].weights[0].file} has sha256`);
    }, 300_000);
  });
}
