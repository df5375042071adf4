/**
 * One way to choose adapters (src/adapters/select.ts) and the flag tables behind every usage text
 * (src/cli/specs.ts): each command's default, every command going through selectAdapters, the
 * --adapter-module loader's errors, and `--help` listing exactly what each parser accepts.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { adapterPool, registryPool } from '../src/adapters/pool';
import { ADAPTERS } from '../src/adapters/registry';
import {
  ADAPTER_DEFAULTS,
  selectAdapters,
  selectOneAdapter,
  type AdapterCommand,
  type AdapterSelection,
} from '../src/adapters/select';
import type { AdapterEntry } from '../src/adapters/types';
import { synopsis, UsageError, type CommandSpec } from '../src/cli/args';
import { COMMANDS, main } from '../src/cli/main';
import { FAULTY_MODULE, withFaultyModule } from './helpers/cli';
import { adapters as FAULTY_ADAPTERS } from './helpers/faulty-adapter';
import { selectedAdapterIds } from './helpers/selection';

const entry = (id: string, outOfTheBox: boolean): AdapterEntry => ({
  id,
  summary: `fixture ${id}`,
  profile: 'fp32-cpu',
  outOfTheBox,
  create: () => {
    throw new Error('not created in this test');
  },
});
/** A registry fixture: two out-of-the-box adapters and one that needs setup. */
const REGISTRY = [entry('a', true), entry('b', false), entry('c', true)];
const ids = (s: AdapterSelection): string[] => s.entries.map((e) => e.id);

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'adapter-selection-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function moduleFile(name: string, text: string): string {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, text);
  return f;
}

describe('selectAdapters: one default per command', () => {
  const pool = registryPool(REGISTRY);
  const expected: Record<AdapterCommand, string[] | 'usage error'> = {
    run: ['a', 'c'],
    bench: ['a', 'c'],
    classify: ['a', 'b', 'c'],
    evaluate: ['a', 'b', 'c'],
    suites: ['a', 'b', 'c'],
    diagnose: 'usage error',
    forward: 'usage error',
  };

  test.each(Object.keys(ADAPTER_DEFAULTS) as AdapterCommand[])('%s with no flag', (command) => {
    const want = expected[command];
    if (want === 'usage error') {
      expect(() => selectAdapters(command, undefined, pool, '--adapter')).toThrow(
        new UsageError('--adapter is required'),
      );
      return;
    }
    const s = selectAdapters(command, undefined, pool);
    expect([s.command, s.mode, ids(s), [...s.explicit]]).toEqual([command, 'default', want, []]);
  });

  test('every command that chooses adapters has a default with a reason', () => {
    expect(Object.keys(ADAPTER_DEFAULTS).sort()).toEqual([
      'bench',
      'classify',
      'diagnose',
      'evaluate',
      'forward',
      'run',
      'suites',
    ]);
    for (const d of Object.values(ADAPTER_DEFAULTS)) expect(d.why.length).toBeGreaterThan(10);
  });

  test('all, a named list (pool order), unknown ids, one id', () => {
    expect(ids(selectAdapters('run', 'all', pool))).toEqual(['a', 'b', 'c']);
    const named = selectAdapters('bench', ' c, b ', pool);
    expect([named.mode, ids(named), [...named.explicit].sort()]).toEqual(['explicit', ['b', 'c'], ['b', 'c']]);
    expect(() => selectAdapters('run', 'a,x,y', pool)).toThrow(
      new UsageError("--adapters: unknown adapters 'x', 'y'; known adapters: a, b, c"),
    );
    expect(() => selectAdapters('suites', 'z', pool, 'CONFORMANCE_ADAPTERS')).toThrow(
      /^CONFORMANCE_ADAPTERS: unknown adapter 'z'; known adapters: a, b, c$/,
    );
    expect(() => selectAdapters('classify', ',', pool)).toThrow(/comma-separated list/);
    expect(selectOneAdapter('diagnose', 'b', pool).entry.id).toBe('b');
    expect(() => selectOneAdapter('forward', 'a,b', pool)).toThrow(/--adapter takes one adapter id, got 2/);
    expect(() => selectOneAdapter('forward', 'all', pool)).toThrow(/not all/);
  });

  test('the suites read CONFORMANCE_ADAPTERS through it', () => {
    const before = process.env.CONFORMANCE_ADAPTERS;
    try {
      delete process.env.CONFORMANCE_ADAPTERS;
      expect(selectedAdapterIds(REGISTRY)).toEqual(['a', 'b', 'c']);
      process.env.CONFORMANCE_ADAPTERS = 'c,a';
      expect(selectedAdapterIds(REGISTRY)).toEqual(['a', 'c']);
      process.env.CONFORMANCE_ADAPTERS = 'nope';
      expect(() => selectedAdapterIds(REGISTRY)).toThrow(
        /CONFORMANCE_ADAPTERS: unknown adapter 'nope'; known adapters: a, b, c/,
      );
    } finally {
      if (before === undefined) delete process.env.CONFORMANCE_ADAPTERS;
      else process.env.CONFORMANCE_ADAPTERS = before;
    }
  });
});

describe('every command chooses through selectAdapters', () => {
  const outOfTheBox = ADAPTERS.filter((e) => e.outOfTheBox).map((e) => e.id);
  const all = ADAPTERS.map((e) => e.id);
  const load = async (command: string): Promise<(argv: string[]) => Promise<AdapterSelection>> =>
    (
      (await import(`../src/cli/commands/${command}`)) as {
        adapterSelection: (argv: string[]) => Promise<AdapterSelection>;
      }
    ).adapterSelection;

  test.each([
    ['run', outOfTheBox],
    ['bench', outOfTheBox],
    ['classify', all],
    ['evaluate', all],
  ])('%s: the default, a named adapter, and a module', async (command, defaults) => {
    const select = await load(command);
    const d = await select([]);
    expect([d.command, d.mode, ids(d)]).toEqual([command, 'default', defaults]);
    const named = await select(['--adapters', 'reference']);
    expect([named.command, named.mode, ids(named)]).toEqual([command, 'explicit', ['reference']]);
    const withModule = await select(['--adapter-module', FAULTY_MODULE, '--adapters', 'faulty-nan,reference']);
    expect([ids(withModule), withModule.modules]).toEqual([['reference', 'faulty-nan'], [FAULTY_MODULE]]);
    await expect(select(['--adapters', 'faulty-nan'])).rejects.toThrow(
      /unknown adapter 'faulty-nan'; known adapters: reference,/,
    );
  });

  test.each(['diagnose', 'forward'])('%s: one --adapter, through the same function', async (command) => {
    const select = await load(command);
    const s = await select(['--adapter', 'reference-fp32', '--model', 'resnet50']);
    expect([s.command, ids(s)]).toEqual([command, ['reference-fp32']]);
    expect(ids(await select(['--adapter-module', FAULTY_MODULE, '--adapter', 'faulty-values']))).toEqual([
      'faulty-values',
    ]);
    await expect(select([])).rejects.toThrow('--adapter is required');
  });
});

describe('--adapter-module', () => {
  test('the faulty test module joins the pool; the default of run and bench includes every module adapter', async () => {
    const pool = await adapterPool([FAULTY_MODULE, FAULTY_MODULE]);
    expect(pool.entries.map((e) => e.id)).toEqual([...ADAPTERS, ...FAULTY_ADAPTERS].map((e) => e.id));
    expect(pool.modules).toEqual([FAULTY_MODULE]);
    const run = selectAdapters('run', undefined, pool);
    expect(ids(run)).toEqual([...ADAPTERS.filter((e) => e.outOfTheBox), ...FAULTY_ADAPTERS].map((e) => e.id));
  });

  test('a default export of the array is accepted too', async () => {
    const f = moduleFile(
      'default.cjs',
      "module.exports = { default: [{ id: 'ext-1', summary: 's', profile: 'fp32-cpu', outOfTheBox: false, create() { return {}; } }] };",
    );
    expect((await adapterPool([f])).entries.at(-1)?.id).toBe('ext-1');
  });

  test.each([
    ['missing.cjs', null, /--adapter-module .*missing\.cjs: no such file/],
    ['wrong.txt', 'x', /wrong\.txt: expected a \.js\/\.cjs\/\.mjs\/\.ts/],
    ['noexport.cjs', 'module.exports = { other: 1 };', /noexport\.cjs: exports no adapters/],
    ['throws.cjs', "throw new Error('broken on load');", /throws\.cjs: cannot load it: broken on load/],
    [
      'badentry.cjs',
      "module.exports = { adapters: [{ id: 'x', summary: 's', profile: 'fp8', outOfTheBox: true, create() {} }] };",
      /badentry\.cjs: adapters\[0\] \('x'\): profile must be one of/,
    ],
    [
      'nocreate.cjs',
      "module.exports = { adapters: [{ id: 'y', summary: 's', profile: 'fp32-cpu', outOfTheBox: true }] };",
      /adapters\[0\] \('y'\): create must be a function/,
    ],
    [
      'dup.cjs',
      "module.exports = { adapters: [{ id: 'reference', summary: 's', profile: 'fp32-cpu', outOfTheBox: true, create() {} }] };",
      /dup\.cjs: adapter id 'reference' is already defined by the registry/,
    ],
  ])('%s: a UsageError naming the file', async (name, text, msg) => {
    const f = text === null ? path.join(tmp, name) : moduleFile(name, text);
    await expect(adapterPool([f])).rejects.toThrow(UsageError);
    await expect(adapterPool([f])).rejects.toThrow(msg);
  });

  test('two modules defining one id: the second is named with the first', async () => {
    const one = moduleFile(
      'one.cjs',
      "module.exports = { adapters: [{ id: 'same', summary: 's', profile: 'fp32-cpu', outOfTheBox: true, create() {} }] };",
    );
    const two = moduleFile(
      'two.cjs',
      "module.exports = { adapters: [{ id: 'same', summary: 's', profile: 'fp32-cpu', outOfTheBox: true, create() {} }] };",
    );
    await expect(adapterPool([one, two])).rejects.toThrow(
      `--adapter-module ${two}: adapter id 'same' is already defined by ${one}`,
    );
  });

  test('the CLI test helper adds the faulty module only where a test names a faulty adapter', () => {
    expect(withFaultyModule(['run', '--adapters', 'reference'])).toEqual(['run', '--adapters', 'reference']);
    expect(withFaultyModule(['run', '--adapters', 'reference,faulty-nan'])).toEqual([
      'run',
      '--adapter-module',
      FAULTY_MODULE,
      '--adapters',
      'reference,faulty-nan',
    ]);
  });
});

describe('usage text comes from the flag tables', () => {
  const flagsIn = (text: string): string[] => [...new Set(text.match(/--[a-z][a-z0-9-]*/g) ?? [])].sort();
  /** Each parser's own list of accepted flags, from its error on an unknown one. */
  async function acceptedFlags(command: string, sub: string): Promise<string[]> {
    const writes: string[] = [];
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
      writes.push(String(s));
      return true;
    });
    let message = '';
    try {
      const argv = [...(sub ? [sub] : []), ...(command === 'init' ? ['zeros'] : []), '--zz-not-a-flag'];
      const code = await COMMANDS[command].load()(argv);
      message = writes.join('');
      expect(code).toBe(2);
    } catch (err) {
      message = (err as Error).message;
    } finally {
      spy.mockRestore();
    }
    const m = /unknown option --zz-not-a-flag \(expected one of ([^)]*)\)/.exec(message);
    if (!m) throw new Error(`${command} ${sub}: no unknown-option error in: ${message}`);
    return m[1].split(', ').sort();
  }
  const tableFlags = (spec: CommandSpec): string[] => spec.flags.map((f) => `--${f.name}`).sort();

  const cases: [string, string, CommandSpec][] = Object.entries(COMMANDS).flatMap(([name, c]) =>
    c.spec.subcommands
      ? c.spec.subcommands.map((s): [string, string, CommandSpec] => [name, s.name.split(' ')[1], s])
      : [[name, '', c.spec] as [string, string, CommandSpec]],
  );

  test.each(cases.filter(([, , s]) => s.flags.length > 0))(
    '%s %s: the parser accepts exactly the flags its usage shows',
    async (command, sub, spec) => {
      // What follows `[-- ` belongs to another program (the generator, the conformance run).
      const usageFlags = flagsIn(
        synopsis(spec)
          .map((l) => l.replace(/\[-- .*$/, ''))
          .join('\n'),
      );
      expect(usageFlags).toEqual(tableFlags(spec));
      expect(await acceptedFlags(command, sub)).toEqual(usageFlags);
    },
  );

  test('--help lists every command, every fixtures subcommand and every bench mode', async () => {
    const out: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
      out.push(String(s));
      return true;
    });
    try {
      expect(await main(['--help'])).toBe(0);
    } finally {
      spy.mockRestore();
    }
    const text = out.join('');
    for (const name of [
      'summary',
      'init',
      'forward',
      'adapters',
      'export-onnx',
      'export-cases',
      'judge',
      'diagnose',
      'run',
      'report',
      'compare',
      'merge',
      'fixtures',
      'classify',
      'evaluate',
      'import-notebook',
      'explain',
      'bench',
      'mutate',
      'sweep',
    ]) {
      expect(text).toMatch(new RegExp(`^  resnet-conformance ${name}( |$)`, 'm'));
    }
    for (const sub of ['verify', 'generate', 'check', 'materialize'])
      expect(text).toContain(`resnet-conformance fixtures ${sub}`);
    for (const mode of ['--compare', '--noise', '--harness'])
      expect(text).toContain(`resnet-conformance bench ${mode}`);
    expect(Object.keys(COMMANDS).length).toBe(20);
  });
});
