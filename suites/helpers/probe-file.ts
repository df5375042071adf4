import * as path from 'path';

/** Where Jest's global setup records which adapters can run here (read by describeEachAdapter). */
export const PROBE_FILE = path.join(__dirname, '..', '..', '.tmp', 'adapter-probes.json');

export interface ProbedAdapter {
  id: string;
  profile: string;
  available: boolean;
  reason?: string;
  fix?: string;
}
