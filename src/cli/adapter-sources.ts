/**
 * `--adapter-module` and `--adapter-command` (with `--adapter-id`, `--adapter-profile`,
 * `--adapter-timeout`): what a command names besides the registry, as src/adapters/pool.ts's
 * AdapterSources. The same for run, bench, classify, evaluate, diagnose and forward.
 *
 * `--adapter-command` is repeatable. Each companion flag is either absent or given once per
 * `--adapter-command`, the k-th value going with the k-th command (any other count is a usage
 * error): `--adapter-command 'python3 a.py' --adapter-id a --adapter-command 'python3 b.py' --adapter-id b`.
 */
import type { AdapterCommandSource, AdapterSources } from '../adapters/pool';
import type { PrecisionProfile } from '../adapters/types';
import { DEFAULT_TIMEOUT_MS } from '../adapters/external/command';
import { list, UsageError, type ParsedArgs } from './args';

const COMPANIONS = ['adapter-id', 'adapter-profile', 'adapter-timeout'] as const;

/**
 * The sources of a command's flags. `budgetS`: the command's own time limit for one adapter (run's
 * and bench's --timeout): an `--adapter-timeout` must be below it, and without one each request of
 * the program may take half of it (at most the host's 300 s), so that a hung request is the
 * program's 'timeout' and the adapter's other cases still run.
 */
export function adapterSourcesFromFlags(p: ParsedArgs, budgetS?: number): AdapterSources {
  const commands = list(p, 'adapter-command');
  for (const c of COMPANIONS) {
    const n = list(p, c).length;
    if (n === 0 || n === commands.length) continue;
    throw new UsageError(
      commands.length === 0
        ? `--${c} belongs to an --adapter-command (none given)`
        : `--${c} given ${n} time${n > 1 ? 's' : ''} for ${commands.length} --adapter-command; give it once per --adapter-command (the k-th with the k-th), or not at all`,
    );
  }
  const ids = list(p, 'adapter-id');
  const profiles = list(p, 'adapter-profile');
  const timeouts = list(p, 'adapter-timeout');
  const sources: AdapterCommandSource[] = commands.map((command, k) => {
    const s: AdapterCommandSource = { command };
    if (ids.length) s.id = ids[k];
    if (profiles.length) {
      const prof = profiles[k];
      if (!['fp64-reference', 'fp32-cpu', 'tf32-gpu'].includes(prof)) {
        throw new UsageError(`--adapter-profile must be fp64-reference, fp32-cpu or tf32-gpu, got '${prof}'`);
      }
      s.profile = prof as PrecisionProfile;
    }
    if (timeouts.length) {
      const t = Number(timeouts[k]);
      if (!Number.isFinite(t) || t <= 0)
        throw new UsageError(`--adapter-timeout must be a positive number of seconds, got '${timeouts[k]}'`);
      if (budgetS !== undefined && t >= budgetS) {
        throw new UsageError(
          `--adapter-timeout ${timeouts[k]} must be below --timeout ${budgetS} (the adapter's whole budget), so that a hung request is reported as the program's timeout and the other cases still run`,
        );
      }
      s.timeoutMs = t * 1000;
    } else if (budgetS !== undefined) {
      s.timeoutMs = Math.min(DEFAULT_TIMEOUT_MS, (budgetS * 1000) / 2);
    }
    return s;
  });
  return { modules: list(p, 'adapter-module'), commands: sources };
}
