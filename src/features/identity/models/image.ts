import sharp from 'sharp';
import type { BBox } from '../../../domain/detection.js';
import type { DecodedFrame } from '../../../enrichment/contract.js';

/**
 * Image helpers for the identity models: resizing a `DecodedFrame` (RGB, 3 bytes a pixel, row-major), grey
 * conversion and the tensor layouts the models want. Everything but `resizeRgb` is pure.
 */

/** The frame stretched to width x height (no aspect kept), as raw RGB bytes. */
export async function resizeRgb(frame: DecodedFrame, width: number, height: number): Promise<Buffer> {
  if (frame.width === width && frame.height === height) return frame.data;
  return sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } })
    .resize(width, height, { fit: 'fill' })
    .raw()
    .toBuffer();
}

/** RGB bytes as a planar (NCHW) float tensor in RGB order, each value (v - mean) / std. */
export function rgbToNchw(rgb: Buffer, width: number, height: number, mean: number, std: number): Float32Array {
  const plane = width * height;
  const out = new Float32Array(plane * 3);
  for (let i = 0; i < plane; i++) {
    out[i] = (rgb[i * 3]! - mean) / std;
    out[plane + i] = (rgb[i * 3 + 1]! - mean) / std;
    out[2 * plane + i] = (rgb[i * 3 + 2]! - mean) / std;
  }
  return out;
}

/** RGB bytes as an interleaved (NHWC) float tensor in BGR order, 0-255. */
export function rgbToNhwcBgr(rgb: Buffer): Float32Array {
  const out = new Float32Array(rgb.length);
  for (let i = 0; i < rgb.length; i += 3) {
    out[i] = rgb[i + 2]!;
    out[i + 1] = rgb[i + 1]!;
    out[i + 2] = rgb[i]!;
  }
  return out;
}

/** A grey image: one float (0-255) a pixel, row-major. */
export interface GreyImage {
  width: number;
  height: number;
  data: Float32Array;
}

/** The frame's luma (BT.601 weights). */
export function toGrey(frame: DecodedFrame): GreyImage {
  const n = frame.width * frame.height;
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    data[i] = 0.299 * frame.data[i * 3]! + 0.587 * frame.data[i * 3 + 1]! + 0.114 * frame.data[i * 3 + 2]!;
  }
  return { width: frame.width, height: frame.height, data };
}

/**
 * The grey image resampled to width x height by bilinear interpolation, after a box pre-filter when shrinking (each
 * output pixel then averages the input pixels it covers), so the result does not alias.
 */
export function resampleGrey(image: GreyImage, width: number, height: number): GreyImage {
  const source = shrinkBox(
    image,
    Math.max(1, Math.floor(image.width / width)),
    Math.max(1, Math.floor(image.height / height)),
  );
  const data = new Float32Array(width * height);
  const sx = source.width / width;
  const sy = source.height / height;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(source.height - 1, Math.max(0, (y + 0.5) * sy - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(source.height - 1, y0 + 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(source.width - 1, Math.max(0, (x + 0.5) * sx - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(source.width - 1, x0 + 1);
      const wx = fx - x0;
      const top = source.data[y0 * source.width + x0]! * (1 - wx) + source.data[y0 * source.width + x1]! * wx;
      const bottom = source.data[y1 * source.width + x0]! * (1 - wx) + source.data[y1 * source.width + x1]! * wx;
      data[y * width + x] = top * (1 - wy) + bottom * wy;
    }
  }
  return { width, height, data };
}

/** Averages fx x fy blocks (the last partial block of a row or column is dropped). */
function shrinkBox(image: GreyImage, fx: number, fy: number): GreyImage {
  if (fx === 1 && fy === 1) return image;
  const width = Math.max(1, Math.floor(image.width / fx));
  const height = Math.max(1, Math.floor(image.height / fy));
  const data = new Float32Array(width * height);
  const area = fx * fy;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (let dy = 0; dy < fy; dy++) {
        const row = (y * fy + dy) * image.width + x * fx;
        for (let dx = 0; dx < fx; dx++) sum += image.data[row + dx]!;
      }
      data[y * width + x] = sum / area;
    }
  }
  return { width, height, data };
}

/** The square of side max(width, height) x (1 + 2 x margin) centred on the box (may reach outside the frame). */
export function squareAround(box: BBox, margin: number): BBox {
  const side = Math.max(box.width, box.height) * (1 + 2 * margin);
  return {
    x: box.x + box.width / 2 - side / 2,
    y: box.y + box.height / 2 - side / 2,
    width: side,
    height: side,
  };
}

/** The frame mirrored left to right. */
export function mirrorFrame(frame: DecodedFrame): DecodedFrame {
  const data = Buffer.allocUnsafe(frame.data.length);
  for (let y = 0; y < frame.height; y++) {
    const row = y * frame.width * 3;
    for (let x = 0; x < frame.width; x++) {
      const from = row + x * 3;
      const to = row + (frame.width - 1 - x) * 3;
      data[to] = frame.data[from]!;
      data[to + 1] = frame.data[from + 1]!;
      data[to + 2] = frame.data[from + 2]!;
    }
  }
  return { frameIndex: frame.frameIndex, width: frame.width, height: frame.height, data };
}
