import { type InferenceSession, Tensor } from 'onnxruntime-node';
import { nms } from '../../../detection/nms.js';
import type { DecodedFrame } from '../../../enrichment/contract.js';
import type { ModelRuntime } from '../../../models/model-runtime.js';
import type { FaceBox, FaceDetector } from '../contract.js';
import { resizeRgb, rgbToNchw } from './image.js';
import { describeValues, floatOutput, invalidModel, openModel, shapeOf, staticDim } from './model-id.js';

export interface FaceDetectorOptions {
  /** Faces scoring below this are dropped (default 0.7, UltraFace's own). */
  scoreThreshold?: number;
  /** Overlap (IoU) above which the weaker of two faces is dropped (default 0.3). */
  nmsIou?: number;
}

/** UltraFace version-RFB-320's input size, used when a model's height and width are symbolic. */
const DEFAULT_SIZE = { width: 320, height: 240 };

/** Which outputs hold the scores ([1,N,2]) and the boxes ([1,N,4]). */
interface UltraFaceIo {
  inputName: string;
  width: number;
  height: number;
  scores: string;
  boxes: string;
}

/**
 * The UltraFace face detector (version-RFB-320 and its siblings): the image stretched to the model's input
 * (320x240), RGB, (x - 127) / 128; out per-anchor scores [1,N,2] (index 1: face, softmaxed) and boxes [1,N,4]
 * (x1,y1,x2,y2 as fractions of the image). Faces at or above the score threshold, after NMS, best first, in the
 * given image's pixels. A model of another shape is MODEL_INVALID naming `configKey`.
 */
export async function loadFaceDetector(
  models: ModelRuntime,
  modelPath: string,
  options: FaceDetectorOptions = {},
  configKey = 'identity.faces.detector_model',
): Promise<FaceDetector> {
  const { session, modelId } = await openModel(models, modelPath, configKey);
  const io = resolveIo(session, modelPath, configKey);
  const scoreThreshold = options.scoreThreshold ?? 0.7;
  const nmsIou = options.nmsIou ?? 0.3;
  return {
    modelId,
    async detect(image: DecodedFrame): Promise<FaceBox[]> {
      const rgb = await resizeRgb(image, io.width, io.height);
      const input = new Tensor('float32', rgbToNchw(rgb, io.width, io.height, 127, 128), [1, 3, io.height, io.width]);
      const outputs = await session.run({ [io.inputName]: input });
      const scores = floatOutput(outputs, io.scores, modelPath, configKey);
      const boxes = floatOutput(outputs, io.boxes, modelPath, configKey);
      return decodeFaces(scores, boxes, image.width, image.height, scoreThreshold, nmsIou);
    },
  };
}

/**
 * Faces from UltraFace's outputs: anchors whose face score reaches `scoreThreshold`, boxes scaled from fractions
 * to the image's pixels and clipped to it, greedy NMS at `nmsIou`, best first. Pure.
 */
export function decodeFaces(
  scores: Float32Array,
  boxes: Float32Array,
  width: number,
  height: number,
  scoreThreshold: number,
  nmsIou: number,
): FaceBox[] {
  const candidates = [];
  const anchors = Math.min(scores.length / 2, boxes.length / 4);
  for (let i = 0; i < anchors; i++) {
    const score = scores[i * 2 + 1]!;
    if (!(score >= scoreThreshold)) continue;
    const x1 = clamp(boxes[i * 4]! * width, 0, width);
    const y1 = clamp(boxes[i * 4 + 1]! * height, 0, height);
    const x2 = clamp(boxes[i * 4 + 2]! * width, 0, width);
    const y2 = clamp(boxes[i * 4 + 3]! * height, 0, height);
    if (x2 <= x1 || y2 <= y1) continue;
    candidates.push({ classId: 0, confidence: score, box: { x: x1, y: y1, width: x2 - x1, height: y2 - y1 } });
  }
  return nms(candidates, nmsIou).map(({ box, confidence }) => ({ ...box, score: confidence }));
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

function resolveIo(session: InferenceSession, modelPath: string, configKey: string): UltraFaceIo {
  const input = session.inputMetadata[0];
  const inputShape = shapeOf(input);
  if (session.inputMetadata.length !== 1 || input === undefined || inputShape.length !== 4 || inputShape[1] !== 3) {
    throw invalidModel(
      modelPath,
      configKey,
      `expected one NCHW input [1,3,240,320] (UltraFace), got ${describeValues(session.inputMetadata)}`,
    );
  }
  const lastDim = (meta: InferenceSession.ValueMetadata) => {
    const shape = shapeOf(meta);
    return shape.length === 3 ? staticDim(shape[2]) : undefined;
  };
  const scores = session.outputMetadata.find((o) => lastDim(o) === 2);
  const boxes = session.outputMetadata.find((o) => lastDim(o) === 4);
  if (session.outputMetadata.length !== 2 || scores === undefined || boxes === undefined) {
    throw invalidModel(
      modelPath,
      configKey,
      `expected UltraFace outputs scores [1,N,2] and boxes [1,N,4], got ${describeValues(session.outputMetadata)}`,
    );
  }
  return {
    inputName: input.name,
    height: staticDim(inputShape[2]) ?? DEFAULT_SIZE.height,
    width: staticDim(inputShape[3]) ?? DEFAULT_SIZE.width,
    scores: scores.name,
    boxes: boxes.name,
  };
}
