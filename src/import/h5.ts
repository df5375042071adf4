/**
 * HDF5 reading through h5wasm (the HDF5 C library compiled to WebAssembly; npm `h5wasm`).
 *
 * h5wasm ships ES modules only ("import" export conditions), which a CommonJS package cannot
 * `require`, and a dynamic `import()` is unavailable inside Jest without --experimental-vm-modules.
 * Its package also ships a self-contained IIFE bundle (dist/iife/h5wasm.js: the same library with the
 * wasm binary inlined, no Node-specific imports), which is what this module evaluates. Files are
 * written into h5wasm's in-memory file system (MEMFS), opened read-only, and removed on close.
 *
 * The HDF5 library prints its error stack ("HDF5-DIAG: ...") on stderr; those lines are captured
 * here instead and the useful ones ("truncated file: eof = ...", "file signature not found") are
 * put into the error messages.
 */
import * as fs from 'fs';
import * as path from 'path';

/** The part of the h5wasm API used here (see node_modules/h5wasm/src/hdf5_hl.d.ts). */
interface H5Attribute {
  value: unknown;
  shape: number[] | null;
}
interface H5Object {
  type: string;
  path?: string;
  attrs: Record<string, H5Attribute>;
}
interface H5GroupObject extends H5Object {
  keys(): string[];
  get(name: string): H5Object | null;
}
interface H5DatasetObject extends H5Object {
  shape: number[] | null;
  metadata: { type: number; size: number; signed: boolean; littleEndian: boolean; vlen: boolean };
  value: unknown;
}
interface H5FileObject extends H5GroupObject {
  close(): number;
  file_id: bigint | number;
}
interface H5Wasm {
  ready: Promise<unknown>;
  File: new (filename: string, mode: string) => H5FileObject;
  FS: { writeFile(path: string, data: Uint8Array): void; unlink(path: string): void };
}

const BUNDLE = path.join('node_modules', 'h5wasm', 'dist', 'iife', 'h5wasm.js');
/** HDF5 type classes (H5T_class_t) as h5wasm reports them in metadata.type. */
const H5T_INTEGER = 0;
const H5T_FLOAT = 1;

const diagnostics: string[] = [];
let loading: Promise<H5Wasm> | undefined;

function findBundle(): string {
  const tried: string[] = [];
  for (const start of [__dirname, process.cwd()]) {
    let dir = start;
    for (;;) {
      const file = path.join(dir, BUNDLE);
      tried.push(file);
      if (fs.existsSync(file)) return file;
      const up = path.dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  throw new Error(`the h5wasm package is not installed (looked for ${BUNDLE} above ${__dirname}); run npm ci`);
}

/** Loads h5wasm once per process (a 5.7 MB bundle with the wasm inlined: not free to load). */
export function loadH5wasm(): Promise<H5Wasm> {
  if (!loading) {
    loading = (async () => {
      const source = fs.readFileSync(findBundle(), 'utf8');
      // The Emscripten module binds console.log / console.error when it starts (synchronously,
      // during the evaluation below): bind them to collectors so HDF5's diagnostics do not reach stderr.
      const saved = { log: console.log, error: console.error, warn: console.warn };
      const collect = (...args: unknown[]): void => {
        diagnostics.push(args.map(String).join(' '));
        if (diagnostics.length > 400) diagnostics.splice(0, diagnostics.length - 400);
      };
      console.log = collect;
      console.error = collect;
      console.warn = collect;
      let mod: H5Wasm;
      try {
        mod = new Function(`${source}\n;return h5wasm;`)() as H5Wasm;
      } finally {
        console.log = saved.log;
        console.error = saved.error;
        console.warn = saved.warn;
      }
      await mod.ready;
      return mod;
    })();
    loading.catch(() => {
      loading = undefined;
    });
  }
  return loading;
}

/** The useful lines of the HDF5 error stack printed since `mark` (e.g. "truncated file: eof = 20000, ..."). */
function diagnosticsSince(mark: number): string {
  const lines = diagnostics.slice(mark).join('\n').split('\n');
  const useful: string[] = [];
  for (const l of lines) {
    const m = /H5[A-Za-z_]*\.c line \d+ in [^:]+\(\): (.*)$/.exec(l);
    if (m && !useful.includes(m[1])) useful.push(m[1]);
  }
  // The innermost entries are the specific ones.
  return useful.slice(-2).join('; ');
}

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** HDF5 files start with the signature at offset 0, 512, 1024, 2048, ... (a user block may precede it). */
export function hasHdf5Signature(bytes: Uint8Array): boolean {
  for (let off = 0; off + 8 <= bytes.length; off = off === 0 ? 512 : off * 2) {
    if (HDF5_SIGNATURE.every((b, i) => bytes[off + i] === b)) return true;
  }
  return false;
}

export interface NumericArray {
  shape: number[];
  /** 'float32', 'float64', 'float16', 'int8'..'int64', 'uint8'..'uint64'. */
  dtype: string;
  data:
    | Float32Array
    | Float64Array
    | Int8Array
    | Uint8Array
    | Int16Array
    | Uint16Array
    | Int32Array
    | Uint32Array
    | BigInt64Array
    | BigUint64Array;
}

let fileCounter = 0;

/** An HDF5 file opened read-only from bytes. Paths are absolute ('/model_weights/conv2d'). */
export class H5File {
  private closed = false;

  private constructor(
    private readonly h5: H5Wasm,
    private readonly file: H5FileObject,
    private readonly memPath: string,
    /** What to call the file in error messages. */
    readonly label: string,
  ) {}

  /** Opens `bytes` as HDF5; throws a clear error for a non-HDF5, truncated or corrupt file. */
  static async open(bytes: Uint8Array, label: string): Promise<H5File> {
    if (bytes.length === 0) throw new Error(`${label}: the file is empty`);
    if (!hasHdf5Signature(bytes)) throw new Error(`${label}: not an HDF5 file (no HDF5 signature)`);
    const h5 = await loadH5wasm();
    const memPath = `/resnet-conformance-${process.pid}-${++fileCounter}.h5`;
    h5.FS.writeFile(memPath, bytes);
    const mark = diagnostics.length;
    try {
      const file = new h5.File(memPath, 'r');
      // h5wasm does not throw when H5Fopen fails: it returns the negative (invalid) id.
      if (Number(file.file_id) < 0) throw new Error('H5Fopen failed');
      return new H5File(h5, file, memPath, label);
    } catch (err) {
      try {
        h5.FS.unlink(memPath);
      } catch {
        /* already gone */
      }
      const why = diagnosticsSince(mark) || (err as Error).message;
      throw new Error(`${label}: cannot open the HDF5 file (truncated or corrupt?): ${why}`);
    }
  }

  private node(p: string): H5Object | null {
    if (this.closed) throw new Error(`${this.label}: file already closed`);
    const mark = diagnostics.length;
    try {
      return this.file.get(p);
    } catch (err) {
      throw new Error(`${this.label}: cannot read ${p}: ${diagnosticsSince(mark) || (err as Error).message}`);
    }
  }

  kind(p: string): 'group' | 'dataset' | 'other' | 'missing' {
    const n = this.node(p);
    if (!n) return 'missing';
    return n.type === 'Group' ? 'group' : n.type === 'Dataset' ? 'dataset' : 'other';
  }

  /** Member names of a group, in HDF5's (alphabetical) order. */
  keys(p: string): string[] {
    const n = this.node(p);
    if (!n || n.type !== 'Group') throw new Error(`${this.label}: ${p} is not a group`);
    return (n as H5GroupObject).keys();
  }

  attrNames(p: string): string[] {
    const n = this.node(p);
    return n ? Object.keys(n.attrs) : [];
  }

  /** An attribute's value, or undefined when the object or the attribute is missing. */
  attr(p: string, name: string): unknown {
    const n = this.node(p);
    if (!n) return undefined;
    const mark = diagnostics.length;
    try {
      const a = n.attrs[name];
      return a === undefined ? undefined : a.value;
    } catch (err) {
      throw new Error(
        `${this.label}: cannot read attribute ${name} of ${p}: ${diagnosticsSince(mark) || (err as Error).message}`,
      );
    }
  }

  /** A string attribute (fixed-length or variable-length, bytes decoded as UTF-8), or undefined. */
  stringAttr(p: string, name: string): string | undefined {
    const v = this.attr(p, name);
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') return v;
    if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
    throw new Error(`${this.label}: attribute ${name} of ${p} is not a string`);
  }

  /** A list-of-strings attribute (e.g. layer_names, weight_names). An empty numeric array counts as []. */
  stringListAttr(p: string, name: string): string[] | undefined {
    const v = this.attr(p, name);
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') return [v];
    if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v as string[];
    if (ArrayBuffer.isView(v) && (v as unknown as { length: number }).length === 0) return [];
    throw new Error(`${this.label}: attribute ${name} of ${p} is not a list of strings`);
  }

  /** A numeric dataset with its shape and element type. */
  dataset(p: string): NumericArray {
    const n = this.node(p);
    if (!n) throw new Error(`${this.label}: dataset ${p} is missing`);
    if (n.type !== 'Dataset') throw new Error(`${this.label}: ${p} is a ${n.type}, not a dataset`);
    const ds = n as H5DatasetObject;
    const mark = diagnostics.length;
    try {
      const meta = ds.metadata;
      const shape = ds.shape ?? [];
      let dtype: string;
      if (meta.type === H5T_FLOAT) dtype = `float${meta.size * 8}`;
      else if (meta.type === H5T_INTEGER) dtype = `${meta.signed ? 'int' : 'uint'}${meta.size * 8}`;
      else throw new Error(`element type is not numeric (HDF5 type class ${meta.type})`);
      const data = ds.value as NumericArray['data'];
      if (!ArrayBuffer.isView(data)) throw new Error(`h5wasm returned no typed array for a ${dtype} dataset`);
      const n2 = shape.reduce((a, b) => a * b, 1);
      if (data.length !== n2) throw new Error(`read ${data.length} values for shape [${shape.join(', ')}]`);
      return { shape: [...shape], dtype, data };
    } catch (err) {
      throw new Error(`${this.label}: cannot read dataset ${p}: ${diagnosticsSince(mark) || (err as Error).message}`);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.file.close();
    } catch {
      /* closing a damaged file may fail; the memory copy goes anyway */
    }
    try {
      this.h5.FS.unlink(this.memPath);
    } catch {
      /* already gone */
    }
  }
}
