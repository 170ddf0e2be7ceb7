import type { RawDetection } from '../../domain/detection.js';
import type { InputGeometry } from '../geometry.js';
import { argMax, CandidateList, type DecodeOptions, gridSize, type OutputTensor, outputMismatch } from './common.js';

/** Strides a PicoDet head may use; each level's stride is the one whose grid has as many cells as its tensor rows. */
const CANDIDATE_STRIDES: readonly number[] = [8, 16, 32, 64, 128];

export interface PicodetOutputs {
  /** Per level [1, N, C], sigmoided class scores. */
  scores: readonly OutputTensor[];
  /** Per level [1, N, 4 * bins], GFL distributions for left, top, right, bottom. */
  boxes: readonly OutputTensor[];
}

/**
 * PP-PicoDet exported without post-processing. For each level and cell i (row-major, W cells per row), the
 * anchor centre is ((i % W) s + (s - 1) / 2, floor(i / W) s + (s - 1) / 2); each side's distance is the expected
 * value of a softmax over `bins` logits, times the stride.
 */
export function decodePicodet(
  outputs: PicodetOutputs,
  geometry: InputGeometry,
  options: DecodeOptions,
): RawDetection[] {
  if (outputs.scores.length === 0 || outputs.scores.length !== outputs.boxes.length) {
    throw outputMismatch(
      `picodet needs as many score tensors as box tensors (got ${outputs.scores.length} and ${outputs.boxes.length})`,
    );
  }
  const candidates = new CandidateList(geometry, options);
  for (const scores of outputs.scores) {
    const anchors = scores.dims[1] ?? 0;
    const boxes = outputs.boxes.find((b) => b.dims[1] === anchors);
    if (boxes === undefined) throw outputMismatch(`picodet: no box tensor with ${anchors} rows for a score tensor`);
    decodeLevel(scores, boxes, geometry, options.scoreThreshold, candidates);
  }
  return candidates.finish();
}

function decodeLevel(
  scores: OutputTensor,
  boxes: OutputTensor,
  geometry: InputGeometry,
  threshold: number,
  candidates: CandidateList,
): void {
  const anchors = scores.dims[1] ?? 0;
  const classes = scores.dims[2] ?? 0;
  const sides = boxes.dims[2] ?? 0;
  if (scores.dims.length !== 3 || boxes.dims.length !== 3 || classes < 1 || sides < 4 || sides % 4 !== 0) {
    throw outputMismatch(
      `picodet level tensors must be [1,N,classes] and [1,N,4*bins], got [${scores.dims.join(',')}] and [${boxes.dims.join(',')}]`,
    );
  }
  const stride = strideFor(anchors, geometry);
  const bins = sides / 4;
  const { cols } = gridSize(geometry.inputWidth, geometry.inputHeight, stride);
  const offset = (stride - 1) / 2;
  const distances = new Float64Array(4);
  for (let i = 0; i < anchors; i++) {
    const best = argMax(scores.data, i * classes, classes);
    if (best.value < threshold) continue;
    for (let side = 0; side < 4; side++) {
      distances[side] = expectedBin(boxes.data, i * sides + side * bins, bins) * stride;
    }
    const cx = (i % cols) * stride + offset;
    const cy = Math.floor(i / cols) * stride + offset;
    candidates.add(
      best.index,
      best.value,
      cx - (distances[0] ?? 0),
      cy - (distances[1] ?? 0),
      cx + (distances[2] ?? 0),
      cy + (distances[3] ?? 0),
    );
  }
}

function strideFor(anchors: number, geometry: InputGeometry): number {
  for (const stride of CANDIDATE_STRIDES) {
    const { cols, rows } = gridSize(geometry.inputWidth, geometry.inputHeight, stride);
    if (cols * rows === anchors) return stride;
  }
  throw outputMismatch(
    `picodet: a level with ${anchors} rows fits no stride of ${CANDIDATE_STRIDES.join('/')} on a ${geometry.inputWidth}x${geometry.inputHeight} input`,
  );
}

/** Expected bin index under a softmax of `bins` logits (numerically stable). */
export function expectedBin(data: Float32Array, offset: number, bins: number): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < bins; j++) max = Math.max(max, data[offset + j] ?? Number.NEGATIVE_INFINITY);
  let sum = 0;
  let weighted = 0;
  for (let j = 0; j < bins; j++) {
    const e = Math.exp((data[offset + j] ?? Number.NEGATIVE_INFINITY) - max);
    sum += e;
    weighted += e * j;
  }
  return weighted / sum;
}
