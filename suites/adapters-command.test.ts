/**
 * `resnet-conformance adapters` (src/cli/commands/adapters.ts): every adapter with its state; an
 * available one with what it runs on (its describe(): runtime, version, device such as a GPU
 * adapter or WebGL renderer); an unavailable one with the reason and the fix; a describe() that
 * fails is said, not hidden. Fake adapter entries, so nothing is launched.
 */
import { ReferenceAdapter } from '../src/adapters/reference';
import type { AdapterDescription, AdapterEntry } from '../src/adapters/types';
import { adaptersCommand } from '../src/cli/commands/adapters';

class OnDevice extends ReferenceAdapter {
  constructor(private readonly device: string | Error) {
    super({ precision: 'fp64' });
  }
  override async describe(): Promise<AdapterDescription> {
    if (this.device instanceof Error) throw this.device;
    return { ...(await super.describe()), runtime: 'FakeRT', version: '9.8.7', device: this.device };
  }
}

class Missing extends ReferenceAdapter {
  override async probe() {
    return { available: false as const, reason: 'no FakeGPU here', fix: 'install FakeGPU' };
  }
}

const entry = (id: string, create: AdapterEntry['create']): AdapterEntry => ({
  id,
  summary: `summary of ${id}`,
  profile: 'fp32-cpu',
  outOfTheBox: false,
  create,
});

const ENTRIES = [
  entry('fake-gpu', () => new OnDevice('webgpu: acme / rocket, hardware adapter')),
  entry('fake-broken-describe', () => new OnDevice(new Error('adapter info query failed'))),
  entry('fake-missing', () => new Missing({ precision: 'fp64' })),
];

async function output(argv: string[]): Promise<{ code: number; text: string }> {
  const chunks: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
    chunks.push(String(c));
    return true;
  });
  try {
    const code = await adaptersCommand(argv, ENTRIES);
    return { code, text: chunks.join('') };
  } finally {
    spy.mockRestore();
  }
}

test('text: an available adapter with its runtime, version and device; an unavailable one with reason and fix', async () => {
  const { code, text } = await output([]);
  expect(code).toBe(0);
  const lines = text.trimEnd().split('\n');
  expect(lines[0]).toMatch(/^fake-gpu\s+available\s+summary of fake-gpu \[fp32-cpu\]$/);
  expect(lines[1].trim()).toBe('FakeRT 9.8.7 on webgpu: acme / rocket, hardware adapter');
  expect(lines[2]).toMatch(/^fake-broken-describe\s+available/);
  expect(lines[3].trim()).toBe('describe() failed: adapter info query failed');
  expect(lines[4]).toMatch(/^fake-missing\s+unavailable/);
  expect(lines[5].trim()).toBe('reason: no FakeGPU here');
  expect(lines[6].trim()).toBe('fix:    install FakeGPU');
  expect(lines).toHaveLength(7);
});

test('--json: the description of each available adapter; none for an unavailable one', async () => {
  const { code, text } = await output(['--json']);
  expect(code).toBe(0);
  const rows = JSON.parse(text) as {
    id: string;
    available: boolean;
    description?: { device?: string; version?: string; error?: string };
  }[];
  expect(rows.map((r) => [r.id, r.available])).toEqual([
    ['fake-gpu', true],
    ['fake-broken-describe', true],
    ['fake-missing', false],
  ]);
  expect(rows[0].description).toMatchObject({ version: '9.8.7', device: 'webgpu: acme / rocket, hardware adapter' });
  expect(rows[1].description).toEqual({ error: 'adapter info query failed' });
  expect(rows[2].description).toBeUndefined();
});

describe('--adapter-command: checks the program (hello, probe, describe) without a run', () => {
  const tsx = require.resolve('tsx/cjs');
  const program = require('path').join(__dirname, 'helpers', 'external', 'reference-program.ts') as string;
  const command = (fault?: string) =>
    `${process.execPath} --require ${tsx} ${program}${fault ? ` --fault ${fault}` : ''}`;

  test('a working program: only it is listed, with its hello answer and description; exit 0', async () => {
    const { code, text } = await output(['--adapter-command', command(), '--adapter-id', 'mine']);
    expect(code).toBe(0);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^mine\s+available\s+/);
    expect(lines[1].trim()).toBe('hello: reference-fp64-over-protocol 1, protocol 1');
    expect(lines[2].trim()).toMatch(/ on /);
    expect(lines[3]).toBe('check passed: 1 adapter(s) answered hello, probe and describe (nothing was run)');
    expect(text).not.toContain('fake-gpu'); // the registry is not listed
  }, 60_000);

  test('a program that speaks another protocol version, or dies before hello: unavailable with the reason; exit 1', async () => {
    const version = await output(['--adapter-command', command('version'), '--adapter-id', 'v99', '--json']);
    expect(version.code).toBe(1);
    const rows = JSON.parse(version.text) as Array<{ id: string; available: boolean; reason: string; hello?: unknown }>;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: 'v99', available: false });
    expect(rows[0].reason).toMatch(/speaks protocol version 99/);
    const dead = await output(['--adapter-command', command('no-hello'), '--adapter-id', 'dead']);
    expect(dead.code).toBe(1);
    expect(dead.text).toMatch(
      /reason: the program exited \(code 2\) before answering hello; stderr \(last lines\):\nreference-program: refusing to start/,
    );
    expect(dead.text).toContain('check failed: 1 of 1 adapter(s) cannot run');
  }, 60_000);
});
