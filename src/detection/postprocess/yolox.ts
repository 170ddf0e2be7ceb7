import type { RawDetection } from '../../domain/detection.js';
import type { InputGeometry } from '../geometry.js';
import {
  anchorCount,
  argMax,
  CandidateList,
  type DecodeOptions,
  gridSize,
  type OutputTensor,
  outputMismatch,
} from './common.js';

export const YOLOX_STRIDES: readonly number[] = [8, 16, 32];

/**
 * YOLOX head without decode (the official ONNX export): output [1, N, 5 + C] with rows (x, y, logW, logH, obj,
 * cls...) per anchor, anchors row-major per stride 8, 16, 32. obj and cls are already sigmoided.
 * cx = (x + gx) * s, w = exp(logW) * s; score = obj * best class.
 */
export function decodeYolox(output: OutputTensor, geometry: InputGeometry, options: DecodeOptions): RawDetection[] {
  const [batch, anchors, width] = output.dims;
  const { inputWidth, inputHeight } = geometry;
  const expected = anchorCount(inputWidth, inputHeight, YOLOX_STRIDES);
  if (output.dims.length !== 3 || batch !== 1 || anchors !== expected || width === undefined || width < 6) {
    throw outputMismatch(
      `yolox output must be [1,${expected},5+classes] for a ${inputWidth}x${inputHeight} input, got [${output.dims.join(',')}]`,
    );
  }
  const classes = width - 5;
  const data = output.data;
  const candidates = new CandidateList(geometry, options);
  let row = 0;
  for (const stride of YOLOX_STRIDES) {
    const { cols, rows } = gridSize(inputWidth, inputHeight, stride);
    for (let gy = 0; gy < rows; gy++) {
      for (let gx = 0; gx < cols; gx++, row++) {
        const base = row * width;
        const objectness = data[base + 4] ?? 0;
        if (objectness < options.scoreThreshold) continue;
        const best = argMax(data, base + 5, classes);
        const score = objectness * best.value;
        if (score < options.scoreThreshold) continue;
        const cx = ((data[base] ?? 0) + gx) * stride;
        const cy = ((data[base + 1] ?? 0) + gy) * stride;
        const w = Math.exp(data[base + 2] ?? 0) * stride;
        const h = Math.exp(data[base + 3] ?? 0) * stride;
        candidates.add(best.index, score, cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2);
      }
    }
  }
  return candidates.finish();
}
