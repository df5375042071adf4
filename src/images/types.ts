/** An 8-bit RGB image, row-major, 3 bytes per pixel (PIL mode "RGB"). */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** What was decoded, in PIL's terms (PIL `Image.format` and `Image.mode` before convert('RGB')). */
export interface DecodedImage extends RgbImage {
  format: 'PNG' | 'JPEG';
  /** The PIL mode the file opens as: RGB, RGBA, L, LA, P, 1, I;16, ... */
  pilMode: string;
  /** The decoder used and any remark on exactness against PIL. */
  decoder: string;
}
