/**
 * Deterministic work splitting for `--shard i/n`: the (adapter, case) pairs in registry order ×
 * manifest order are dealt round-robin, pair k going to shard (k mod n) + 1. The same adapters,
 * cases and n always give the same split, every pair lands in exactly one shard, and shard sizes
 * differ by at most one.
 */
import { UsageError } from '../util/errors';

export interface Shard {
  /** 1-based. */
  index: number;
  count: number;
}

export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) throw new UsageError(`--shard must look like i/n (e.g. 1/4), got '${text}'`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index < 1 || index > count) throw new UsageError(`--shard ${text}: need 1 <= i <= n`);
  return { index, count };
}

export interface Pair {
  adapter: string;
  case: string;
}

export function allPairs(adapters: readonly string[], cases: readonly string[]): Pair[] {
  const out: Pair[] = [];
  for (const a of adapters) for (const c of cases) out.push({ adapter: a, case: c });
  return out;
}

export function shardPairs(pairs: readonly Pair[], shard: Shard | null): Pair[] {
  if (!shard || shard.count === 1) return [...pairs];
  return pairs.filter((_, k) => k % shard.count === shard.index - 1);
}
