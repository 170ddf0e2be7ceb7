import { describe, expect, it } from 'vitest';
import { stretchGeometry } from '../../../src/detection/geometry.js';
import type { DecodeOptions, OutputTensor } from '../../../src/detection/postprocess/common.js';
import { decodePicodet, expectedBin } from '../../../src/detection/postprocess/picodet.js';

const CLASSES = 2;
const BINS = 8;
const NEG = -1e30; // softmax weight exactly 0
const options: DecodeOptions = { labels: ['person', 'car'], scoreThreshold: 0.4, iouThreshold: 0.5 };

/** Box logits putting each side's whole softmax mass on the given bins (equal mass when several). */
function sides(...binsPerSide: number[][]): number[] {
  return binsPerSide.flatMap((hot) => Array.from({ length: BINS }, (_, j) => (hot.includes(j) ? 0 : NEG)));
}

function level(anchors: number, cells: Record<number, { scores: number[]; box: number[] }>) {
  const scores = new Float32Array(anchors * CLASSES);
  const boxes = new Float32Array(anchors * 4 * BINS);
  for (const [cell, v] of Object.entries(cells)) {
    scores.set(v.scores, Number(cell) * CLASSES);
    boxes.set(v.box, Number(cell) * 4 * BINS);
  }
  return {
    scores: { data: scores, dims: [1, anchors, CLASSES] } as OutputTensor,
    boxes: { data: boxes, dims: [1, anchors, 4 * BINS] } as OutputTensor,
  };
}

describe('expectedBin', () => {
  it('is the softmax expectation of the bin index', () => {
    expect(expectedBin(new Float32Array(8), 0, 8)).toBe(3.5);
    // Logits 1, 5, 3 after the offset: weights e^-4, 1, e^-2 relative to the max.
    expect(expectedBin(Float32Array.from([9, 1, 5, 3, 9]), 1, 3)).toBe(
      (1 + 2 * Math.exp(-2)) / (Math.exp(-4) + 1 + Math.exp(-2)),
    );
  });
});

describe('decodePicodet', () => {
  // 64x64 input, source 128x32 stretched: scaleX 0.5, scaleY 2. Levels: stride 8 (8x8 = 64), stride 32 (2x2 = 4).
  const geometry = stretchGeometry(128, 32, 64, 64);

  it('decodes GFL distances from the cell centre and undoes x and y scales separately', () => {
    // Stride 8, cell 10 = col 2, row 1: centre (2*8 + 3.5, 8 + 3.5) = (19.5, 11.5).
    // Sides l, t, r, b on bins 2, 1, 3 and {1, 3} (expectation 2): 16, 8, 24, 16 px at stride 8.
    const fine = level(64, { 10: { scores: [0.25, 0.75], box: sides([2], [1], [3], [1, 3]) } });
    const coarse = level(4, {});
    const result = decodePicodet(
      { scores: [fine.scores, coarse.scores], boxes: [coarse.boxes, fine.boxes] },
      geometry,
      options,
    );
    // Input x 3.5..43.5, y 3.5..27.5 -> source x 7..87, y 1.75..13.75.
    expect(result).toStrictEqual([
      { classId: 1, label: 'car', confidence: 0.75, box: { x: 7, y: 1.75, width: 80, height: 12 } },
    ]);
  });

  it('clamps to the image and skips cells under the threshold', () => {
    // Stride 32, cell 3 = col 1, row 1: centre (47.5, 47.5); sides 7 bins * 32 = 224 px each way.
    const coarse = level(4, {
      3: { scores: [0.5, 0], box: sides([7], [7], [7], [7]) },
      0: { scores: [0.375, 0.25], box: sides([1], [1], [1], [1]) },
    });
    expect(decodePicodet({ scores: [coarse.scores], boxes: [coarse.boxes] }, geometry, options)).toStrictEqual([
      { classId: 0, label: 'person', confidence: 0.5, box: { x: 0, y: 0, width: 128, height: 32 } },
    ]);
  });

  it('rejects a level whose rows fit no stride', () => {
    const odd = level(5, {});
    expect(() => decodePicodet({ scores: [odd.scores], boxes: [odd.boxes] }, geometry, options)).toThrow(
      /a level with 5 rows fits no stride/,
    );
  });
});
