/**
 * The local HTTP server the pages load from: 127.0.0.1 on a random port (a secure context), every
 * response with COOP same-origin / COEP require-corp / CORP same-origin so that the page is
 * crossOriginIsolated (SharedArrayBuffer, threaded wasm), `.wasm` as application/wasm.
 *
 * Besides static files (package dist folders, the bundled page code held in memory) it holds binary
 * blobs, the way tensors travel between Node and the page as raw bytes:
 *   GET  /blob/<id>   bytes Node put there (Node -> page), removed once read
 *   POST /blob/<id>   bytes the page sends (page -> Node), kept until Node takes them
 *
 * Any local process can reach the port, and a web page can too by rebinding a DNS name to 127.0.0.1.
 * So (docs/browser.md, "The page server"):
 *   - a request whose Host is not exactly this server's 127.0.0.1:<port> is refused (421): a
 *     rebound name arrives with its own Host;
 *   - a malformed URL (a bad %-escape) is a 400, never an exception in the handler;
 *   - blob requests carry the per-server token (header BLOB_TOKEN_HEADER, 403 without it); the page
 *     gets the token in its URL fragment, which is never sent to any server;
 *   - an upload is at most maxBlobBytes (413) and at most maxPendingBlobs uploads wait for Node at
 *     once (429); an id is never overwritten (409).
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { randomBytes, timingSafeEqual } from 'node:crypto';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.map': 'application/json',
};

export const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** The request header that carries the server's token on /blob/ requests. */
export const BLOB_TOKEN_HEADER = 'x-rc-token';

/** Largest blob a page may POST (ResNet-50 with every capture at batch 8 is well under this). */
export const MAX_BLOB_BYTES = 1 << 30;
/**
 * Most uploads waiting for Node at once. A page posts one blob per call and calls into one page do
 * not overlap; Node takes the blob as soon as the call returns, so a handful of pages (one per
 * browser adapter) never has more than one each waiting.
 */
export const MAX_PENDING_BLOBS = 16;

export interface PageServerOptions {
  maxBlobBytes?: number;
  maxPendingBlobs?: number;
}

export class PageServer {
  /** Per-server secret the page sends with every /blob/ request (hex, 256 bits). */
  readonly token = randomBytes(32).toString('hex');
  private readonly maxBlobBytes: number;
  private readonly maxPendingBlobs: number;
  /** Uploads accepted but not complete yet (they count against maxPendingBlobs). */
  private uploading = new Set<string>();
  private server: http.Server | undefined;
  private readonly mounts = new Map<string, string>();
  private readonly memory = new Map<string, { type: string; body: Buffer | string }>();
  private readonly held = new Map<string, Promise<void>>();
  /** Blobs for the page, as the parts they are sent in (one after another, not concatenated). */
  private readonly outgoing = new Map<string, readonly Uint8Array[]>();
  private readonly incoming = new Map<string, Buffer>();
  origin = '';
  private hostHeader = '';

  constructor(opts: PageServerOptions = {}) {
    this.maxBlobBytes = opts.maxBlobBytes ?? MAX_BLOB_BYTES;
    this.maxPendingBlobs = opts.maxPendingBlobs ?? MAX_PENDING_BLOBS;
  }

  /** Serves the files of directory `dir` under `/<prefix>/`. */
  mount(prefix: string, dir: string): void {
    this.mounts.set(prefix, path.resolve(dir));
  }

  /** Serves `body` at `/<name>`. */
  put(name: string, body: Buffer | string, type: string): void {
    this.memory.set(name, { type, body });
  }

  /**
   * Requests for `/<name>` wait until `until` settles, then get what was put by then (else a 404): a page
   * requested while its code is still being bundled or checked (Chromium opens the first page at its launch).
   */
  hold(name: string, until: Promise<unknown>): void {
    const settled = until.then(
      () => undefined,
      () => undefined,
    );
    this.held.set(name, settled);
    void settled.then(() => {
      if (this.held.get(name) === settled) this.held.delete(name);
    });
  }

  /**
   * Makes `bytes` fetchable once by the page; returns the blob id. A list of parts is served as their
   * concatenation, written one after another from the caller's memory (no copy is made: the parts
   * must not change until the page has read them).
   */
  offer(bytes: Uint8Array | readonly Uint8Array[]): string {
    const id = randomBytes(12).toString('hex');
    this.outgoing.set(id, bytes instanceof Uint8Array ? [bytes] : [...bytes]);
    return id;
  }

  /** Bytes the page POSTed under `id` (removed from the server). */
  take(id: string): Buffer {
    const b = this.incoming.get(id);
    if (!b) throw new Error(`browser host: the page sent no blob '${id}'`);
    this.incoming.delete(id);
    return b;
  }

  /** Forgets blobs (a failed call leaves some behind). */
  drop(ids: Iterable<string>): void {
    for (const id of ids) {
      this.outgoing.delete(id);
      this.incoming.delete(id);
    }
  }

  async start(): Promise<string> {
    if (this.server) return this.origin;
    const server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    server.unref();
    this.server = server;
    this.hostHeader = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.origin = `http://${this.hostHeader}`;
    return this.origin;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    this.outgoing.clear();
    this.incoming.clear();
    this.uploading.clear();
    this.held.clear();
    if (s) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  }

  private send(res: http.ServerResponse, status: number, type: string, body: Buffer | Uint8Array | string): void {
    res.writeHead(status, {
      ...ISOLATION_HEADERS,
      'Content-Type': type,
      'Cache-Control': 'no-store',
      'Content-Length': Buffer.byteLength(body),
    });
    res.end(body);
  }

  private sendParts(res: http.ServerResponse, parts: readonly Uint8Array[]): void {
    let n = 0;
    for (const p of parts) n += p.byteLength;
    res.writeHead(200, {
      ...ISOLATION_HEADERS,
      'Content-Type': 'application/octet-stream',
      'Cache-Control': 'no-store',
      'Content-Length': n,
    });
    for (const p of parts) if (p.byteLength) res.write(p);
    res.end();
  }

  private tokenOk(req: http.IncomingMessage): boolean {
    const t = req.headers[BLOB_TOKEN_HEADER];
    if (typeof t !== 'string' || t.length !== this.token.length) return false;
    return timingSafeEqual(Buffer.from(t), Buffer.from(this.token));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    try {
      this.route(req, res);
    } catch (err) {
      // Never let one request take the server (and every page of the run) down.
      if (!res.headersSent) this.send(res, 500, 'text/plain', `server error: ${(err as Error).message}`);
      else res.destroy();
    }
  }

  private route(req: http.IncomingMessage, res: http.ServerResponse): void {
    const host = req.headers.host ?? '';
    if (host !== this.hostHeader)
      return this.send(res, 421, 'text/plain', `wrong Host '${host}': this server is ${this.hostHeader} only`);
    let p: string;
    try {
      p = decodeURIComponent(new URL(req.url ?? '/', this.origin).pathname);
    } catch {
      return this.send(res, 400, 'text/plain', `bad URL ${JSON.stringify(req.url)}`);
    }
    if (p.startsWith('/blob/')) {
      const id = p.slice('/blob/'.length);
      if (!/^[0-9a-z]{1,64}$/.test(id)) return this.send(res, 400, 'text/plain', `bad blob id '${id}'`);
      if (!this.tokenOk(req)) return this.send(res, 403, 'text/plain', `blob requests need this run's token`);
      if (req.method === 'GET') {
        const parts = this.outgoing.get(id);
        if (!parts) return this.send(res, 404, 'text/plain', `no blob '${id}'`);
        this.outgoing.delete(id);
        return this.sendParts(res, parts);
      }
      if (req.method === 'POST') return this.upload(id, req, res);
      return this.send(res, 405, 'text/plain', 'GET or POST');
    }
    if (req.method !== 'GET') return this.send(res, 405, 'text/plain', 'GET only');
    const name = p.slice(1) || 'index.html';
    const mem = this.memory.get(name);
    if (mem) return this.send(res, 200, mem.type, mem.body);
    const held = this.held.get(name);
    if (held) {
      void held.then(() => this.handle(req, res)); // `hold` removed it first: served or a 404 now
      return;
    }
    const slash = p.indexOf('/', 1);
    const dir = slash > 0 ? this.mounts.get(p.slice(1, slash)) : undefined;
    if (!dir) return this.send(res, 404, 'text/plain', `not found: ${p}`);
    const file = path.resolve(dir, '.' + p.slice(slash));
    if (file !== dir && !file.startsWith(dir + path.sep)) return this.send(res, 403, 'text/plain', 'outside the mount');
    fs.readFile(file, (err, body) => {
      if (err) return this.send(res, 404, 'text/plain', `not found: ${p}`);
      this.send(res, 200, TYPES[path.extname(file)] ?? 'application/octet-stream', body);
    });
  }

  private upload(id: string, req: http.IncomingMessage, res: http.ServerResponse): void {
    // The connection is closed after a refusal: the body that may still be coming is not read.
    const refuse = (status: number, text: string): void => {
      res.setHeader('Connection', 'close');
      this.send(res, status, 'text/plain', text);
    };
    if (this.incoming.has(id) || this.uploading.has(id)) return refuse(409, `blob '${id}' exists already`);
    const waiting = this.incoming.size + this.uploading.size;
    if (waiting >= this.maxPendingBlobs)
      return refuse(429, `${waiting} blobs are waiting for Node already (at most ${this.maxPendingBlobs})`);
    const announced = Number(req.headers['content-length'] ?? 0);
    if (announced > this.maxBlobBytes)
      return refuse(413, `blob '${id}' of ${announced} bytes: at most ${this.maxBlobBytes} bytes`);
    this.uploading.add(id);
    const parts: Buffer[] = [];
    let n = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      n += c.length;
      if (n > this.maxBlobBytes) {
        over = true;
        parts.length = 0;
        this.uploading.delete(id);
        refuse(413, `blob '${id}': more than ${this.maxBlobBytes} bytes`);
        req.destroy();
      } else parts.push(c);
    });
    req.on('end', () => {
      if (over || !this.uploading.delete(id)) return;
      this.incoming.set(id, Buffer.concat(parts, n));
      this.send(res, 200, 'text/plain', 'ok');
    });
    req.on('error', () => undefined);
    req.on('close', () => {
      this.uploading.delete(id);
    });
  }
}
