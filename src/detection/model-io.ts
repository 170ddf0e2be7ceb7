import { AppError } from '../lib/errors.js';
import type { ModelType } from './object-detector.js';
import { anchorCount } from './postprocess/common.js';
import { YOLOX_STRIDES } from './postprocess/yolox.js';

/** The subset of onnxruntime's `InferenceSession.ValueMetadata` the checks read. */
export interface ValueInfo {
  name: string;
  isTensor: boolean;
  type?: string;
  shape?: readonly (number | string)[];
}

/** What the detector needs to feed a model and read it back, once checked against its family. */
export interface ModelIo {
  inputName: string;
  inputWidth: number;
  inputHeight: number;
  /** yolox / yolo: one name; picodet: score tensors first, then box tensors, level by level. */
  outputNames: string[];
  /** Class count when the model declares it statically. */
  classes: number | undefined;
}

/** Input size used when the model's input dimensions are symbolic. */
export const DEFAULT_INPUT_SIZE: Readonly<Record<ModelType, number>> = { yolox: 416, picodet: 416, yolo: 640 };

const EXPECTED: Readonly<Record<ModelType, string>> = {
  yolox: "1 output [1,anchors,5+classes] (yolox_nano.onnx: 'output' [1,3549,85])",
  picodet: '2L outputs: L score tensors [1,N,classes] then L box tensors [1,N,4*bins] (picodet_s_416_coco.onnx: 4 + 4)',
  yolo: '1 output [1,4+classes,anchors] (Ultralytics YOLOv8/11 at 640: [1,84,8400])',
};

/**
 * Checks a model's inputs and outputs against the configured family and reads its input size. A mismatch is a
 * MODEL_INVALID that names what was expected, what the file has, and the family it looks like.
 */
export function resolveModelIo(
  modelType: ModelType,
  modelPath: string,
  inputs: readonly ValueInfo[],
  outputs: readonly ValueInfo[],
): ModelIo {
  const input = inputs[0];
  const inputShape = input?.shape ?? [];
  if (inputs.length !== 1 || !input?.isTensor || input.type !== 'float32' || inputShape.length !== 4) {
    throw invalid(modelPath, `expected 1 float32 input [1,3,height,width], got ${describe(inputs)}`);
  }
  if (typeof inputShape[1] === 'number' && inputShape[1] !== 3) {
    throw invalid(modelPath, `expected a 3-channel NCHW input, got ${describe(inputs)}`);
  }
  const inputHeight = dim(inputShape[2]) ?? DEFAULT_INPUT_SIZE[modelType];
  const inputWidth = dim(inputShape[3]) ?? DEFAULT_INPUT_SIZE[modelType];
  const problem = outputProblem(modelType, outputs, inputWidth, inputHeight);
  if (problem !== undefined) {
    const guess = guessFamily(outputs);
    const hint =
      guess !== undefined && guess !== modelType ? `; it looks like a '${guess}' model: set the model type` : '';
    throw invalid(
      modelPath,
      `does not match model type '${modelType}': expected ${EXPECTED[modelType]}, got ${describe(outputs)} (${problem})${hint}`,
    );
  }
  const classDim = modelType === 'yolo' ? outputs[0]?.shape?.[1] : outputs[0]?.shape?.[2];
  const offset = modelType === 'yolox' ? 5 : modelType === 'yolo' ? 4 : 0;
  const classes = dim(classDim);
  return {
    inputName: input.name,
    inputWidth,
    inputHeight,
    outputNames: outputs.map((o) => o.name),
    classes: classes === undefined ? undefined : classes - offset,
  };
}

function outputProblem(
  modelType: ModelType,
  outputs: readonly ValueInfo[],
  inputWidth: number,
  inputHeight: number,
): string | undefined {
  if (outputs.some((o) => !o.isTensor || o.type !== 'float32' || o.shape?.length !== 3)) {
    return 'every output must be a rank-3 float32 tensor';
  }
  const anchors = anchorCount(inputWidth, inputHeight, YOLOX_STRIDES);
  const shape = outputs[0]?.shape ?? [];
  switch (modelType) {
    case 'yolox':
      if (outputs.length !== 1) return count(outputs.length);
      if (!fits(shape[1], anchors)) return `${anchors} anchors expected for a ${inputWidth}x${inputHeight} input`;
      return atLeast(shape[2], 6) ? undefined : 'fewer than 6 values per anchor';
    case 'yolo':
      if (outputs.length !== 1) return count(outputs.length);
      if (!fits(shape[2], anchors)) return `${anchors} anchors expected for a ${inputWidth}x${inputHeight} input`;
      return atLeast(shape[1], 5) ? undefined : 'fewer than 5 rows';
    case 'picodet':
      return picodetProblem(outputs);
  }
}

function picodetProblem(outputs: readonly ValueInfo[]): string | undefined {
  if (outputs.length < 2 || outputs.length % 2 !== 0) return count(outputs.length);
  const levels = outputs.length / 2;
  for (let level = 0; level < levels; level++) {
    const scores = outputs[level]?.shape ?? [];
    const boxes = outputs[levels + level]?.shape ?? [];
    const sides = dim(boxes[2]);
    if (sides !== undefined && (sides < 4 || sides % 4 !== 0)) return `box tensor ${level} last dimension not 4*bins`;
    if (typeof scores[1] === 'number' && typeof boxes[1] === 'number' && scores[1] !== boxes[1]) {
      return `level ${level}: ${scores[1]} score rows but ${boxes[1]} box rows`;
    }
  }
  return undefined;
}

/** The family an output layout most likely belongs to, for the error hint. */
export function guessFamily(outputs: readonly ValueInfo[]): ModelType | undefined {
  if (outputs.length >= 2 && outputs.length % 2 === 0) return 'picodet';
  const shape = outputs[0]?.shape;
  if (outputs.length !== 1 || shape?.length !== 3) return undefined;
  const [, rows, cols] = shape;
  if (typeof rows !== 'number' || typeof cols !== 'number') return undefined;
  return rows > cols ? 'yolox' : 'yolo';
}

export function describe(values: readonly ValueInfo[]): string {
  const list = values.map((v) => `'${v.name}' ${v.type ?? 'non-tensor'} [${(v.shape ?? []).join(',')}]`);
  return `${values.length} ${values.length === 1 ? 'tensor' : 'tensors'}: ${list.join(', ')}`;
}

function count(outputs: number): string {
  return `${outputs} ${outputs === 1 ? 'output' : 'outputs'}`;
}

function dim(value: number | string | undefined): number | undefined {
  return typeof value === 'number' && value > 0 ? value : undefined;
}

function fits(value: number | string | undefined, expected: number): boolean {
  return typeof value !== 'number' || value <= 0 || value === expected;
}

function atLeast(value: number | string | undefined, min: number): boolean {
  return typeof value !== 'number' || value <= 0 || value >= min;
}

function invalid(modelPath: string, message: string): AppError {
  return new AppError('MODEL_INVALID', `model ${modelPath} ${message}`);
}
