import type { DecodedFrame } from '../../../enrichment/contract.js';
import type { FaceBox, FaceQuality } from '../contract.js';
import { type GreyImage, resampleGrey, toGrey } from './image.js';

/** The configured gates (`identity.faces.min_face_px`, `identity.faces.min_sharpness`). */
export interface QualityGates {
  /** Faces narrower than this (frame pixels) are not matched. */
  minFacePx: number;
  /** Faces whose sharpness (variance of the Laplacian, see `assessFace`) is below this are not matched. */
  minSharpness: number;
}

/**
 * Frontal scores below this are 'turned away'. Symmetry is a weak cue (docs/IDENTITY-THRESHOLDS.md): real detected
 * faces, frontal to three-quarter, measured 0.30-0.61; a box holding half a face and half background 0.0. The gate
 * only rejects the clearly one-sided.
 */
export const MIN_FRONTAL = 0.2;

/** Sharpness is measured on the face at most this wide (larger faces are shrunk first, smaller ones kept). */
export const SHARPNESS_WIDTH = 64;

/** Symmetry is compared on the face resampled to this square: the face's layout, not its skin texture. */
const SYMMETRY_SIZE = 16;

/**
 * The quality gate on one face: `crop` is the face cut out of the frame (the box, no margin), `box` its place in
 * the frame. Sharpness is the variance of the 4-neighbour Laplacian of the grey face, shrunk to at most 64 px wide
 * (so a large face is judged by the detail an embedder sees at its input size, and a small one is not blurred by
 * upsampling). Frontal is the correlation of the grey face (16x16, side-lighting ramp removed) with its mirror
 * image (1: perfectly symmetric), clipped at 0. The first failing gate rejects: 'too small: N px', 'blurred',
 * 'turned away'. The score is the product of three 0..1 factors: width / (2 x minFacePx) and sharpness /
 * (2 x minSharpness), each capped at 1, and frontal. Pure.
 */
export function assessFace(crop: DecodedFrame, box: FaceBox, gates: QualityGates): FaceQuality {
  const grey = toGrey(crop);
  const sharpness = laplacianVariance(shrinkTo(grey, SHARPNESS_WIDTH));
  const frontal = mirrorSymmetry(resampleGrey(grey, SYMMETRY_SIZE, SYMMETRY_SIZE));
  const width = Math.round(box.width);
  const sizeFactor = Math.min(1, box.width / (2 * gates.minFacePx));
  const sharpFactor = gates.minSharpness > 0 ? Math.min(1, sharpness / (2 * gates.minSharpness)) : 1;
  let rejected: string | null = null;
  if (box.width < gates.minFacePx) rejected = `too small: ${width} px`;
  else if (sharpness < gates.minSharpness) rejected = 'blurred';
  else if (frontal < MIN_FRONTAL) rejected = 'turned away';
  return { score: sizeFactor * sharpFactor * frontal, sharpness, frontal, rejected };
}

/** The image shrunk (aspect kept) to at most `maxWidth` wide; unchanged when narrower. */
function shrinkTo(image: GreyImage, maxWidth: number): GreyImage {
  if (image.width <= maxWidth) return image;
  const height = Math.max(1, Math.round((image.height * maxWidth) / image.width));
  return resampleGrey(image, maxWidth, height);
}

/** Variance of the 4-neighbour Laplacian over the interior pixels; 0 for an image under 3x3. */
export function laplacianVariance(image: GreyImage): number {
  const { width, height, data } = image;
  if (width < 3 || height < 3) return 0;
  let sum = 0;
  let sumSq = 0;
  let n = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      const value = data[i - 1]! + data[i + 1]! + data[i - width]! + data[i + width]! - 4 * data[i]!;
      sum += value;
      sumSq += value * value;
      n += 1;
    }
  }
  const mean = sum / n;
  return sumSq / n - mean * mean;
}

/**
 * Pearson correlation of the image with its left-right mirror, clipped to 0..1 (a flat image: 0), after removing
 * the image's linear left-to-right brightness ramp (light from one side is not a turned head).
 */
export function mirrorSymmetry(image: GreyImage): number {
  const { width, height, data } = image;
  const n = width * height;
  const centre = (width - 1) / 2;
  let mean = 0;
  let slopeNumerator = 0;
  let slopeDenominator = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = data[y * width + x]!;
      mean += v;
      slopeNumerator += (x - centre) * v;
      slopeDenominator += (x - centre) * (x - centre);
    }
  }
  mean /= n;
  const slope = slopeDenominator > 0 ? slopeNumerator / slopeDenominator : 0;
  const level = (x: number, y: number) => data[y * width + x]! - mean - slope * (x - centre);
  let cross = 0;
  let variance = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const a = level(x, y);
      const b = level(width - 1 - x, y);
      cross += a * b;
      variance += a * a;
    }
  }
  if (variance === 0) return 0;
  return Math.max(0, Math.min(1, cross / variance));
}
