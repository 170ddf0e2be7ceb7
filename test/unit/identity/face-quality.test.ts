import { describe, expect, it } from 'vitest';
import type { DecodedFrame } from '../../../src/enrichment/contract.js';
import type { FaceBox } from '../../../src/features/identity/contract.js';
import { assessFace, MIN_FRONTAL } from '../../../src/features/identity/models/face-quality.js';

const GATES = { minFacePx: 32, minSharpness: 20 };

/** A grey frame from a function of the pixel position (0-255). */
function frame(width: number, height: number, grey: (x: number, y: number) => number): DecodedFrame {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.fill(Math.round(grey(x, y)), (y * width + x) * 3, (y * width + x) * 3 + 3);
  }
  return { frameIndex: null, width, height, data };
}

/** A face-like pattern, symmetric left to right: two dark eyes, a nose line and a mouth on a mid-grey oval. */
function symmetricFace(x: number, y: number, size: number): number {
  const u = x / size - 0.5;
  const v = y / size;
  if (u * u * 4 + (v - 0.5) ** 2 * 3 > 0.7) return 40;
  if (Math.abs(Math.abs(u) - 0.18) < 0.06 && Math.abs(v - 0.38) < 0.04) return 20;
  if (Math.abs(u) < 0.02 && v > 0.4 && v < 0.62) return 90;
  if (Math.abs(u) < 0.15 && Math.abs(v - 0.75) < 0.025) return 30;
  // Fine texture, also symmetric: what a sharp camera picks up.
  return 170 + ((Math.floor(Math.abs(u) * size) + y) % 2) * 30;
}

/** A (2 radius + 1)-square box blur, applied `passes` times (close to a gaussian). */
function blurred(image: DecodedFrame, radius: number, passes: number): DecodedFrame {
  let data = Buffer.from(image.data);
  const { width, height } = image;
  for (let p = 0; p < passes; p++) {
    const next = Buffer.alloc(data.length);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let sum = 0;
        let n = 0;
        for (let dy = -radius; dy <= radius; dy++) {
          for (let dx = -radius; dx <= radius; dx++) {
            const xx = Math.min(width - 1, Math.max(0, x + dx));
            const yy = Math.min(height - 1, Math.max(0, y + dy));
            sum += data[(yy * width + xx) * 3]!;
            n += 1;
          }
        }
        next.fill(Math.round(sum / n), (y * width + x) * 3, (y * width + x) * 3 + 3);
      }
    }
    data = next;
  }
  return { ...image, data };
}

const boxOf = (image: DecodedFrame): FaceBox => ({ x: 0, y: 0, width: image.width, height: image.height, score: 0.99 });

describe('assessFace', () => {
  const size = 96;
  const sharpFace = frame(size, size, (x, y) => symmetricFace(x, y, size));

  it('passes a sharp, symmetric face of a usable size, with a high score', () => {
    const quality = assessFace(sharpFace, boxOf(sharpFace), GATES);
    expect(quality.rejected).toBeNull();
    expect(quality.sharpness).toBeGreaterThan(GATES.minSharpness * 10);
    expect(quality.frontal).toBeGreaterThan(0.9);
    expect(quality.score).toBeGreaterThan(0.9);
    expect(quality.score).toBeLessThanOrEqual(1);
  });

  it('rejects the same face blurred, with a lower sharpness and score', () => {
    const soft = blurred(sharpFace, 3, 4);
    const quality = assessFace(soft, boxOf(soft), GATES);
    expect(quality.rejected).toBe('blurred');
    expect(quality.sharpness).toBeLessThan(GATES.minSharpness);
    expect(quality.score).toBeLessThan(assessFace(sharpFace, boxOf(sharpFace), GATES).score);
  });

  it('rejects a one-sided crop (half face, half background) as turned away', () => {
    const half = frame(size, size, (x, y) => (x < size / 2 ? symmetricFace(x + size / 4, y, size) : 60 + (y % 7) * 20));
    const quality = assessFace(half, boxOf(half), GATES);
    expect(quality.frontal).toBeLessThan(MIN_FRONTAL);
    expect(quality.rejected).toBe('turned away');
  });

  it('does not call a face lit from one side turned away (the left-right ramp is removed)', () => {
    const sideLit = frame(size, size, (x, y) => Math.min(255, symmetricFace(x, y, size) * (0.5 + x / size)));
    expect(assessFace(sideLit, boxOf(sideLit), GATES).frontal).toBeGreaterThan(0.5);
  });

  it('rejects a face narrower than min_face_px first, naming its width', () => {
    const tiny = frame(18, 22, (x, y) => symmetricFace(x, y, 18));
    const quality = assessFace(tiny, boxOf(tiny), GATES);
    expect(quality.rejected).toBe('too small: 18 px');
    expect(quality.score).toBeLessThan(0.3);
  });

  it('gives a flat crop zero sharpness and zero frontality without failing', () => {
    const flat = frame(40, 40, () => 128);
    const quality = assessFace(flat, boxOf(flat), GATES);
    expect(quality).toStrictEqual({ score: 0, sharpness: 0, frontal: 0, rejected: 'blurred' });
  });
});
