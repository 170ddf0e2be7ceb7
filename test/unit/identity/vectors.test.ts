import { describe, expect, it } from 'vitest';
import {
  bestMatch,
  bytesToVector,
  cosine,
  normalize,
  runningMean,
  vectorToBytes,
} from '../../../src/features/identity/vectors.js';

describe('identity vectors', () => {
  it('round-trips through bytea bytes, also from an offset view (node-postgres Buffers share a pool)', () => {
    const v = normalize(new Float32Array([3, 4, 0]));
    const bytes = vectorToBytes(v);
    expect(bytes.byteLength).toBe(12);
    const pooled = Buffer.concat([Buffer.from([9, 9, 9]), Buffer.from(bytes)]).subarray(3);
    expect([...bytesToVector(pooled)]).toStrictEqual([...v]);
    expect(() => bytesToVector(new Uint8Array(5))).toThrow('not a multiple of 4');
  });

  it('cosine of normalised vectors, refusing mixed lengths', () => {
    const a = normalize(new Float32Array([1, 0]));
    const b = normalize(new Float32Array([1, 1]));
    expect(cosine(a, b)).toBeCloseTo(Math.SQRT1_2, 6);
    expect(() => cosine(a, new Float32Array(3))).toThrow('different lengths');
  });

  it('the running mean stays normalised and moves toward the new vector', () => {
    const mean = runningMean(new Float32Array([1, 0]), 1, new Float32Array([0, 1]));
    expect(mean[0]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(Math.hypot(...mean)).toBeCloseTo(1, 6);
  });

  it('bestMatch picks the highest similarity over every vector of a key', () => {
    const gallery = [
      { key: 'a', vector: normalize(new Float32Array([1, 0])) },
      { key: 'b', vector: normalize(new Float32Array([0, 1])) },
      { key: 'a', vector: normalize(new Float32Array([1, 1])) },
    ];
    expect(bestMatch(normalize(new Float32Array([0.2, 1])), gallery)?.key).toBe('b');
    expect(bestMatch(new Float32Array(2), [])).toBeUndefined();
  });
});
