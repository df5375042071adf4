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
