/**
 * The README's adapter table against the registry (src/adapters/registry.ts): every registered
 * adapter has a row, every id a row names is registered, and no id appears twice. A new adapter
 * without a README row, or a row left behind by a removed or renamed adapter, fails here.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ADAPTERS } from '../src/adapters/registry';

const README = path.join(__dirname, '..', 'README.md');

/** The ids in the first column of the table headed `| adapter | ...` (each in backticks). */
function readmeAdapterIds(markdown: string): string[] {
  const lines = markdown.split('\n');
  const header = lines.findIndex((l) => /^\|\s*adapter\s*\|/.test(l));
  if (header < 0) throw new Error('README.md: no table headed "| adapter |"');
  const ids: string[] = [];
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break;
    const first = line.split('|')[1];
    for (const m of first.matchAll(/`([^`]+)`/g)) ids.push(m[1]);
  }
  return ids;
}

function tableProblems(markdown: string, registered: readonly string[]): string[] {
  const ids = readmeAdapterIds(markdown);
  const problems: string[] = [];
  for (const id of registered) if (!ids.includes(id)) problems.push(`no README row for adapter '${id}'`);
  for (const id of new Set(ids)) {
    if (!registered.includes(id)) problems.push(`README row names '${id}', which is not in the registry`);
    if (ids.filter((x) => x === id).length > 1) problems.push(`README names '${id}' in more than one row`);
  }
  return problems;
}

describe("README's adapter table", () => {
  const readme = fs.readFileSync(README, 'utf8');
  const registered = ADAPTERS.map((a) => a.id);

  test('names every registered adapter once and nothing else', () => {
    expect(tableProblems(readme, registered)).toEqual([]);
    expect(readmeAdapterIds(readme).sort()).toEqual([...registered].sort());
  });

  test('catches an adapter without a row, a stale row and a duplicate', () => {
    const withoutTorch = readme.replace(/^\| `torch`.*\n/m, '');
    expect(withoutTorch).not.toBe(readme);
    expect(tableProblems(withoutTorch, registered)).toEqual(
      expect.arrayContaining(["no README row for adapter 'torch'", "no README row for adapter 'torch-compile'"]),
    );
    expect(tableProblems(readme, [...registered, 'new-runtime'])).toEqual(["no README row for adapter 'new-runtime'"]);
    expect(
      tableProblems(
        readme,
        registered.filter((id) => id !== 'jax'),
      ),
    ).toEqual(["README row names 'jax', which is not in the registry"]);
    const twice = readme.replace(/^(\| `keras` .*\n)/m, '$1$1');
    expect(tableProblems(twice, registered)).toEqual(["README names 'keras' in more than one row"]);
  });
});
