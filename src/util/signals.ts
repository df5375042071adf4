import * as os from 'os';

/** What a fatal signal most plausibly means, for messages about a process that died of it. */
const MEANING: Record<string, string> = {
  SIGSEGV: 'segmentation fault in native code',
  SIGBUS: 'bus error in native code',
  SIGILL: 'illegal instruction (CPU feature missing?)',
  SIGFPE: 'arithmetic exception in native code',
  SIGABRT: 'aborted',
  SIGKILL: 'killed from outside (possibly the kernel out-of-memory killer)',
};

export function signalMeaning(signal: string): string {
  return MEANING[signal] ?? 'signal';
}

/** The signal a child's exit status stands for: Node's `signal`, or a shell's 128+N exit code. */
export function signalOfExit(code: number | null, signal: NodeJS.Signals | string | null): string | null {
  if (signal) return signal;
  if (code !== null && code > 128 && code < 160) {
    const entry = Object.entries(os.constants.signals).find(([, n]) => n === code - 128);
    if (entry) return entry[0];
  }
  return null;
}
