/**
 * Resident-set-size high-water marks of the current process.
 *
 * On Linux the peak (VmHWM in /proc/self/status) can be reset by writing "5" to
 * /proc/self/clear_refs, so each phase (build, batch 1, batch 8, ...) gets its own peak even though
 * they share one process. Elsewhere, or where the reset is refused, the process-lifetime peak
 * (process.resourceUsage().maxRSS) is reported and marked as cumulative.
 */
import * as fs from 'fs';

export interface RssSample {
  /** Peak resident set size in MiB since the last reset (or since process start when cumulative). */
  peakMiB: number;
  /** Current resident set size in MiB. */
  currentMiB: number;
  /** True when the peak covers the whole process lifetime (reset unavailable). */
  cumulative: boolean;
}

const KIB_PER_MIB = 1024;

function readStatusKiB(field: string): number | null {
  try {
    const m = new RegExp(`^${field}:\\s*(\\d+)\\s*kB`, 'm').exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

let resetWorks: boolean | null = null;

/** Resets the peak RSS (Linux); returns false when this platform cannot. */
export function resetPeakRss(): boolean {
  if (resetWorks === false) return false;
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
    resetWorks = readStatusKiB('VmHWM') !== null;
  } catch {
    resetWorks = false;
  }
  return resetWorks;
}

export function sampleRss(): RssSample {
  const currentMiB = process.memoryUsage().rss / 2 ** 20;
  const hwm = resetWorks ? readStatusKiB('VmHWM') : null;
  if (hwm !== null) return { peakMiB: hwm / KIB_PER_MIB, currentMiB, cumulative: false };
  // resourceUsage().maxRSS is in KiB on every platform Node supports.
  return { peakMiB: process.resourceUsage().maxRSS / KIB_PER_MIB, currentMiB, cumulative: true };
}
