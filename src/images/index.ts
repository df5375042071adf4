export { ImageReadError } from './errors';
export { checkImageSize, PIL_BOMB_ERROR_PIXELS, PIL_MAX_IMAGE_PIXELS } from './limits';
export type { DecodedImage, RgbImage } from './types';
export { decodeImageBytes, decodeImageFile } from './decode';
export { pilNearestIndices, resizeNearest } from './resize';
export { NOTEBOOK_TARGET_SIZE, prepareImage, toNotebookTensor, type PreparedImage } from './preprocess';
