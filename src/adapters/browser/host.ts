/**
 * The browser host: one headless Chromium per process (started on first use, shared by every
 * browser adapter of the process, closed a moment after the last one lets go, and killed at process
 * exit), one page per adapter, all loaded from a PageServer on 127.0.0.1 (isolation headers, so the
 * pages are crossOriginIsolated).
 *
 * A call into a page (HostPage.call) ends in one of:
 *   - its result;
 *   - an ordinary error thrown by the page code (the page stays usable);
 *   - a BrowserFault: 'crashed' (the renderer or the browser died), 'timeout' (no answer within the
 *     call's limit), 'device-lost' (the page reported a lost GPU device or WebGL context). The page
 *     is then thrown away; the next call opens a fresh one (HostPage.epoch tells the adapter that its
 *     page-side state, e.g. a built model, is gone) and relaunches Chromium if it died.
 * Console messages and page errors are kept per page; the last lines go into every error message.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromiumFlags, findChromium, gpuMode, type GpuMode } from './chromium';
import { litertBundle, pageBundle, tfjsPageBundle } from './bundle';
import { PageServer } from './server';

type Puppeteer = typeof import('puppeteer-core');
type Browser = import('puppeteer-core').Browser;
type Page = import('puppeteer-core').Page;

export type FaultKind = 'crashed' | 'timeout' | 'device-lost';

/** AdapterEntry.processGroup of the browser adapters: the runner runs them in one worker, so one Chromium. */
export const BROWSER_PROCESS_GROUP = 'chromium';

/** A page or browser failure (not an error of the computation itself): the runner's crashed / timeout. */
export class BrowserFault extends Error {
  readonly kind: FaultKind;
  constructor(kind: FaultKind, message: string) {
    super(message);
    this.name = 'BrowserFault';
    this.kind = kind;
  }
}

/** Milliseconds a call may take unless the caller says otherwise (RESNET_CONFORMANCE_BROWSER_TIMEOUT_MS). */
export function defaultCallTimeoutMs(): number {
  const v = process.env.RESNET_CONFORMANCE_BROWSER_TIMEOUT_MS;
  if (v === undefined || v === '') return 600_000;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new Error(`RESNET_CONFORMANCE_BROWSER_TIMEOUT_MS must be a positive number of milliseconds, got '${v}'`);
  return n;
}

const PAGE_LOAD_TIMEOUT_MS = 60_000;
const CLOSE_TIMEOUT_MS = 5_000;
/** How long a page waits for Chromium's start-up tab of its document to show before it opens a tab of its own. */
const START_PAGE_WAIT_MS = 15_000;
/** The browser stays up this long after its last user lets go (consecutive probes share one launch). */
const IDLE_CLOSE_MS = 1_500;
const LOG_LINES = 60;
const CRASH_GRACE_MS = 500;
const TAIL_LINES = 12;

/** A page document: the error hooks, then `modules` as module scripts (run in order, before the load event). */
function pageHtml(modules: readonly string[]): string {
  return `<!doctype html><meta charset="utf-8"><title>resnet-conformance</title>
<script>addEventListener('error', (e) => { globalThis.__rcLoadError = String(e.message || e.error); });
addEventListener('unhandledrejection', (e) => { globalThis.__rcLoadError ??= 'unhandled rejection: ' + String(e.reason && e.reason.message || e.reason); });</script>
${modules.map((m) => `<script type="module" src="${m}"></script>`).join('\n')}`;
}

/**
 * The documents a page can open: index.html (the page code) and tfjs.html, which loads the tfjs driver's module
 * (/page-tfjs.js) with the document, so that Chromium fetches and compiles it while the page loads, as a module
 * script of the document (measured faster than the page's own import() of it); the page code's import() of it
 * then finds it loaded.
 */
export type PageDocument = 'index.html' | 'tfjs.html';

/** `<package root>/<sub>`; the root is found from the package's entry file (some packages export no ./package.json). */
export function packageDist(pkg: string, sub: string): string {
  let dir = path.dirname(require.resolve(pkg));
  while (!fs.existsSync(path.join(dir, 'package.json')) || path.basename(dir) === 'dist') {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find the package root of ${pkg}`);
    dir = up;
  }
  return path.join(dir, sub);
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * puppeteer-core is ESM-only. Node >= 20.19 could require() it, but Jest's module registry cannot
 * (nor any loader it hands out), so it is bundled once to CommonJS with esbuild, cached by version
 * under node_modules/.cache/resnet-conformance/, and required from there (bundling costs only the first time).
 */
function loadPuppeteer(): Puppeteer {
  const pkgDir = packageDist('puppeteer-core', '');
  const version = (JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { version: string })
    .version;
  const cacheDir = path.join(pkgDir, '..', '.cache', 'resnet-conformance');
  const file = path.join(cacheDir, `puppeteer-core-${version}.cjs`);
  if (!fs.existsSync(file)) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const esbuild = require('esbuild') as typeof import('esbuild');
    fs.mkdirSync(cacheDir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    esbuild.buildSync({
      entryPoints: [path.join(pkgDir, 'lib', 'puppeteer', 'puppeteer-core.js')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      outfile: tmp,
      logLevel: 'silent',
      legalComments: 'none',
      // optional native speed-ups of ws; absent is fine
      external: ['bufferutil', 'utf-8-validate'],
    });
    fs.renameSync(tmp, file);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const m = require(file) as { default?: Puppeteer } & Puppeteer;
  return m.default ?? m;
}

export class BrowserHost {
  private static instance: BrowserHost | undefined;
  /** The host of this process. */
  static shared(): BrowserHost {
    BrowserHost.instance ??= new BrowserHost();
    return BrowserHost.instance;
  }

  readonly mode: GpuMode;
  readonly server = new PageServer();
  private users = 0;
  private browser: Promise<Browser> | undefined;
  private idle: NodeJS.Timeout | undefined;
  private readonly pages = new Set<HostPage>();
  /** How many times Chromium was launched by this host (tests check restarts). */
  launches = 0;
  executable: string | undefined;
  version: string | undefined;
  flags: string[] = [];

  private readonly extraFlags: string[];

  /** `extraFlags`: more Chromium flags (tests: --disable-webgpu for the no-adapter case). */
  constructor(opts: { mode?: GpuMode; extraFlags?: string[] } = {}) {
    this.mode = opts.mode ?? gpuMode();
    this.extraFlags = opts.extraFlags ?? [];
  }

  /** Registers a user (an adapter); the browser stays up while there are users. */
  acquire(): void {
    this.users++;
    if (this.idle) clearTimeout(this.idle);
    this.idle = undefined;
  }

  /** A user lets go; with none left the browser closes after a short grace period. */
  release(): void {
    if (this.users === 0) return;
    this.users--;
    if (this.users === 0) {
      this.idle = setTimeout(() => {
        this.idle = undefined;
        if (this.users === 0) void this.close();
      }, IDLE_CLOSE_MS);
      this.idle.unref(); // a process that is done exits now; the exit handler kills Chromium
    }
  }

  /** Whether a Chromium process is (being) started now. */
  get running(): boolean {
    return this.browser !== undefined;
  }

  /**
   * The page Chromium opened at its launch (`document`, loading while Chromium started), until a HostPage of that
   * document takes it (takeStartPage).
   */
  private startPage: { browser: Browser; document: PageDocument } | undefined;

  /** The URL of a document without the blob token (the token goes into the fragment later: HostPage.open). */
  private documentUrl(document: PageDocument): string {
    return `${this.server.origin}/${document}`;
  }

  /**
   * `first`: the document of the page that asked for the browser. Chromium opens it as its start-up page, so the
   * page's renderer start and load overlap Chromium's own start and the bundles' check (its code is held by the
   * server until the bundles are in place); the page that asked then takes it (takeStartPage) instead of opening a
   * new tab and navigating it.
   */
  private async launch(first?: PageDocument): Promise<Browser> {
    const found = findChromium();
    if (!('path' in found)) throw new Error(`${found.reason}; fix: ${found.fix}`);
    await this.server.start();
    this.server.put('index.html', pageHtml(['/page.js']), 'text/html; charset=utf-8');
    this.server.put('tfjs.html', pageHtml(['/page-tfjs.js', '/page.js']), 'text/html; charset=utf-8');
    this.server.put('favicon.ico', '', 'image/x-icon');
    this.server.mount('tfjs-wasm', packageDist('@tensorflow/tfjs-backend-wasm', 'dist'));
    this.server.mount('ort', packageDist('onnxruntime-web', 'dist'));
    // The bundles are made (or checked in their disk cache) while Chromium starts; no page loads before both are
    // in place (getBrowser() resolves after this function).
    const bundles = Promise.all([
      pageBundle(),
      tfjsPageBundle(),
      // LiteRT.js is an optional package: without it /litert.js is a 404 and only the litertjs-* pages fail (they
      // are unavailable before that anyway: their registry entries name the package).
      litertBundle().catch(() => undefined),
    ]);
    bundles.catch(() => undefined); // awaited below; a launch failure must not leave it unhandled
    const placed = bundles.then(([page, tfjs, litert]) => {
      this.server.put('page.js', page, 'text/javascript; charset=utf-8');
      this.server.put('page-tfjs.js', tfjs, 'text/javascript; charset=utf-8');
      if (litert) {
        this.server.put('litert.js', litert, 'text/javascript; charset=utf-8');
        this.server.mount('litert-wasm', packageDist('@litertjs/core', 'wasm'));
      }
    });
    placed.catch(() => undefined); // awaited below
    for (const name of ['page.js', 'page-tfjs.js', 'litert.js']) this.server.hold(name, placed);
    const pp = loadPuppeteer();
    this.flags = chromiumFlags(this.mode, this.extraFlags);
    const launching = pp.launch({
      executablePath: found.path,
      headless: true,
      pipe: true,
      args: first ? [...this.flags, this.documentUrl(first)] : this.flags,
      protocolTimeout: 24 * 3600_000, // calls have their own limits (HostPage.call)
      handleSIGINT: true,
      handleSIGTERM: true,
      handleSIGHUP: true,
    });
    launching.catch(() => undefined); // awaited below, after the bundles
    try {
      await placed;
    } catch (err) {
      await launching.then((b) => b.close()).catch(() => undefined);
      throw err;
    }
    const browser = await launching.catch((err: unknown) => {
      throw new Error(`Chromium (${found.path}) failed to start: ${(err as Error)?.message ?? String(err)}`);
    });
    this.launches++;
    this.executable = found.path;
    this.version = await browser.version();
    const proc = browser.process();
    const kill = (): void => {
      try {
        proc?.kill('SIGKILL');
      } catch {
        /* gone */
      }
    };
    process.once('exit', kill);
    browser.once('disconnected', () => {
      process.removeListener('exit', kill);
      for (const p of this.pages) p.fail(new BrowserFault('crashed', `Chromium exited or disconnected (${p.label})`));
      if (this.browser && this.current === browser) this.browser = undefined;
    });
    this.current = browser;
    this.startPage = first ? { browser, document: first } : undefined;
    return browser;
  }

  /**
   * The page Chromium opened at its launch, once, for the first HostPage of its document in that browser; undefined
   * otherwise, or when the start-up tab is not on that document's URL: that HostPage opens a tab.
   */
  async takeStartPage(browser: Browser, document: PageDocument): Promise<Page | undefined> {
    const s = this.startPage;
    if (!s || s.browser !== browser || s.document !== document) return undefined;
    this.startPage = undefined;
    const url = this.documentUrl(document);
    // On a loaded machine the start-up tab may not be listed yet, or not yet on its URL, when this is asked:
    // wait for it (bounded; then the caller opens a tab of its own).
    const target = await browser
      .waitForTarget((t) => t.type() === 'page' && t.url() === url, { timeout: START_PAGE_WAIT_MS })
      .catch(() => undefined);
    return (await target?.page()) ?? undefined;
  }

  private current: Browser | undefined;

  /**
   * The running browser (launched on demand; relaunched after it died). `first`: the document of the page that
   * asks, opened by Chromium as its start-up page when this call launches it (launch()).
   */
  async getBrowser(first?: PageDocument): Promise<Browser> {
    if (!this.browser) {
      const p = this.launch(first);
      this.browser = p;
      p.catch(() => {
        if (this.browser === p) this.browser = undefined;
      });
    }
    return this.browser;
  }

  /** A page handle for one adapter (the page itself opens on the first call). */
  page(label: string, document: PageDocument = 'index.html'): HostPage {
    const p = new HostPage(this, label, document);
    this.pages.add(p);
    return p;
  }

  /** @internal */
  forget(p: HostPage): void {
    this.pages.delete(p);
  }

  /** Closes every page and the browser (a later call launches a new one). */
  async close(): Promise<void> {
    const b = this.browser;
    this.browser = undefined;
    this.current = undefined;
    this.startPage = undefined;
    if (b) {
      const browser = await b.catch(() => undefined);
      if (browser) {
        const r = await withTimeout(
          browser.close().catch(() => undefined),
          CLOSE_TIMEOUT_MS,
        );
        if (r === 'timeout') browser.process()?.kill('SIGKILL');
      }
    }
    await this.server.close();
  }

  /** Kills Chromium (fault injection: a browser crash). */
  async killBrowser(): Promise<void> {
    const b = await this.browser?.catch(() => undefined);
    b?.process()?.kill('SIGKILL');
  }
}

export interface CallOptions {
  timeoutMs?: number;
}

export class HostPage {
  /** Incremented whenever a fresh page was opened: page-side state of older epochs is gone. */
  epoch = 0;
  private page: Page | undefined;
  private opening: Promise<Page> | undefined;
  private readonly log: string[] = [];
  /** Rejects the call in flight (set while one runs). */
  private abort: ((err: BrowserFault) => void) | undefined;
  /** A fault reported while no call was running: the next call fails with it after the page is reopened. */
  private pendingFault: BrowserFault | undefined;
  private closed = false;

  constructor(
    private readonly host: BrowserHost,
    readonly label: string,
    readonly document: PageDocument = 'index.html',
  ) {}

  /** The last console / page-error lines of this page. */
  logTail(n = TAIL_LINES): string[] {
    return this.log.slice(-n);
  }

  private note(line: string): void {
    this.log.push(line.length > 500 ? `${line.slice(0, 500)}...` : line);
    if (this.log.length > LOG_LINES) this.log.splice(0, this.log.length - LOG_LINES);
  }

  private tail(): string {
    const t = this.logTail();
    return t.length ? `\npage console (last ${t.length} lines):\n  ${t.join('\n  ')}` : '';
  }

  /** A fault of this page: rejects the call in flight and throws the page away. */
  fail(err: BrowserFault): void {
    const page = this.page;
    this.page = undefined;
    this.opening = undefined;
    if (this.abort) this.abort(err);
    else if (!this.closed) this.pendingFault = err;
    if (page)
      void withTimeout(
        page.close({ runBeforeUnload: false }).catch(() => undefined),
        CLOSE_TIMEOUT_MS,
      );
  }

  private async open(): Promise<Page> {
    const browser = await this.host.getBrowser(this.document);
    // The start-up page of a browser launched for this document has been loading meanwhile (BrowserHost.launch).
    const started = await this.host.takeStartPage(browser, this.document);
    const page = started ?? (await browser.newPage());
    page.on('console', (m) => this.note(`[${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => this.note(`[pageerror] ${(e as Error).message ?? String(e)}`));
    page.on('response', (r) => {
      if (r.status() >= 400) this.note(`[http ${r.status()}] ${r.url()}`);
    });
    page.on('requestfailed', (r) => this.note(`[request failed] ${r.url()}: ${r.failure()?.errorText ?? '?'}`));
    page.on('error', (e) => {
      this.note(`[crash] ${(e as Error).message ?? String(e)}`);
      if (this.page === page)
        this.fail(new BrowserFault('crashed', `${this.label}: the page crashed (${(e as Error).message ?? e})`));
    });
    const expose = (): Promise<void> =>
      page.exposeFunction('__rcFault', (kind: string, message: string) => {
        this.note(`[fault] ${kind}: ${message}`);
        if (this.page !== page) return;
        const what = kind === 'webgl-context-lost' ? 'WebGL context lost' : 'GPU device lost';
        this.fail(new BrowserFault('device-lost', `${this.label}: ${what}: ${message}`));
      });
    const url = `${this.host.server.origin}/${this.document}`;
    if (!started) {
      await expose();
      // The blob token travels in the fragment, never sent to the server (./server.ts).
      await page.goto(`${url}#token=${this.host.server.token}`, { waitUntil: 'load', timeout: PAGE_LOAD_TIMEOUT_MS });
    }
    // A start-up page whose load failed shows an error page (another URL): that ends the wait too.
    await page.waitForFunction(
      `globalThis.__rcReady === true || globalThis.__rcLoadError !== undefined || (location.origin + location.pathname !== ${JSON.stringify(url)} && location.href !== 'about:blank')`,
      { timeout: PAGE_LOAD_TIMEOUT_MS },
    );
    const [ready, loadError, at] = (await page.evaluate(
      '[globalThis.__rcReady === true, globalThis.__rcLoadError, location.href]',
    )) as [boolean, unknown, string];
    if (loadError !== undefined && loadError !== null) {
      await page.close().catch(() => undefined);
      throw new Error(`${this.label}: the page code did not load: ${String(loadError)}${this.tail()}`);
    }
    if (!ready) {
      await page.close().catch(() => undefined);
      throw new Error(`${this.label}: the page did not load ${url} (it is at ${at})${this.tail()}`);
    }
    if (started) {
      // Opened without the token (Chromium's command line is readable by every local process): it goes into the
      // fragment now, where the page reads it for each blob request; the page calls __rcFault only during calls.
      await page.evaluate(`history.replaceState(null, '', '#token=${this.host.server.token}')`); // hex: no quoting
      await expose();
    }
    return page;
  }

  /** The live page, opened (again) when needed. */
  async ensure(): Promise<Page> {
    if (this.closed) throw new Error(`${this.label}: page handle used after close()`);
    if (this.page) return this.page;
    if (!this.opening) {
      const o = this.open().then((p) => {
        if (this.opening === o) {
          this.page = p;
          this.epoch++;
        }
        return p;
      });
      this.opening = o;
      o.catch(() => {
        if (this.opening === o) this.opening = undefined;
      });
    }
    return this.opening;
  }

  /** Puts bytes (or their parts, sent one after another) where the page can fetch them once (/blob/<id>). */
  offer(bytes: Uint8Array | readonly Uint8Array[]): string {
    return this.host.server.offer(bytes);
  }

  /** Bytes the page posted. */
  take(id: string): Buffer {
    return this.host.server.take(id);
  }

  /** Runs `globalThis.__rc.call(method, params)` in the page. */
  async call<T>(method: string, params: unknown, opts: CallOptions = {}): Promise<T> {
    const timeoutMs = opts.timeoutMs ?? defaultCallTimeoutMs();
    const pending = this.pendingFault;
    if (pending) {
      this.pendingFault = undefined;
      throw pending;
    }
    const page = await this.ensure();
    if (this.abort)
      throw new Error(`${this.label}: a call is already running in this page (calls into one page do not overlap)`);
    const t0 = Date.now();
    try {
      return await new Promise<T>((resolve, reject) => {
        let done = false;
        const finish = (f: () => void): void => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          this.abort = undefined;
          f();
        };
        const timer = setTimeout(() => {
          const err = new BrowserFault(
            'timeout',
            `${this.label}: '${method}' timed out after ${timeoutMs} ms in the page (the page was closed)${this.tail()}`,
          );
          finish(() => reject(err));
          this.fail(err);
        }, timeoutMs);
        this.abort = (err) =>
          finish(() =>
            reject(
              new BrowserFault(err.kind, `${err.message} during '${method}' after ${Date.now() - t0} ms${this.tail()}`),
            ),
          );
        page
          .evaluate(
            (m: string, p: unknown) =>
              (globalThis as unknown as { __rc: { call(m: string, p: unknown): Promise<unknown> } }).__rc.call(m, p),
            method,
            params as never,
          )
          .then(
            (v) => finish(() => resolve(v as T)),
            (e: unknown) => {
              const msg = (e as Error)?.message ?? String(e);
              const plain = (): void =>
                finish(() => reject(new Error(`${this.label}: '${method}' failed in the page: ${msg}${this.tail()}`)));
              // A dying renderer first fails the evaluation ("Execution context was destroyed", "Target closed"); the
              // crash event comes a moment later and must win, so that the call is reported as crashed.
              if (/context was destroyed|target closed|session closed|crash|detached/i.test(msg))
                setTimeout(plain, CRASH_GRACE_MS);
              else plain();
            },
          );
      });
    } catch (err) {
      if (err instanceof BrowserFault) this.pendingFault = undefined;
      throw err;
    }
  }

  /** Fault injection: crashes this page's renderer (chrome://crash). */
  async injectCrash(): Promise<void> {
    const page = await this.ensure();
    await page.goto('chrome://crash', { timeout: 5_000 }).catch(() => undefined);
  }

  /** Closes the page; the handle cannot be used again. */
  async close(): Promise<void> {
    this.closed = true;
    const page = this.page ?? (await this.opening?.catch(() => undefined));
    this.page = undefined;
    this.opening = undefined;
    this.host.forget(this);
    if (page)
      await withTimeout(
        page.close({ runBeforeUnload: false }).catch(() => undefined),
        CLOSE_TIMEOUT_MS,
      );
  }
}
