import type { BBox } from '../../../domain/detection.js';
import type { DecodedFrame } from '../../../enrichment/contract.js';
import { cropFrame } from '../../../enrichment/crops.js';
import type { Embedder, FaceBox, FaceDetector, FaceQuality } from '../contract.js';
import { assessFace, type QualityGates } from './face-quality.js';
import { squareAround } from './image.js';

/** The face models and gates `findFaces` uses. */
export interface FaceTools {
  detector: FaceDetector;
  embedder: Embedder;
  gates: QualityGates;
}

/** One face found on a person: where (frame pixels), how usable, and its vector when it passed the gate. */
export interface FaceFinding {
  box: FaceBox;
  quality: FaceQuality;
  /** L2-normalised; null when the quality gate rejected the face. */
  embedding: Float32Array | null;
}

/** The top fraction of a person box where the head is looked for (a crouching or sitting person still fits). */
export const HEAD_FRACTION = 0.5;
/** Context around the head region, as a fraction of its size on each side (a head at the box's edge is kept). */
export const HEAD_MARGIN = 0.1;
/** Context around a face for the embedder, as a fraction of its larger side on each side, after squaring it. */
export const FACE_MARGIN = 0.1;
/**
 * Person crops smaller than this get no re-identification vector: under 16x32 px the 128x256 model input is an
 * 8x upscale of a handful of pixels, and the vector says more about the background than the person.
 */
export const MIN_REID_CROP = { width: 16, height: 32 } as const;

/**
 * The faces on one person: the upper part of the person box (top half plus a margin) goes to the face detector,
 * boxes come back in frame pixels, each face is assessed by the quality gate and only the faces that pass are
 * embedded (a square crop with a margin). A head region narrower or lower than `minFacePx` holds no usable face:
 * nothing is detected. Shared by the frame processor and by enrolment so both see faces the same way.
 */
export async function findFaces(frame: DecodedFrame, personBox: BBox, tools: FaceTools): Promise<FaceFinding[]> {
  const region = headRegion(frame, personBox);
  if (region === undefined) return [];
  if (region.width < tools.gates.minFacePx || region.height < tools.gates.minFacePx) return [];
  const crop = cropFrame(frame, region);
  if (crop === undefined) return [];
  const faces = await tools.detector.detect(crop);
  const findings: FaceFinding[] = [];
  for (const face of faces) {
    const box: FaceBox = { ...face, x: face.x + region.x, y: face.y + region.y };
    const faceCrop = cropFrame(frame, box);
    if (faceCrop === undefined) continue;
    const quality = assessFace(faceCrop, box, tools.gates);
    let embedding: Float32Array | null = null;
    if (quality.rejected === null) {
      const square = cropFrame(frame, squareAround(box, FACE_MARGIN));
      if (square !== undefined) embedding = await tools.embedder.embed(square);
    }
    findings.push({ box, quality, embedding });
  }
  return findings;
}

/**
 * The person's re-identification vector from the box's crop (no margin: the model was trained on tight boxes);
 * undefined when the crop inside the frame is under `MIN_REID_CROP`.
 */
export async function embedPerson(
  frame: DecodedFrame,
  personBox: BBox,
  reid: Embedder,
): Promise<Float32Array | undefined> {
  const crop = cropFrame(frame, personBox);
  if (crop === undefined || crop.width < MIN_REID_CROP.width || crop.height < MIN_REID_CROP.height) return undefined;
  return reid.embed(crop);
}

/** The head region in whole frame pixels, clipped to the frame; undefined when nothing of it is inside. */
export function headRegion(frame: DecodedFrame, personBox: BBox): BBox | undefined {
  const height = personBox.height * HEAD_FRACTION;
  const dx = personBox.width * HEAD_MARGIN;
  const dy = height * HEAD_MARGIN;
  const left = Math.max(0, Math.floor(personBox.x - dx));
  const top = Math.max(0, Math.floor(personBox.y - dy));
  const right = Math.min(frame.width, Math.ceil(personBox.x + personBox.width + dx));
  const bottom = Math.min(frame.height, Math.ceil(personBox.y + height + dy));
  if (right <= left || bottom <= top) return undefined;
  return { x: left, y: top, width: right - left, height: bottom - top };
}
