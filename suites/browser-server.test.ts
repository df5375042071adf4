/**
 * The browser adapters' page server (src/adapters/browser/server.ts) on its own, without Chromium:
 * what any other local process (or a web page that rebinds a DNS name to 127.0.0.1) can send it.
 * A malformed URL is a 400 and the server goes on serving; a Host other than its own
 * 127.0.0.1:<port> is refused; blob uploads need the run's token and are bounded in size and number.
 */
import * as http from 'node:http';
import { PageServer, BLOB_TOKEN_HEADER } from '../src/adapters/browser/server';

interface Reply {
  status: number;
  body: string;
}

/** One raw request: the path is sent as is (no URL normalisation), the Host header as given. */
function request(
  origin: string,
  opts: { method?: string; path: string; host?: string; headers?: Record<string, string>; body?: Buffer },
): Promise<Reply> {
  const u = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: Number(u.port),
        method: opts.method ?? 'GET',
        path: opts.path,
        headers: { Host: opts.host ?? u.host, ...opts.headers },
        agent: false,
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('browser page server (no Chromium needed)', () => {
  let server: PageServer;
  let origin: string;
  beforeEach(async () => {
    server = new PageServer({ maxBlobBytes: 1024, maxPendingBlobs: 2 });
    origin = await server.start();
    server.put('index.html', '<p>ok</p>', 'text/html; charset=utf-8');
  });
  afterEach(async () => {
    await server.close();
  });

  test('a held name waits until its content is put (a page requested while its code is still bundled); else a 404', async () => {
    let release!: () => void;
    const until = new Promise<void>((r) => (release = r));
    server.hold('page.js', until);
    server.hold('missing.js', until);
    let answered = false;
    const page = request(origin, { path: '/page.js' }).then((r) => ((answered = true), r));
    const missing = request(origin, { path: '/missing.js' });
    await new Promise((r) => setTimeout(r, 100));
    expect(answered).toBe(false);
    server.put('page.js', 'globalThis.x = 1;', 'text/javascript');
    release();
    await expect(page).resolves.toEqual({ status: 200, body: 'globalThis.x = 1;' });
    expect((await missing).status).toBe(404);
    // a failed bundle (rejected promise) ends the wait too
    server.hold('other.js', Promise.reject(new Error('bundle failed')));
    expect((await request(origin, { path: '/other.js' })).status).toBe(404);
  });

  test('a malformed escape in the path is a 400, and the server goes on serving', async () => {
    for (const p of ['/%E0%A4%A', '/blob/%E0%A4%A', '/%', '/%zz/x']) {
      const r = await request(origin, { path: p });
      expect(r.status).toBe(400);
      expect(r.body).toMatch(/bad (URL|request)/i);
    }
    const ok = await request(origin, { path: '/index.html' });
    expect(ok.status).toBe(200);
    expect(ok.body).toBe('<p>ok</p>');
  });

  test('a Host other than its own 127.0.0.1:<port> is refused (DNS rebinding)', async () => {
    const port = new URL(origin).port;
    for (const host of ['evil.example', `evil.example:${port}`, `localhost:${port}`, '127.0.0.1', `127.0.0.1:1`]) {
      const r = await request(origin, { path: '/index.html', host });
      expect({ host, status: r.status }).toEqual({ host, status: 421 });
      expect(r.body).toContain(host);
    }
    // blobs too, token or not
    const id = server.offer(new Uint8Array([1, 2, 3]));
    const r = await request(origin, {
      path: `/blob/${id}`,
      host: 'evil.example',
      headers: { [BLOB_TOKEN_HEADER]: server.token },
    });
    expect(r.status).toBe(421);
    expect((await request(origin, { path: '/index.html' })).status).toBe(200);
  });

  test("blob requests need the run's token", async () => {
    const post = (token: string | undefined): Promise<Reply> =>
      request(origin, {
        method: 'POST',
        path: '/blob/abc123',
        headers: token === undefined ? {} : { [BLOB_TOKEN_HEADER]: token },
        body: Buffer.from([9, 8, 7]),
      });
    expect(server.token).toMatch(/^[0-9a-f]{32,}$/);
    expect((await post(undefined)).status).toBe(403);
    expect((await post('0'.repeat(server.token.length))).status).toBe(403);
    expect(() => server.take('abc123')).toThrow(/no blob 'abc123'/);
    const ok = await post(server.token);
    expect(ok.status).toBe(200);
    expect([...server.take('abc123')]).toEqual([9, 8, 7]);
    // GET of an offered blob: the token too
    const id = server.offer(new Uint8Array([5]));
    expect((await request(origin, { path: `/blob/${id}` })).status).toBe(403);
    const got = await request(origin, { path: `/blob/${id}`, headers: { [BLOB_TOKEN_HEADER]: server.token } });
    expect(got.status).toBe(200);
  });

  test('blob uploads are capped in size and in number', async () => {
    const post = (id: string, n: number, headers: Record<string, string> = {}): Promise<Reply> =>
      request(origin, {
        method: 'POST',
        path: `/blob/${id}`,
        headers: { [BLOB_TOKEN_HEADER]: server.token, ...headers },
        body: Buffer.alloc(n, 1),
      });
    // over the size cap: announced by Content-Length
    const big = await post('big', 1025);
    expect(big.status).toBe(413);
    expect(big.body).toMatch(/1025 bytes.*1024/);
    expect(() => server.take('big')).toThrow(/no blob 'big'/);
    // over the size cap: chunked (no Content-Length), counted while it arrives
    const chunked = await request(origin, {
      method: 'POST',
      path: '/blob/chunked',
      headers: { [BLOB_TOKEN_HEADER]: server.token, 'Transfer-Encoding': 'chunked' },
      body: Buffer.alloc(4000, 2),
    }).catch((e: Error) => ({ status: -1, body: e.message }));
    expect([413, -1]).toContain(chunked.status);
    expect(() => server.take('chunked')).toThrow(/no blob 'chunked'/);
    // the size cap itself is fine
    expect((await post('a', 1024)).status).toBe(200);
    expect((await post('b', 1)).status).toBe(200);
    // more blobs waiting than the count cap: refused until Node takes one
    const third = await post('c', 1);
    expect(third.status).toBe(429);
    expect(third.body).toMatch(/2 blobs/);
    expect(server.take('a').length).toBe(1024);
    expect((await post('c', 1)).status).toBe(200);
    // the same id twice is refused (a blob is never overwritten)
    expect((await post('b', 1)).status).toBe(409);
  });
});
