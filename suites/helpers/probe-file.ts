import * as path from 'path';

/** Where Jest's global setup records which adapters can run here (read by describeEachAdapter). */
export const PROBE_FILE = path.join(__dirname, '..', '..', '.tmp', 'adapter-probes.json');

export interface ProbedAdapter {
  id: string;
  profile: string;
  available: boolean;
  reason?: string;
  fix?: string;
  /** Id of a known native crash of the runtime on this CPU (src/adapters/known-crashes.ts): not run here. */
  knownCrash?: string;
}
