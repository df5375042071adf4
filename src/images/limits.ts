/**
 * Image size limits, checked from the file's header before any pixel is decoded (a 1 MB PNG can
 * claim 20000x20000 and take gigabytes and minutes to inflate).
 *
 * The limit is PIL's own (Pillow 12.3, PIL/Image.py _decompression_bomb_check): Image.MAX_IMAGE_PIXELS
 * is 89,478,485 pixels; above it PIL warns (DecompressionBombWarning) and still decodes, above twice
 * that (178,956,970) it raises DecompressionBombError when the file is opened. Keras load_img opens
 * files with PIL, so refusing above 2x refuses exactly what the notebook refuses, with PIL's words;
 * between 1x and 2x the image is decoded and its decoder note carries PIL's warning.
 */
import { ImageReadError } from './errors';

/** PIL's Image.MAX_IMAGE_PIXELS (the warning threshold). */
export const PIL_MAX_IMAGE_PIXELS = 89_478_485;
/** PIL raises DecompressionBombError above this many pixels. */
export const PIL_BOMB_ERROR_PIXELS = 2 * PIL_MAX_IMAGE_PIXELS;

/**
 * Refuses a header size PIL would refuse (DecompressionBombError) or that cannot be an image (a zero
 * side); returns PIL's warning text for sizes PIL decodes with a DecompressionBombWarning, else
 * undefined.
 */
export function checkImageSize(width: number, height: number, label: string, format: string): string | undefined {
  if (!(width >= 1 && height >= 1))
    throw new ImageReadError(`${label}: corrupt ${format} (image size ${width}x${height} in the header)`);
  const pixels = width * height;
  if (pixels > PIL_BOMB_ERROR_PIXELS)
    throw new ImageReadError(
      `${label}: image size (${pixels} pixels, ${width}x${height}) exceeds limit of ${PIL_BOMB_ERROR_PIXELS} pixels, ` +
        `could be decompression bomb DOS attack (PIL raises DecompressionBombError above 2 x Image.MAX_IMAGE_PIXELS; nothing was decoded)`,
    );
  if (pixels > PIL_MAX_IMAGE_PIXELS)
    return `image size (${pixels} pixels) exceeds limit of ${PIL_MAX_IMAGE_PIXELS} pixels: PIL warns (DecompressionBombWarning) but decodes it`;
  return undefined;
}
