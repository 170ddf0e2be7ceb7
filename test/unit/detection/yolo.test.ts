import { describe, expect, it } from 'vitest';
import { letterboxGeometry } from '../../../src/detection/geometry.js';
import type { DecodeOptions } from '../../../src/detection/postprocess/common.js';
import { decodeYolo } from '../../../src/detection/postprocess/yolo.js';

const ANCHORS = 10;
const CLASSES = 3;
const options: DecodeOptions = { labels: ['person', 'bicycle', 'car'], scoreThreshold: 0.25, iouThreshold: 0.45 };

/** Channel-major [1, 4 + C, N]: `columns[i]` = cx, cy, w, h, scores... of anchor i. */
function output(columns: Record<number, number[]>) {
  const data = new Float32Array((4 + CLASSES) * ANCHORS);
  for (const [anchor, values] of Object.entries(columns)) {
    values.forEach((v, channel) => {
      data[channel * ANCHORS + Number(anchor)] = v;
    });
  }
  return { data, dims: [1, 4 + CLASSES, ANCHORS] };
}

describe('decodeYolo', () => {
  // Source 128x64 letterboxed centred into 64x64: scale 0.5, 16 px grey above and below.
  const geometry = letterboxGeometry(128, 64, 64, 64, 'centre');

  it('reads cx, cy, w, h in input pixels, takes the best class and removes the centred padding', () => {
    const out = output({ 4: [32, 32, 32, 16, 0.125, 0.25, 0.75] });
    expect(decodeYolo(out, geometry, options)).toStrictEqual([
      { classId: 2, label: 'car', confidence: 0.75, box: { x: 32, y: 16, width: 64, height: 32 } },
    ]);
  });

  it('clamps, drops boxes in the padding and candidates under the threshold', () => {
    const out = output({
      0: [60, 40, 16, 16, 0.5, 0, 0], // x 52..68, y 32..48 -> source x 104..136 (clamped to 128), y 32..64
      1: [20, 6, 20, 8, 0.9, 0, 0], // y 2..10: only padding
      2: [20, 32, 8, 8, 0, 0.125, 0.125], // best 0.125 < 0.25
    });
    expect(decodeYolo(out, geometry, options)).toStrictEqual([
      { classId: 0, label: 'person', confidence: 0.5, box: { x: 104, y: 32, width: 24, height: 32 } },
    ]);
  });

  it('suppresses duplicates per class only', () => {
    const out = output({
      0: [32, 32, 20, 20, 0.875, 0, 0],
      1: [33, 32, 20, 20, 0.5, 0, 0],
      2: [33, 32, 20, 20, 0, 0, 0.625],
    });
    expect(decodeYolo(out, geometry, options).map((d) => [d.label, d.confidence])).toStrictEqual([
      ['person', 0.875],
      ['car', 0.625],
    ]);
  });

  it('rejects a YOLOX-shaped (transposed) output', () => {
    expect(() => decodeYolo({ data: new Float32Array(85 * 84), dims: [1, 85, 84] }, geometry, options)).toThrow(
      /yolo output must be \[1,4\+classes,anchors\].*got \[1,85,84\]/,
    );
  });
});
