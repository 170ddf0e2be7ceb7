import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import sharp, { type OutputInfo } from 'sharp';
import type { BBox } from '../domain/detection.js';
import { decodeError } from './preprocess.js';

export interface ThumbnailOptions {
  /** Longest side of a crop in pixels (default 256); smaller crops are not enlarged. */
  maxSide?: number;
  /** Margin added on each side, as a fraction of the box size (default 0.1). */
  margin?: number;
  /** JPEG quality (default 80). */
  quality?: number;
  /** Pixel limit for decoding (default sharp's own). */
  maxPixels?: number;
}

/** Integer crop rectangle inside the image: the box grown by `margin` on every side, clamped. */
export function cropRect(
  box: BBox,
  imageWidth: number,
  imageHeight: number,
  margin: number,
): { left: number; top: number; width: number; height: number } {
  const left = Math.max(0, Math.floor(box.x - box.width * margin));
  const top = Math.max(0, Math.floor(box.y - box.height * margin));
  const right = Math.min(imageWidth, Math.ceil(box.x + box.width * (1 + margin)));
  const bottom = Math.min(imageHeight, Math.ceil(box.y + box.height * (1 + margin)));
  const clampedLeft = Math.min(left, imageWidth - 1);
  const clampedTop = Math.min(top, imageHeight - 1);
  return {
    left: clampedLeft,
    top: clampedTop,
    width: Math.max(1, right - clampedLeft),
    height: Math.max(1, bottom - clampedTop),
  };
}

/**
 * Writes one JPEG crop per detection to `dir/<baseName>-<index>.jpg` and returns the paths in detection order.
 * The image is decoded once and EXIF-oriented like `preprocess`, so detector boxes line up.
 */
export async function writeThumbnails(
  image: Buffer,
  detections: readonly { box: BBox }[],
  dir: string,
  baseName: string,
  options: ThumbnailOptions = {},
): Promise<string[]> {
  if (detections.length === 0) return [];
  const { maxSide = 256, margin = 0.1, quality = 80 } = options;
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    decoded = await sharp(image, { failOn: 'truncated', limitInputPixels: options.maxPixels ?? true })
      .rotate()
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw decodeError(error, options.maxPixels, image);
  }
  const { width, height, channels } = decoded.info;
  await mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (const [index, detection] of detections.entries()) {
    const file = path.join(dir, `${baseName}-${index}.jpg`);
    await sharp(decoded.data, { raw: { width, height, channels } })
      .extract(cropRect(detection.box, width, height, margin))
      .resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true })
      .jpeg({ quality })
      .toFile(file);
    paths.push(file);
  }
  return paths;
}
