/** An image that cannot be read (unknown format, truncated, corrupt, or a variant PIL/Keras would treat differently). */
export class ImageReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageReadError';
  }
}
