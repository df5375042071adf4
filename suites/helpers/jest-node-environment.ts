/**
 * Jest's node environment runs each suite in its own vm context, whose typed-array constructors
 * differ from Node's. Native addons (onnxruntime-node) and packages loaded through Node's own
 * realm check `data instanceof Float32Array` against the outer realm's constructor, so arrays made
 * in a suite fail those checks. Jest already shares ArrayBuffer and Uint8Array with the outer
 * realm; this environment shares the other typed arrays (and DataView) the same way.
 */
import { TestEnvironment } from 'jest-environment-node';

const SHARED = [
  'Int8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
  'DataView',
  'SharedArrayBuffer',
] as const;

class OuterRealmTypedArraysEnvironment extends TestEnvironment {
  override async setup(): Promise<void> {
    await super.setup();
    const outer = globalThis as unknown as Record<string, unknown>;
    const inner = this.global as unknown as Record<string, unknown>;
    for (const name of SHARED) {
      if (outer[name] !== undefined) inner[name] = outer[name];
    }
  }
}

// Jest loads a test environment from the module's export itself (module.exports), hence `export =`.
export = OuterRealmTypedArraysEnvironment;
