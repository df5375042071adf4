/**
 * Known runtime defects, keyed by adapter id: one adapter computes some cases wrong — a bug of that
 * runtime, not a precision class, so it is keyed by adapter and case, not by profile. Each entry makes
 * those cases' tensors an expected divergence for that adapter only (strict, as the profile rows':
 * within the profile's own row everywhere = 'unexpected-match', a failure that says the defect is gone
 * and the entry is stale). Every other adapter of the profile, and every other case of the adapter, is
 * judged by the table as usual. An entry names the first diverging layer (from `diagnose`), the
 * measured error, how to reproduce it without the harness, and the runtime versions it was seen with.
 */

/** One defect of one adapter. */
export interface AdapterDefect {
  /** Fixture case ids (fixtures/manifest.json) it breaks. */
  cases: readonly string[];
  /** The first layer out of budget, as `diagnose` names it. */
  layer: string;
  /** What goes wrong and the measured error. */
  reason: string;
  /** A reproduction outside the harness. */
  reproduce: string;
  /** Runtime versions it was measured with. */
  seenWith: string;
}

/** Adapter id (src/adapters/registry.ts) -> its known defects. */
export const KNOWN_DEFECTS_BY_ADAPTER: Readonly<Record<string, readonly AdapterDefect[]>> = {
  'onnxruntime-web-webgpu': [
    {
      cases: [
        'notebook/convolutional_block/f2-s2/inference',
        'notebook/convolutional_block/f2-s2/training',
        'convolutional_block/f2-s2-X/inference',
        'convolutional_block/f2-s2-X/training',
      ],
      layer: 'conv2d_1',
      reason:
        "ONNX Runtime Web's WebGPU Conv computes only the first output pixel when the input is as large as the kernel and " +
        "the pads are at the bottom/right only (conv2d_1: 2x2 kernel, 'same' = pads 0/1, on a 2x2x2 input, 4 filters); " +
        'the other output pixels are 0. Measured: max |d| 0.86 at conv2d_1 (1.6e7 ULP over its 18-ULP budget), the block ' +
        'output 2.77 abs (inference) / 2.42 (training); every other block shape (also with asymmetric pads) and ResNet-50 pass.',
      reproduce:
        'npx tsx scripts/repro-ort-web-webgpu-conv.ts (one Conv node, exact multiples of 1/4: 7 of 16 shapes wrong on the ' +
        'webgpu EP, 0 on the wasm build); docs/browser.md "onnxruntime-web WebGPU Conv: reproduction"',
      seenWith:
        'onnxruntime-web 1.30.0 and 1.31.1 (the newest on npm, 2026-12-03), graphOptimizationLevel disabled and all, ' +
        'Chromium 156 SwiftShader WebGPU',
    },
  ],
};

/** A known defect with the adapters that show it (the flat view of KNOWN_DEFECTS_BY_ADAPTER). */
export interface KnownDefect extends AdapterDefect {
  /** Adapter ids (src/adapters/registry.ts) that show the defect. */
  adapters: readonly string[];
}

export const KNOWN_DEFECTS: readonly KnownDefect[] = Object.entries(KNOWN_DEFECTS_BY_ADAPTER).flatMap(
  ([adapter, defects]) => defects.map((d) => ({ adapters: [adapter], ...d })),
);

/** The known defect (if any) of an adapter on a case. */
export function knownDefectFor(adapter: string, caseId: string): KnownDefect | undefined {
  const own = Object.prototype.hasOwnProperty.call(KNOWN_DEFECTS_BY_ADAPTER, adapter);
  const d = own ? KNOWN_DEFECTS_BY_ADAPTER[adapter].find((x) => x.cases.includes(caseId)) : undefined;
  return d ? { adapters: [adapter], ...d } : undefined;
}

export function defectReason(d: AdapterDefect, adapter: string): string {
  return `known defect of ${adapter} (src/compare/tolerances/known-defects.ts), first diverging layer ${d.layer}: ${d.reason} Reproduce: ${d.reproduce}. Seen with ${d.seenWith}.`;
}
