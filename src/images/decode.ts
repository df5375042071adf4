/** Decode a PNG or JPEG file to 8-bit RGB the way PIL opens it and Keras load_img converts it (convert('RGB')). */
import * as fs from 'fs';
import { ImageReadError } from './errors';
import { decodeJpeg } from './jpeg';
import { decodePng, PNG_SIGNATURE } from './png';
import type { DecodedImage } from './types';

function sniff(b: Uint8Array): string | undefined {
  if (PNG_SIGNATURE.every((v, i) => b[i] === v)) return 'PNG';
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'JPEG';
  const ascii = String.fromCharCode(...b.subarray(0, 12));
  if (ascii.startsWith('GIF8')) return 'GIF';
  if (ascii.startsWith('BM')) return 'BMP';
  if (ascii.startsWith('RIFF') && ascii.slice(8, 12) === 'WEBP') return 'WebP';
  if (ascii.startsWith('II*\0') || ascii.startsWith('MM\0*')) return 'TIFF';
  return undefined;
}

export function decodeImageBytes(bytes: Uint8Array, label: string): DecodedImage {
  if (bytes.length === 0) throw new ImageReadError(`${label}: the file is empty`);
  const kind = sniff(bytes);
  if (kind === 'PNG') return decodePng(bytes, label);
  if (kind === 'JPEG') return decodeJpeg(bytes, label);
  if (kind) throw new ImageReadError(`${label}: ${kind} images are not supported (PNG and JPEG only)`);
  throw new ImageReadError(`${label}: not a PNG or JPEG image`);
}

export function decodeImageFile(file: string): DecodedImage {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    throw new ImageReadError(`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return decodeImageBytes(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file);
}
