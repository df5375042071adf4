import { registryPool } from '../../src/adapters/modules';
import { ADAPTERS } from '../../src/adapters/registry';
import { selectAdapters } from '../../src/adapters/select';
import type { AdapterEntry } from '../../src/adapters/types';

/**
 * `CONFORMANCE_ADAPTERS=a,b npm test` limits the adapter-parameterized suites to those adapters
 * (unset, empty or `all`: every registered adapter, ADAPTER_DEFAULTS.suites). Chosen by the same
 * function as the commands' --adapters: unknown ids are an error naming the known ones.
 */
export function selectedAdapterIds(registry: readonly AdapterEntry[] = ADAPTERS): string[] {
  const env = process.env.CONFORMANCE_ADAPTERS;
  return selectAdapters('suites', env ? env : undefined, registryPool(registry), 'CONFORMANCE_ADAPTERS').entries.map((e) => e.id);
}
