import type { DecodedFrame } from '../../enrichment/contract.js';

/**
 * The identity feature's model contracts. Every model opens its session through the process's `ModelRuntime`
 * (same device choice as the detector: CPU, or CUDA when present); images are `DecodedFrame`s (RGB, 3 bytes a
 * pixel, row-major), as the enrichment stage hands them out.
 */

/** A model that turns an image (a person crop, a face crop) into an L2-normalised vector. */
export interface Embedder {
  /** `<file name>@<first 12 hex of the file's sha256>`: stored with every vector, compared before any cosine. */
  readonly modelId: string;
  readonly dims: number;
  /** The image's vector, L2-normalised (resized to the model's input inside). */
  embed(image: DecodedFrame): Promise<Float32Array>;
}

/** A face found in an image, in that image's pixels. */
export interface FaceBox {
  x: number;
  y: number;
  width: number;
  height: number;
  /** The detector's face score, 0..1. */
  score: number;
}

export interface FaceDetector {
  readonly modelId: string;
  /** Faces above the detector's score threshold, after NMS, best first. */
  detect(image: DecodedFrame): Promise<FaceBox[]>;
}

/** The quality gate's verdict on one face crop. */
export interface FaceQuality {
  /** 0..1: how usable the face is for matching (size, sharpness and frontality combined). */
  score: number;
  /** Variance of the Laplacian of the grey crop. */
  sharpness: number;
  /** 0..1: left-right symmetry of the grey crop (1: a frontal face). */
  frontal: number;
  /** Why the face may not be matched ('too small: 18 px', 'blurred', 'turned away'); null: it may. */
  rejected: string | null;
}
