/**
 * The HTML report in a real headless Chromium (Debian's `chromium` package): the DOM after the inline
 * script ran holds the adapter × case matrix, the chart and the details; a screenshot renders. The
 * JUnit XML goes through Chromium's XML parser too. Without Chromium every test here is reported as
 * skipped, with the install command.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { renderAll } from '../src/report/render';
import { writeReportDir } from '../src/report/write';
import { sampleReport } from './helpers/sample-report';

const INSTALL = 'apt-get update && apt-get install -y chromium';

function findChromium(): string | null {
  const candidates = [process.env.CHROMIUM_BIN, 'chromium', 'chromium-browser', 'google-chrome'].filter(
    (c): c is string => Boolean(c),
  );
  for (const c of candidates) {
    try {
      const p = execFileSync('sh', ['-c', `command -v "${c}"`], { encoding: 'utf8' }).trim();
      if (p) return p;
    } catch {
      /* not this one */
    }
  }
  return null;
}

const chromium = findChromium();

function headless(args: string[]): { stdout: string; status: number | null; stderr: string } {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-chromium-profile-'));
  try {
    const r = spawnSync(
      chromium!,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-dev-shm-usage',
        `--user-data-dir=${profile}`,
        ...args,
      ],
      { encoding: 'utf8', timeout: 90_000, maxBuffer: 64 * 1024 * 1024 },
    );
    return { stdout: r.stdout, status: r.status, stderr: r.stderr };
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

if (!chromium) {
  describe('HTML report in headless Chromium', () => {
    test.skip(`chromium is not installed — install it with: ${INSTALL}`, () => undefined);
  });
} else {
  describe('HTML report in headless Chromium', () => {
    let dir: string;
    let dom: string;

    beforeAll(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-chromium-'));
      const r = sampleReport();
      writeReportDir(dir, r.runId, r.schemaVersion, renderAll(r));
      const res = headless(['--dump-dom', `file://${path.join(dir, 'report.html')}`]);
      if (res.status !== 0)
        throw new Error(`chromium --dump-dom exited with ${res.status}: ${res.stderr.slice(-2000)}`);
      dom = res.stdout;
    }, 120_000);

    afterAll(() => {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    test('the inline script ran and counted the matrix rows', () => {
      expect(dom).toMatch(/<html[^>]*data-ready="matrix-rows:3"/);
    });

    test('the matrix renders: one row per case, one cell per adapter with its status', () => {
      const table = /<table id="matrix">([\s\S]*?)<\/table>/.exec(dom)![1];
      const rows = [...table.matchAll(/<tr class="case-row[^"]*" data-case="([^"]+)">([\s\S]*?)<\/tr>/g)];
      expect(rows.map((m) => m[1])).toEqual(['resnet50/b1', 'block/inference', 'block/training']);
      const statusesOf = (html: string) => [...html.matchAll(/data-status="([^"]+)"/g)].map((m) => m[1]);
      expect(rows.map((m) => statusesOf(m[2]))).toEqual([
        ['pass', 'fail-numeric', 'timeout'],
        ['regressed', 'error', 'skipped'],
        ['fail-shape', 'crashed', 'unavailable'],
      ]);
      // Every row is visible (all filters on).
      expect(rows.every((m) => !/class="case-row hidden"/.test(m[0]))).toBe(true);
    });

    test('the chart and the per-result details are in the DOM', () => {
      const svg = /<svg[\s\S]*?<\/svg>/.exec(dom)![0];
      expect(svg.match(/<polyline/g)).toHaveLength(2);
      expect(svg).toContain('stage2_block1_conv');
      expect(dom.match(/<details class="result"/g)).toHaveLength(9);
    });

    test('a screenshot renders', () => {
      const png = path.join(dir, 'shot.png');
      const res = headless([
        '--window-size=1280,1600',
        `--screenshot=${png}`,
        `file://${path.join(dir, 'report.html')}`,
      ]);
      expect(res.status).toBe(0);
      const bytes = fs.readFileSync(png);
      expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
      expect(bytes.length).toBeGreaterThan(20_000);
    }, 120_000);

    test('fits a 1400 px window without horizontal scrolling, every result opened, long unbroken text included', () => {
      const r = sampleReport();
      const long = `/very/long/path/${'without-any-space-'.repeat(25)}/fixtures`;
      r.fixtures.manifest = `${long}/manifest.json`;
      r.parts[0].options.cases = 'x'.repeat(300);
      r.results[0].checks[0].name = `boundary:${'stage'.repeat(60)}`;
      const wide = path.join(dir, 'wide.html');
      // Opened as a reader would, then measured: the page's scroll width at a 1400 px window.
      const measure =
        "<script>document.querySelectorAll('details').forEach(function (d) { d.open = true; });" +
        "document.body.setAttribute('data-scroll-width', String(document.documentElement.scrollWidth));</script>";
      fs.writeFileSync(wide, renderAll(r)['report.html'].replace('</body>', `${measure}</body>`));
      const res = headless(['--window-size=1400,900', '--dump-dom', `file://${wide}`]);
      expect(res.status).toBe(0);
      const w = Number(/data-scroll-width="(\d+)"/.exec(res.stdout)?.[1]);
      expect(w).toBeGreaterThan(0);
      expect(w).toBeLessThanOrEqual(1400);
    }, 120_000);

    test('Chromium parses junit.xml without XML errors', () => {
      const res = headless(['--dump-dom', `file://${path.join(dir, 'junit.xml')}`]);
      expect(res.status).toBe(0);
      expect(res.stdout).not.toMatch(/This page contains the following errors|parsererror/);
      expect(res.stdout).toMatch(/testsuite/);
    }, 120_000);
  });
}
