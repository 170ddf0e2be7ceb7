import { describe, expect, it } from 'vitest';
import type { DecodedFrame } from '../../../src/enrichment/contract.js';
import { cropFrame } from '../../../src/enrichment/crops.js';

/** A 4x3 frame whose pixel (x, y) is [x, y, 10x + y]. */
function frame(): DecodedFrame {
  const width = 4;
  const height = 3;
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set([x, y, 10 * x + y], (y * width + x) * 3);
  }
  return { frameIndex: 2, width, height, data };
}

describe('cropFrame', () => {
  it('cuts the box out row by row, keeping the frame index', () => {
    const crop = cropFrame(frame(), { x: 1, y: 1, width: 2, height: 2 });
    expect(crop).toStrictEqual({
      frameIndex: 2,
      width: 2,
      height: 2,
      data: Buffer.from([1, 1, 11, 2, 1, 21, 1, 2, 12, 2, 2, 22]),
    });
  });

  it('clips a box that reaches past the frame and rounds it out to whole pixels', () => {
    const crop = cropFrame(frame(), { x: 2.5, y: -1, width: 5, height: 1.5 });
    expect(crop?.width).toBe(2);
    expect(crop?.height).toBe(1);
    expect(crop?.data).toStrictEqual(Buffer.from([2, 0, 20, 3, 0, 30]));
  });

  it('grows the box by the margin on each side before clipping', () => {
    const crop = cropFrame(frame(), { x: 1, y: 1, width: 1, height: 1 }, 1);
    expect([crop?.width, crop?.height]).toStrictEqual([3, 3]);
    expect(crop?.data.subarray(0, 3)).toStrictEqual(Buffer.from([0, 0, 0]));
  });

  it('gives nothing for a box outside the frame', () => {
    expect(cropFrame(frame(), { x: 10, y: 0, width: 2, height: 2 })).toBeUndefined();
  });
});
