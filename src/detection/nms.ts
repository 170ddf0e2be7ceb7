import type { BBox } from '../domain/detection.js';

/** Anything with a class, a confidence and a box: `RawDetection` and decoder candidates. */
export interface ScoredBox {
  classId: number;
  confidence: number;
  box: BBox;
}

/** Intersection over union of two boxes; 0 when they do not overlap or both are empty. */
export function iou(a: BBox, b: BBox): number {
  const left = Math.max(a.x, b.x);
  const top = Math.max(a.y, b.y);
  const right = Math.min(a.x + a.width, b.x + b.width);
  const bottom = Math.min(a.y + a.height, b.y + b.height);
  const intersection = Math.max(0, right - left) * Math.max(0, bottom - top);
  const union = a.width * a.height + b.width * b.height - intersection;
  return union > 0 ? intersection / union : 0;
}

/**
 * Class-wise greedy non-maximum suppression: highest confidence first, a box is dropped when it overlaps a kept
 * box of the same class by more than `iouThreshold`. Boxes of different classes never suppress each other.
 * Returns at most `maxDetections` items, by descending confidence (ties keep input order).
 */
export function nms<T extends ScoredBox>(
  items: readonly T[],
  iouThreshold: number,
  maxDetections = Number.POSITIVE_INFINITY,
): T[] {
  const sorted = items
    .map((item, index) => ({ item, index }))
    .sort((a, b) => b.item.confidence - a.item.confidence || a.index - b.index)
    .map((entry) => entry.item);
  const keptByClass = new Map<number, T[]>();
  const kept: T[] = [];
  for (const candidate of sorted) {
    if (kept.length >= maxDetections) break;
    const sameClass = keptByClass.get(candidate.classId);
    if (sameClass?.some((k) => iou(k.box, candidate.box) > iouThreshold)) continue;
    if (sameClass) sameClass.push(candidate);
    else keptByClass.set(candidate.classId, [candidate]);
    kept.push(candidate);
  }
  return kept;
}
