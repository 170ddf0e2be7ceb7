import { describe, expect, it } from 'vitest';
import { faceMatch, faceOwner } from '../../../src/features/identity/face.processor.js';
import { normalize } from '../../../src/features/identity/vectors.js';

const v = (...xs: number[]) => normalize(new Float32Array(xs));
const face = (x: number, y: number) => ({ x, y, width: 20, height: 24, score: 0.9 });

describe('faceOwner: a face found in two head regions belongs to one person', () => {
  const resident = { x: 100, y: 50, width: 80, height: 200 };
  const stranger = { x: 160, y: 40, width: 80, height: 210 };

  it('goes to the person whose box centre is nearest the face, among the boxes holding its centre', () => {
    // Centre x 140: only in the resident's box (100-180).
    expect(faceOwner(face(130, 60), [resident, stranger])).toBe(0);
    // Centre x 190: only in the stranger's box (160-240).
    expect(faceOwner(face(180, 55), [resident, stranger])).toBe(1);
    // Centre x 168: in both; 28 px from the resident's centre (140), 32 px from the stranger's (200).
    expect(faceOwner(face(158, 55), [resident, stranger])).toBe(0);
    // Centre x 174: in both; 34 px from the resident's centre, 26 px from the stranger's.
    expect(faceOwner(face(164, 55), [resident, stranger])).toBe(1);
  });

  it('belongs to nobody outside every box (a face in the margin around the head region)', () => {
    expect(faceOwner(face(20, 60), [resident, stranger])).toBeUndefined();
  });
});

describe('faceMatch', () => {
  const matching = { matchThreshold: 0.5, clusterThreshold: 0.55 };
  const named = { key: { personId: 1, cluster: false }, vector: v(1, 1) };
  const cluster = { key: { personId: 9, cluster: true }, vector: v(1, 0.7) };

  it('takes a named person at the match threshold before a closer unknown-face cluster', () => {
    // cosine with named 0.97, with the cluster 0.998: the named person still wins.
    expect(faceMatch(v(1, 0.75), [named, cluster], matching).match?.key.personId).toBe(1);
  });

  it('falls back to a cluster at the cluster threshold, else nothing', () => {
    const grouped = faceMatch(v(1, 0.4), [{ ...named, vector: v(-1, 1) }, cluster], matching);
    expect(grouped.match?.key.personId).toBe(9);
    // How far it is from everyone named is kept: evidence that it is nobody of the household.
    expect(grouped.namedSimilarity).toBeCloseTo(-0.394, 3);
    const none = faceMatch(
      v(0, 1),
      [
        { ...named, vector: v(1, 0) },
        { ...cluster, vector: v(1, 0) },
      ],
      matching,
    );
    expect(none).toStrictEqual({ match: undefined, namedSimilarity: 0 });
  });
});
