/**
 * The local HTTP server the pages load from: 127.0.0.1 on a random port (a secure context), every
 * response with COOP same-origin / COEP require-corp / CORP same-origin so that the page is
 * crossOriginIsolated (SharedArrayBuffer, threaded wasm), `.wasm` as application/wasm.
 *
 * Besides static files (package dist folders, the bundled page code held in memory) it holds binary
 * blobs, the way tensors travel between Node and the page as raw bytes:
 *   GET  /blob/<id>   bytes Node put there (Node -> page), removed once read
 *   POST /blob/<id>   bytes the page sends (page -> Node), kept until Node takes them
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';

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

/** Largest blob a page may POST (ResNet-50 with every capture at batch 8 is well under this). */
const MAX_UPLOAD = 1 << 30;

export class PageServer {
  private server: http.Server | undefined;
  private readonly mounts = new Map<string, string>();
  private readonly memory = new Map<string, { type: string; body: Buffer | string }>();
  private readonly outgoing = new Map<string, Uint8Array>();
  private readonly incoming = new Map<string, Buffer>();
  origin = '';

  /** Serves the files of directory `dir` under `/<prefix>/`. */
  mount(prefix: string, dir: string): void {
    this.mounts.set(prefix, path.resolve(dir));
  }

  /** Serves `body` at `/<name>`. */
  put(name: string, body: Buffer | string, type: string): void {
    this.memory.set(name, { type, body });
  }

  /** Makes `bytes` fetchable once by the page; returns the blob id. */
  offer(bytes: Uint8Array): string {
    const id = randomBytes(12).toString('hex');
    this.outgoing.set(id, bytes);
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
    this.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.origin;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    this.outgoing.clear();
    this.incoming.clear();
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

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const p = decodeURIComponent(url.pathname);
    if (p.startsWith('/blob/')) {
      const id = p.slice('/blob/'.length);
      if (!/^[0-9a-z]{1,64}$/.test(id)) return this.send(res, 400, 'text/plain', `bad blob id '${id}'`);
      if (req.method === 'GET') {
        const b = this.outgoing.get(id);
        if (!b) return this.send(res, 404, 'text/plain', `no blob '${id}'`);
        this.outgoing.delete(id);
        return this.send(res, 200, 'application/octet-stream', b);
      }
      if (req.method === 'POST') {
        const parts: Buffer[] = [];
        let n = 0;
        req.on('data', (c: Buffer) => {
          n += c.length;
          if (n > MAX_UPLOAD) req.destroy(new Error('blob too large'));
          else parts.push(c);
        });
        req.on('end', () => {
          this.incoming.set(id, Buffer.concat(parts, n));
          this.send(res, 200, 'text/plain', 'ok');
        });
        req.on('error', () => undefined);
        return;
      }
      return this.send(res, 405, 'text/plain', 'GET or POST');
    }
    if (req.method !== 'GET') return this.send(res, 405, 'text/plain', 'GET only');
    const mem = this.memory.get(p.slice(1) || 'index.html');
    if (mem) return this.send(res, 200, mem.type, mem.body);
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
}
