/**
 * `CONFORMANCE_ADAPTERS=a,b npm test` limits the adapter-parameterized suites to those adapters.
 * Unknown ids are an error naming the known ones.
 */
export function selectedAdapterIds(known: string[]): string[] {
  const env = process.env.CONFORMANCE_ADAPTERS;
  if (!env || env === 'all') return known;
  const ids = env.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = ids.filter((id) => !known.includes(id));
  if (bad.length) throw new Error(`CONFORMANCE_ADAPTERS names unknown adapter(s) ${bad.join(', ')}; known: ${known.join(', ')}`);
  return ids;
}
