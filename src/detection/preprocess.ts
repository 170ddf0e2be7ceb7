import sharp, { type Metadata, type OutputInfo, type Sharp } from 'sharp';
import { AppError, errorMessage, permanentError } from '../lib/errors.js';
import { type InputGeometry, letterboxGeometry, stretchGeometry } from './geometry.js';
import type { DetectorInfo, ModelType } from './object-detector.js';
import { decoderMessage, describeTruncation, isUninformative } from './truncation.js';

/** How one model family wants its input: placement, channel order and per-channel (v - mean) / std. */
export interface InputSpec {
  placement: 'letterbox-top-left' | 'letterbox-centre' | 'stretch';
  channels: 'bgr' | 'rgb';
  /** Per channel in the model's channel order. */
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

export const INPUT_SPECS: Readonly<Record<ModelType, InputSpec>> = {
  yolox: { placement: 'letterbox-top-left', channels: 'bgr', mean: [0, 0, 0], std: [1, 1, 1] },
  picodet: {
    placement: 'stretch',
    channels: 'bgr',
    mean: [103.53, 116.28, 123.675],
    std: [57.375, 57.12, 58.395],
  },
  yolo: { placement: 'letterbox-centre', channels: 'rgb', mean: [0, 0, 0], std: [255, 255, 255] },
};

const PAD_GREY = { r: 114, g: 114, b: 114 };

export interface PreprocessResult {
  /** CHW float32 tensor data, 3 x inputHeight x inputWidth. */
  data: Float32Array;
  /** Source size after EXIF orientation: the frame detections are reported in. */
  width: number;
  height: number;
  geometry: InputGeometry;
}

/**
 * Decodes an image once with sharp (EXIF-oriented, alpha dropped, greyscale/CMYK to sRGB), resizes it for the
 * model and writes it into a CHW Float32Array. Corrupt or truncated input is a permanent MEDIA_CORRUPT, an image
 * over `maxPixels` a permanent MEDIA_TOO_LARGE.
 */
export async function preprocess(
  image: Buffer,
  spec: InputSpec,
  inputWidth: number,
  inputHeight: number,
  maxPixels: number,
): Promise<PreprocessResult> {
  const decoder = sharp(image, { failOn: 'truncated', limitInputPixels: maxPixels });
  const { width, height } = await orientedSize(decoder, maxPixels, image);
  const geometry =
    spec.placement === 'stretch'
      ? stretchGeometry(width, height, inputWidth, inputHeight)
      : letterboxGeometry(
          width,
          height,
          inputWidth,
          inputHeight,
          spec.placement === 'letterbox-centre' ? 'centre' : 'top-left',
        );
  const pipeline = decoder
    .rotate()
    .resize(geometry.resizedWidth, geometry.resizedHeight, { fit: 'fill', kernel: 'lanczos3' })
    .extend({
      left: geometry.padX,
      top: geometry.padY,
      right: inputWidth - geometry.resizedWidth - geometry.padX,
      bottom: inputHeight - geometry.resizedHeight - geometry.padY,
      background: PAD_GREY,
    })
    .removeAlpha()
    .toColourspace('srgb')
    .raw({ depth: 'uchar' });
  let pixels: { data: Buffer; info: OutputInfo };
  try {
    pixels = await pipeline.toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw decodeError(error, maxPixels, image);
  }
  const { info } = pixels;
  if (info.width !== inputWidth || info.height !== inputHeight || info.channels !== 3) {
    throw new AppError(
      'MEDIA_UNSUPPORTED',
      `image decoded to ${info.width}x${info.height}x${info.channels}, expected ${inputWidth}x${inputHeight}x3`,
      { permanent: true },
    );
  }
  return { data: toChw(pixels.data, inputWidth * inputHeight, spec), width, height, geometry };
}

async function orientedSize(
  decoder: Sharp,
  maxPixels: number,
  image: Buffer,
): Promise<{ width: number; height: number }> {
  let metadata: Metadata;
  try {
    metadata = await decoder.metadata();
  } catch (error) {
    throw decodeError(error, maxPixels, image);
  }
  const { width, height } = metadata.autoOrient ?? metadata;
  if (!width || !height) throw permanentError('MEDIA_CORRUPT', 'image has no dimensions: not a decodable image');
  if (width * height > maxPixels) {
    throw permanentError(
      'MEDIA_TOO_LARGE',
      `image is ${width}x${height} = ${width * height} pixels, over the limit of ${maxPixels} pixels (max_pixels)`,
    );
  }
  return { width, height };
}

/**
 * Maps a sharp failure to a permanent media error: bad input never gets better by retrying. With the `image`, a
 * message libvips lost ("Unknown error", see truncation.ts) is replaced by what the bytes show.
 */
export function decodeError(error: unknown, maxPixels?: number, image?: Uint8Array): AppError {
  let message = decoderMessage(errorMessage(error));
  if (image && isUninformative(message)) {
    message = describeTruncation(image) ?? `${message || 'no message'} (the decoder gave no detail)`;
  }
  if (/pixel limit/i.test(message)) {
    const limit = maxPixels === undefined ? 'the pixel limit' : `the limit of ${maxPixels} pixels`;
    return permanentError('MEDIA_TOO_LARGE', `image is over ${limit} (max_pixels): ${message}`, error);
  }
  return permanentError('MEDIA_CORRUPT', `image cannot be decoded (corrupt or truncated): ${message}`, error);
}

/** Interleaved RGB bytes to planar float32 in the spec's channel order and normalisation, one pass. */
export function toChw(rgb: Uint8Array, planeSize: number, spec: InputSpec): Float32Array {
  const out = new Float32Array(planeSize * 3);
  // Source channel (0 = R) feeding each output plane.
  const order = spec.channels === 'bgr' ? [2, 1, 0] : [0, 1, 2];
  const [s0, s1, s2] = order as [number, number, number];
  const [m0, m1, m2] = spec.mean;
  const [k0, k1, k2] = [1 / spec.std[0], 1 / spec.std[1], 1 / spec.std[2]];
  const p1 = planeSize;
  const p2 = planeSize * 2;
  for (let i = 0, j = 0; i < planeSize; i++, j += 3) {
    out[i] = ((rgb[j + s0] as number) - m0) * k0;
    out[p1 + i] = ((rgb[j + s1] as number) - m1) * k1;
    out[p2 + i] = ((rgb[j + s2] as number) - m2) * k2;
  }
  return out;
}

/** An image decoded and laid out as a model's input tensor, with the time that took. */
export interface PreparedImage {
  input: PreprocessResult;
  preprocessMs: number;
}

/**
 * Decodes an image for the model `info` describes (sharp, EXIF orientation, letterbox or stretch). Separate from the
 * session so the threaded detector can decode on the main thread while its thread runs the previous inference.
 * Throws the permanent media errors of `preprocess` (corrupt, too large).
 */
export async function prepareImage(image: Buffer, info: DetectorInfo, maxPixels: number): Promise<PreparedImage> {
  const t0 = performance.now();
  const input = await preprocess(image, INPUT_SPECS[info.modelType], info.inputWidth, info.inputHeight, maxPixels);
  return { input, preprocessMs: performance.now() - t0 };
}
