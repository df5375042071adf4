/**
 * Folder-level import graph of src/, for suites/architecture.test.ts.
 *
 * Test tooling, not shipped code: it reads the source text itself (no TypeScript API, no new dependency),
 * finds every relative module specifier (import / export ... from / side-effect import / require() /
 * import() including `typeof import()`), resolves it to a file and groups files by their top-level folder
 * under src/ (a file directly in src/ is its own node, named by its file name). The graph is what the
 * architecture rule is about: folders may depend on each other only one way.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** One import statement that crosses from one node to another. */
export interface ImportEdge {
  from: string;
  to: string;
  /** File holding the import, relative to the scanned root, with `/` separators. */
  file: string;
  /** The specifier as written. */
  specifier: string;
}

/** Node name -> the edges leaving it (only edges between different nodes). */
export type FolderGraph = Map<string, ImportEdge[]>;

/**
 * Source text with comments blanked out, strings and template literal text kept as they are, so a
 * commented-out import or an import-like sentence in a comment is not read as a dependency.
 */
export function stripComments(src: string): string {
  let out = '';
  let i = 0;
  // Stack of open template literals: each entry counts the `{` opened inside its current `${ }`.
  const templates: number[] = [];
  const n = src.length;
  while (i < n) {
    const c = src[i];
    const next = src[i + 1];
    const inTemplateText = templates.length > 0 && templates[templates.length - 1] === -1;
    if (inTemplateText) {
      if (c === '\\') {
        out += src.slice(i, i + 2);
        i += 2;
      } else if (c === '`') {
        templates.pop();
        out += c;
        i++;
      } else if (c === '$' && next === '{') {
        templates[templates.length - 1] = 0;
        out += '${';
        i += 2;
      } else {
        out += c;
        i++;
      }
      continue;
    }
    if (c === '/' && next === '/') {
      while (i < n && src[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && next === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      out += src.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
      continue;
    }
    if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < n && src[j] !== c && src[j] !== '\n') j += src[j] === '\\' ? 2 : 1;
      out += src.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (c === '`') {
      templates.push(-1);
      out += c;
      i++;
      continue;
    }
    if (templates.length > 0) {
      const top = templates.length - 1;
      if (c === '{') templates[top]++;
      else if (c === '}') {
        if (templates[top] === 0) templates[top] = -1;
        else templates[top]--;
      }
    }
    out += c;
    i++;
  }
  return out;
}

const SPECIFIER_PATTERNS: RegExp[] = [
  // import x from '...'; import { a } from '...'; export { a } from '...'; export * from '...'; import type ...
  // (at the start of a statement, so an import-like sentence inside a string is not read)
  /(?:^|[\n;}])[ \t]*(?:import|export)\s[^'";]*?\bfrom\s*(['"])([^'"\n]+)\1/g,
  // import '...'; (side effect)
  /(?:^|[\n;}])[ \t]*import\s*(['"])([^'"\n]+)\1/g,
  // require('...'), import('...'), typeof import('...')
  /\b(?:require|import)\s*\(\s*(['"`])([^'"`\n$]+)\1\s*\)/g,
];

/** Every module specifier in a source text (comments ignored), in order of appearance, duplicates kept. */
export function moduleSpecifiers(src: string): string[] {
  const text = stripComments(src);
  const found: Array<{ at: number; spec: string }> = [];
  for (const pattern of SPECIFIER_PATTERNS) {
    for (const m of text.matchAll(pattern)) found.push({ at: m.index ?? 0, spec: m[2] });
  }
  return found.sort((a, b) => a.at - b.at).map((f) => f.spec);
}

const EXTENSIONS = ['.ts', '.tsx', '.js', '.cjs', '.mjs', '.json'];

/** Resolves a relative specifier from `fromFile` to an existing file, or undefined. */
export function resolveRelative(
  fromFile: string,
  specifier: string,
  exists: (p: string) => boolean,
): string | undefined {
  const base = path.resolve(path.dirname(fromFile), specifier);
  const candidates = [base, ...EXTENSIONS.map((e) => base + e), ...EXTENSIONS.map((e) => path.join(base, 'index' + e))];
  // A written `.js` extension may name a `.ts` source (nodenext style).
  if (/\.[cm]?js$/.test(base)) candidates.push(base.replace(/\.([cm]?)js$/, '.$1ts'));
  return candidates.find((p) => exists(p));
}

/** The node a file belongs to: its top-level folder under root, or the file's own name for a root file. */
export function nodeOf(root: string, file: string): string {
  const rel = path.relative(root, file).split(path.sep);
  return rel[0];
}

/** Lists the .ts files under a folder, recursively, sorted. */
export function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...tsFiles(p));
    else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(p);
  }
  return out.sort();
}

/** An import that names a relative path no file answers to (a broken import, or a moved file). */
export interface UnresolvedImport {
  file: string;
  specifier: string;
}

/** Reads the folder graph of every .ts file under root. Imports leaving root are ignored. */
export function readFolderGraph(root: string): { graph: FolderGraph; unresolved: UnresolvedImport[] } {
  const graph: FolderGraph = new Map();
  const unresolved: UnresolvedImport[] = [];
  const exists = (p: string) => fs.existsSync(p) && fs.statSync(p).isFile();
  for (const file of tsFiles(root)) {
    const from = nodeOf(root, file);
    if (!graph.has(from)) graph.set(from, []);
    const rel = path.relative(root, file).split(path.sep).join('/');
    for (const specifier of moduleSpecifiers(fs.readFileSync(file, 'utf8'))) {
      if (!specifier.startsWith('.')) continue;
      const target = resolveRelative(file, specifier, exists);
      if (target === undefined) {
        unresolved.push({ file: rel, specifier });
        continue;
      }
      if (path.relative(root, target).startsWith('..')) continue;
      const to = nodeOf(root, target);
      if (to !== from) graph.get(from)!.push({ from, to, file: rel, specifier });
    }
  }
  return { graph, unresolved };
}

/** Builds a graph from plain edges (for testing the detector on a synthetic graph). */
export function graphFromEdges(edges: Array<[from: string, to: string, file?: string]>): FolderGraph {
  const graph: FolderGraph = new Map();
  for (const [from, to, file] of edges) {
    if (!graph.has(from)) graph.set(from, []);
    if (!graph.has(to)) graph.set(to, []);
    if (from !== to) graph.get(from)!.push({ from, to, file: file ?? `${from}/x.ts`, specifier: `../${to}/x` });
  }
  return graph;
}

/** One folder-level cycle: the nodes in order (first repeated at the end) and the imports forming each step. */
export interface Cycle {
  nodes: string[];
  steps: Array<{ from: string; to: string; files: string[] }>;
}

/** Strongly connected components with more than one node (Tarjan), each sorted, the list sorted. */
function cyclicComponents(graph: FolderGraph): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of new Set((graph.get(v) ?? []).map((e) => e.to))) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) out.push(comp.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) visit(v);
  return out.sort((a, b) => a[0].localeCompare(b[0]));
}

/** The shortest path from `start` back to `start` within `within` (breadth first). */
function shortestCycleThrough(graph: FolderGraph, start: string, within: Set<string>): string[] {
  const prev = new Map<string, string>();
  const queue = [start];
  const seen = new Set<string>([start]);
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of [...new Set((graph.get(v) ?? []).map((e) => e.to))].sort()) {
      if (!within.has(w)) continue;
      if (w === start) {
        const nodes = [start];
        for (let u = v; u !== start; u = prev.get(u)!) nodes.splice(1, 0, u);
        return [...nodes, start];
      }
      if (!seen.has(w)) {
        seen.add(w);
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

/**
 * The folder-level cycles: for every strongly connected group of folders, the shortest cycle through
 * each of its folders (duplicates dropped), with the files holding each import along it. Empty when the
 * graph is acyclic.
 */
export function findCycles(graph: FolderGraph): Cycle[] {
  const out: Cycle[] = [];
  const seen = new Set<string>();
  for (const comp of cyclicComponents(graph)) {
    for (const start of comp) {
      const nodes = shortestCycleThrough(graph, start, new Set(comp));
      // The same cycle found from another folder on it: compare by its rotation starting at the smallest name.
      const ring = nodes.slice(0, -1);
      const k = ring.indexOf([...ring].sort()[0]);
      const key = [...ring.slice(k), ...ring.slice(0, k)].join('>');
      if (seen.has(key)) continue;
      seen.add(key);
      const steps = nodes.slice(0, -1).map((from, i) => {
        const to = nodes[i + 1];
        const files = [...new Set((graph.get(from) ?? []).filter((e) => e.to === to).map((e) => e.file))].sort();
        return { from, to, files };
      });
      out.push({ nodes, steps });
    }
  }
  return out;
}

/** A readable description of a cycle: `a -> b -> a` and, per step, the files that import. */
export function describeCycle(cycle: Cycle): string {
  const lines = [cycle.nodes.join(' -> ')];
  for (const s of cycle.steps) lines.push(`  ${s.from} -> ${s.to}: ${s.files.join(', ')}`);
  return lines.join('\n');
}

/** An import that goes against the declared order (to a node at or above the importer), or from/to an undeclared node. */
export interface OrderViolation {
  edge: ImportEdge;
  reason: string;
}

/**
 * Checks every edge against a layer order, lowest first: a node may import only nodes listed before it.
 * Nodes not in the order are violations too (a new folder must be placed in the order).
 */
export function orderViolations(graph: FolderGraph, order: readonly string[]): OrderViolation[] {
  const rank = new Map(order.map((n, i) => [n, i]));
  const out: OrderViolation[] = [];
  for (const [from, edges] of [...graph.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    if (!rank.has(from)) {
      out.push({ edge: { from, to: from, file: from, specifier: '' }, reason: `${from} is not in the declared order` });
      continue;
    }
    for (const edge of edges) {
      if (!rank.has(edge.to)) out.push({ edge, reason: `${edge.to} is not in the declared order` });
      else if (rank.get(edge.to)! >= rank.get(from)!)
        out.push({ edge, reason: `${from} imports ${edge.to}, which is not below it` });
    }
  }
  return out;
}

/** Groups order violations into one readable line per (from, to) pair, naming the files. */
export function describeViolations(violations: OrderViolation[]): string {
  const byPair = new Map<string, Set<string>>();
  for (const v of violations) {
    const key = v.reason;
    if (!byPair.has(key)) byPair.set(key, new Set());
    byPair.get(key)!.add(v.edge.file);
  }
  return [...byPair.entries()].map(([reason, files]) => `${reason}: ${[...files].sort().join(', ')}`).join('\n');
}
