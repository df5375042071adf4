/**
 * The identity of this machine's CPU as /proc/cpuinfo gives it. Some native runtimes behave
 * differently per CPU family (TensorFlow 2.21's oneDNN convolution dies on AMD family 26; float32
 * training rounds differently per family), so known crashes are probed and cached per CPU identity.
 */
import * as fs from 'fs';
import * as os from 'os';

export interface CpuIdentity {
  vendor: string;
  family: number | null;
  model: number | null;
  stepping: number | null;
  modelName: string;
  /** The instruction-set flags, sorted (they decide which kernels a runtime picks). */
  flags: string[];
}

export function parseCpuinfo(text: string): CpuIdentity {
  const first = text.split(/\n\s*\n/)[0] ?? '';
  const field = (name: string): string => {
    const m = new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(first);
    return m ? m[1].trim() : '';
  };
  const num = (name: string): number | null => {
    const v = field(name);
    return /^\d+$/.test(v) ? Number(v) : null;
  };
  return {
    vendor: field('vendor_id') || 'unknown',
    family: num('cpu family'),
    model: num('model'),
    stepping: num('stepping'),
    modelName: field('model name') || os.cpus()[0]?.model || 'unknown',
    flags: field('flags').split(/\s+/).filter(Boolean).sort(),
  };
}

let cached: CpuIdentity | undefined;

/** This machine's CPU (from /proc/cpuinfo; elsewhere what os.cpus() says, family/model unknown). */
export function cpuIdentity(): CpuIdentity {
  if (!cached) {
    let text = '';
    try {
      text = fs.readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      // not Linux: vendor and family stay unknown
    }
    cached = parseCpuinfo(text);
  }
  return cached;
}

/** "AuthenticAMD AMD EPYC, family 26 model 2" */
export function cpuLabel(c: CpuIdentity = cpuIdentity()): string {
  return `${c.vendor} ${c.modelName}, family ${c.family ?? '?'} model ${c.model ?? '?'}`;
}
