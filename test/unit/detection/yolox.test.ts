import { describe, expect, it } from 'vitest';
import { letterboxGeometry } from '../../../src/detection/geometry.js';
import type { DecodeOptions } from '../../../src/detection/postprocess/common.js';
import { decodeYolox } from '../../../src/detection/postprocess/yolox.js';

// A 64x64 input: grids 8x8 (stride 8), 4x4 (16), 2x2 (32) = 84 anchors; 2 classes -> 7 values per anchor.
const ANCHORS = 84;
const WIDTH = 7;
const options: DecodeOptions = { labels: ['person', 'car'], scoreThreshold: 0.3, iouThreshold: 0.45 };

function output(rows: Record<number, number[]>) {
  const data = new Float32Array(ANCHORS * WIDTH);
  for (const [row, values] of Object.entries(rows)) data.set(values, Number(row) * WIDTH);
  return { data, dims: [1, ANCHORS, WIDTH] };
}

describe('decodeYolox', () => {
  // Source 128x96 letterboxed top-left into 64x64: scale 0.5, no offset.
  const geometry = letterboxGeometry(128, 96, 64, 64, 'top-left');

  it('decodes grid offsets, exp sizes and obj x class into source pixels', () => {
    // Stride 16, cell (gx 1, gy 2) = row 64 + 2*4 + 1: cx = 1.5*16 = 24, cy = 2.5*16 = 40, w = h = 16.
    const out = output({ 73: [0.5, 0.5, 0, 0, 0.75, 0.25, 0.5] });
    expect(decodeYolox(out, geometry, options)).toStrictEqual([
      { classId: 1, label: 'car', confidence: 0.375, box: { x: 32, y: 64, width: 32, height: 32 } },
    ]);
  });

  it('clamps boxes to the image and drops candidates under the threshold', () => {
    // Stride 32, cell (1, 1) = row 80 + 3: cx = cy = 48, w = h = e^1 * 32 = 87 -> input 4.5..91.5, clamped.
    // Stride 8, cell (0, 0): score 0.5 * 0.5 = 0.25 < 0.3.
    const out = output({ 83: [0.5, 0.5, 1, 1, 1, 1, 0], 0: [0, 0, 0, 0, 0.5, 0.5, 0] });
    const w = Math.exp(Math.fround(1)) * 32;
    const x = (48 - w / 2) / 0.5;
    expect(decodeYolox(out, geometry, options)).toStrictEqual([
      { classId: 0, label: 'person', confidence: 1, box: { x, y: x, width: 128 - x, height: 96 - x } },
    ]);
  });

  it('suppresses overlapping boxes of the same class', () => {
    // Two neighbouring stride-8 cells with near-identical 32x32 boxes.
    const out = output({
      9: [0.5, 0.5, 1.386294, 1.386294, 1, 0.875, 0],
      10: [-0.5, 0.5, 1.386294, 1.386294, 1, 0.75, 0],
    });
    const result = decodeYolox(out, geometry, options);
    expect(result.map((d) => d.confidence)).toStrictEqual([0.875]);
  });

  it('rejects an output that does not fit the input size', () => {
    expect(() => decodeYolox({ data: new Float32Array(85 * 10), dims: [1, 10, 85] }, geometry, options)).toThrow(
      /yolox output must be \[1,84,5\+classes\] for a 64x64 input, got \[1,10,85\]/,
    );
  });
});
