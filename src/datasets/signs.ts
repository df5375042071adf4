/**
 * The notebook's dataset layout (resnets_utils.load_dataset, the SIGNS files):
 *
 *   test_signs.h5:  test_set_x   uint8 (N, 64, 64, 3)   images
 *                   test_set_y   int   (N,)             labels 0..C-1
 *                   list_classes int   (C,)             class ids
 *   train_signs.h5: train_set_x / train_set_y (same shapes)
 *
 * The notebook divides the images by 255 (X_test = X_test_orig / 255.: float64, then float32 inside
 * Keras), which is Math.fround(v / 255) per value, like the image path.
 */
import * as fs from 'fs';
import { H5File, type NumericArray } from '../import/h5';
import { tensor, type Tensor } from '../tensor';

export class DatasetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetError';
  }
}

export interface SignsDataset {
  file: string;
  /** Which datasets were read: test_set_* or train_set_*. */
  split: 'test' | 'train';
  count: number;
  height: number;
  width: number;
  /** uint8 images, (N, H, W, 3) row-major. */
  images: Uint8Array;
  labels: number[];
  classes: number[];
}

function toNumbers(a: NumericArray, what: string, file: string): number[] {
  if (!/^u?int/.test(a.dtype))
    throw new DatasetError(`${file}: ${what} has element type ${a.dtype}; expected integers`);
  return Array.from(a.data as ArrayLike<number | bigint>, (v) => Number(v));
}

export async function loadSignsDataset(file: string): Promise<SignsDataset> {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    throw new DatasetError(`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let f: H5File;
  try {
    f = await H5File.open(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file);
  } catch (err) {
    throw new DatasetError((err as Error).message);
  }
  try {
    const split =
      f.kind('/test_set_x') === 'dataset' ? 'test' : f.kind('/train_set_x') === 'dataset' ? 'train' : undefined;
    if (!split) {
      throw new DatasetError(
        `${file}: no test_set_x or train_set_x dataset (the notebook's SIGNS layout: test_set_x uint8 (N,64,64,3), test_set_y (N,), list_classes (C,)); it has: ${f.keys('/').join(', ') || 'nothing'}`,
      );
    }
    for (const need of [`${split}_set_y`, 'list_classes']) {
      if (f.kind(`/${need}`) !== 'dataset')
        throw new DatasetError(
          `${file}: no ${need} dataset (the notebook's SIGNS layout needs ${split}_set_x, ${split}_set_y and list_classes)`,
        );
    }
    let x: NumericArray;
    let y: NumericArray;
    let c: NumericArray;
    try {
      x = f.dataset(`/${split}_set_x`);
      y = f.dataset(`/${split}_set_y`);
      c = f.dataset('/list_classes');
    } catch (err) {
      throw new DatasetError((err as Error).message);
    }
    if (x.dtype !== 'uint8' || x.shape.length !== 4 || x.shape[3] !== 3) {
      throw new DatasetError(
        `${file}: ${split}_set_x is ${x.dtype} [${x.shape.join(', ')}]; expected uint8 (N, H, W, 3)`,
      );
    }
    const [n, h, w] = x.shape;
    const labels = toNumbers(y, `${split}_set_y`, file);
    const yOk =
      y.shape.length === 1 ? y.shape[0] === n : y.shape.length === 2 && y.shape.includes(n) && y.shape.includes(1);
    if (!yOk || labels.length !== n) {
      throw new DatasetError(
        `${file}: ${split}_set_y has shape [${y.shape.join(', ')}]; expected (${n},) for ${n} images`,
      );
    }
    const classes = toNumbers(c, 'list_classes', file);
    if (classes.length === 0) throw new DatasetError(`${file}: list_classes is empty`);
    const bad = labels.findIndex((l) => !Number.isInteger(l) || l < 0 || l >= classes.length);
    if (bad >= 0)
      throw new DatasetError(
        `${file}: ${split}_set_y[${bad}] = ${labels[bad]} is not a class index 0..${classes.length - 1}`,
      );
    return { file, split, count: n, height: h, width: w, images: x.data as Uint8Array, labels, classes };
  } finally {
    f.close();
  }
}

/** Images [start, end) as the notebook's model input: float32 (n, H, W, 3) = Math.fround(v / 255). */
export function datasetBatch(ds: SignsDataset, start: number, end: number): Tensor {
  const per = ds.height * ds.width * 3;
  const data = new Float32Array((end - start) * per);
  const src = ds.images.subarray(start * per, end * per);
  for (let i = 0; i < data.length; i++) data[i] = Math.fround(src[i] / 255);
  return tensor([end - start, ds.height, ds.width, 3], data);
}
