import type { RawDetection } from '../../domain/detection.js';
import type { InputGeometry } from '../geometry.js';
import { CandidateList, type DecodeOptions, type OutputTensor, outputMismatch } from './common.js';

/**
 * Ultralytics YOLOv8/v9/v11 ONNX export (no NMS inside): output [1, 4 + C, N], channel-major. Rows 0-3 are
 * cx, cy, w, h in input pixels; rows 4.. are class scores, already sigmoided; there is no objectness.
 */
export function decodeYolo(output: OutputTensor, geometry: InputGeometry, options: DecodeOptions): RawDetection[] {
  const [batch, channels, anchors] = output.dims;
  if (
    output.dims.length !== 3 ||
    batch !== 1 ||
    channels === undefined ||
    anchors === undefined ||
    channels < 5 ||
    channels >= anchors
  ) {
    throw outputMismatch(
      `yolo output must be [1,4+classes,anchors] (e.g. [1,84,8400]), got [${output.dims.join(',')}]; ` +
        'models with NMS inside (end2end, YOLOv10) and YOLOX ([1,anchors,5+classes]) are not this family',
    );
  }
  const classes = channels - 4;
  const data = output.data;
  const candidates = new CandidateList(geometry, options);
  for (let i = 0; i < anchors; i++) {
    let bestClass = 0;
    let bestScore = data[4 * anchors + i] ?? 0;
    for (let c = 1; c < classes; c++) {
      const score = data[(4 + c) * anchors + i] ?? 0;
      if (score > bestScore) {
        bestScore = score;
        bestClass = c;
      }
    }
    if (bestScore < options.scoreThreshold) continue;
    const cx = data[i] ?? 0;
    const cy = data[anchors + i] ?? 0;
    const w = data[2 * anchors + i] ?? 0;
    const h = data[3 * anchors + i] ?? 0;
    candidates.add(bestClass, bestScore, cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2);
  }
  return candidates.finish();
}
