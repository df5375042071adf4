/**
 * The notebook's image preprocessing (section 4):
 *
 *   img = image.load_img(img_path, target_size=(64, 64))   # PIL open, convert('RGB'), resize NEAREST
 *   x = image.img_to_array(img)                            # float32 (64, 64, 3)
 *   x = np.expand_dims(x, axis=0)                          # (1, 64, 64, 3)
 *   x = x/255.0                                            # float32 / 255.0 -> float32
 *
 * float32 division is correctly rounded, so x = Math.fround(v / 255) for every 8-bit value v.
 */
import { tensor, type Tensor } from '../tensor';
import { decodeImageFile } from './decode';
import { resizeNearest } from './resize';
import type { DecodedImage, RgbImage } from './types';

export const NOTEBOOK_TARGET_SIZE: readonly [number, number] = [64, 64];

/** img_to_array(img)[None] / 255.0 for an RGB image: float32 (1, h, w, 3). */
export function toNotebookTensor(img: RgbImage): Tensor {
  const data = new Float32Array(img.data.length);
  for (let i = 0; i < data.length; i++) data[i] = Math.fround(img.data[i] / 255);
  return tensor([1, img.height, img.width, 3], data);
}

export interface PreparedImage {
  file: string;
  decoded: DecodedImage;
  /** The resized RGB image (target size). */
  resized: RgbImage;
  /** The model input, float32 (1, h, w, 3) in [0, 1]. */
  x: Tensor;
}

/** load_img(file, target_size=(h, w)) + img_to_array + expand_dims + /255.0. Throws ImageReadError. */
export function prepareImage(
  file: string,
  targetSize: readonly [number, number] = NOTEBOOK_TARGET_SIZE,
): PreparedImage {
  const decoded = decodeImageFile(file);
  const [h, w] = targetSize;
  const resized = resizeNearest(decoded, w, h);
  return { file, decoded, resized, x: toNotebookTensor(resized) };
}
