/**
 * A protocol program (docs/adapter-protocol.md, version 1) that starts a grandchild (`sleep 300`,
 * in the program's process group, stdio not shared) and then misbehaves on request, so the suites
 * can check that no process outlives the harness:
 *
 *   node grandchild-program.cjs --pids FILE [--hang-at TYPE] [--exit-at TYPE]
 *
 * It appends "<program pid> <grandchild pid>" to FILE at start. It answers hello, probe, describe,
 * build, paramCount and bye (and exits after bye, the grandchild left running); on the request type
 * named by --hang-at it never answers and no longer exits when stdin ends (a hung program), on
 * --exit-at it exits with code 3. Plain JavaScript: it starts in a few tens of milliseconds.
 */
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');

function arg(name) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const grandchild = spawn('sleep', ['300'], { stdio: 'ignore' });
fs.appendFileSync(arg('--pids'), `${process.pid} ${grandchild.pid}\n`);
const hangAt = arg('--hang-at');
const exitAt = arg('--exit-at');

function send(header, done) {
  const h = Buffer.from(JSON.stringify(header), 'utf8');
  const b = Buffer.alloc(4 + h.length + 8);
  b.writeUInt32LE(h.length, 0);
  h.copy(b, 4);
  b.writeBigUInt64LE(0n, 4 + h.length);
  process.stdout.write(b, done);
}

const ANSWERS = {
  hello: { protocol: 1, name: 'grandchild-program', version: '1' },
  probe: { available: true },
  describe: { runtime: 'none', version: '1', device: 'cpu', precision: 'fp64' },
  build: {},
  paramCount: { total: 0, trainable: 0, nonTrainable: 0 },
};

let hung = false;

function handle(h) {
  if (h.type === hangAt) {
    hung = true;
    setInterval(() => undefined, 1000);
    return;
  }
  if (h.type === exitAt) process.exit(3);
  if (h.type === 'bye') return send({ type: 'bye', id: h.id }, () => process.exit(0));
  const a = ANSWERS[h.type];
  if (a) send({ ...a, type: h.type, id: h.id });
  else send({ type: 'error', id: h.id, message: `grandchild-program: no '${h.type}'` });
}

let buf = Buffer.alloc(0);
process.stdin.on('data', (chunk) => {
  buf = Buffer.concat([buf, chunk]);
  for (;;) {
    if (buf.length < 4) return;
    const hlen = buf.readUInt32LE(0);
    if (buf.length < 4 + hlen + 8) return;
    const plen = Number(buf.readBigUInt64LE(4 + hlen));
    if (buf.length < 4 + hlen + 8 + plen) return;
    const h = JSON.parse(buf.subarray(4, 4 + hlen).toString('utf8'));
    buf = buf.subarray(4 + hlen + 8 + plen);
    handle(h);
  }
});
// The harness gone (stdin closed): exit, as the protocol asks (the grandchild is left running); a
// hung program does not notice.
process.stdin.on('end', () => {
  if (!hung) process.exit(0);
});
