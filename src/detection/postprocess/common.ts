import type { RawDetection } from '../../domain/detection.js';
import { AppError } from '../../lib/errors.js';
import { type InputGeometry, toSourceBox } from '../geometry.js';
import { nms } from '../nms.js';

/** One model output: its data and dimensions, as onnxruntime returns them (no copy). */
export interface OutputTensor {
  data: Float32Array;
  dims: readonly number[];
}

export interface DecodeOptions {
  /** Labels by class id; a class without a label is named by its id. */
  labels: readonly string[];
  /** Candidates below this confidence are dropped before NMS. */
  scoreThreshold: number;
  /** Class-wise NMS IoU threshold. */
  iouThreshold: number;
  /** Cap on detections per image after NMS (default 100). */
  maxDetections?: number;
}

const DEFAULT_MAX_DETECTIONS = 100;

/** Collects candidates in model-input pixels, then maps them to source pixels and runs NMS. */
export class CandidateList {
  private readonly items: RawDetection[] = [];

  constructor(
    private readonly geometry: InputGeometry,
    private readonly options: DecodeOptions,
  ) {}

  add(classId: number, confidence: number, x1: number, y1: number, x2: number, y2: number): void {
    const box = toSourceBox(x1, y1, x2, y2, this.geometry);
    if (box === undefined) return;
    const label = this.options.labels[classId] ?? String(classId);
    this.items.push({ classId, label, confidence, box });
  }

  finish(): RawDetection[] {
    return nms(this.items, this.options.iouThreshold, this.options.maxDetections ?? DEFAULT_MAX_DETECTIONS);
  }
}

/** Index and value of the largest of `count` floats starting at `offset`. */
export function argMax(data: Float32Array, offset: number, count: number): { index: number; value: number } {
  let index = 0;
  let value = data[offset] ?? Number.NEGATIVE_INFINITY;
  for (let c = 1; c < count; c++) {
    const v = data[offset + c] ?? Number.NEGATIVE_INFINITY;
    if (v > value) {
      value = v;
      index = c;
    }
  }
  return { index, value };
}

/** Cells of a stride-`stride` feature map over the input (ceil, as strided convolutions with padding give). */
export function gridSize(inputWidth: number, inputHeight: number, stride: number): { cols: number; rows: number } {
  return { cols: Math.ceil(inputWidth / stride), rows: Math.ceil(inputHeight / stride) };
}

/** Total anchors of a YOLO-style head with strides 8/16/32 on this input. */
export function anchorCount(inputWidth: number, inputHeight: number, strides: readonly number[]): number {
  return strides.reduce((sum, s) => {
    const { cols, rows } = gridSize(inputWidth, inputHeight, s);
    return sum + cols * rows;
  }, 0);
}

export function outputMismatch(message: string): AppError {
  return new AppError('MODEL_INVALID', message);
}
