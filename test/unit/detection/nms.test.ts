import { describe, expect, it } from 'vitest';
import { iou, nms } from '../../../src/detection/nms.js';
import { type ClassFilter, filterDetections, type RawDetection } from '../../../src/domain/detection.js';

function det(classId: number, label: string, confidence: number, x: number, y: number, w: number, h: number) {
  return { classId, label, confidence, box: { x, y, width: w, height: h } } satisfies RawDetection;
}

describe('iou', () => {
  it('is intersection over union', () => {
    // 10x10 boxes overlapping on a 5x10 strip: 50 / (100 + 100 - 50).
    expect(iou({ x: 0, y: 0, width: 10, height: 10 }, { x: 5, y: 0, width: 10, height: 10 })).toBe(50 / 150);
  });

  it('is 1 for identical boxes and 0 for disjoint, touching or empty ones', () => {
    const box = { x: 3, y: 4, width: 5, height: 6 };
    expect(iou(box, box)).toBe(1);
    expect(iou(box, { x: 20, y: 20, width: 5, height: 5 })).toBe(0);
    expect(iou(box, { x: 8, y: 4, width: 5, height: 6 })).toBe(0);
    expect(iou({ x: 0, y: 0, width: 0, height: 0 }, { x: 0, y: 0, width: 0, height: 0 })).toBe(0);
  });
});

describe('nms', () => {
  it('keeps the best of overlapping boxes of one class, by descending confidence', () => {
    const weak = det(0, 'person', 0.6, 1, 0, 10, 10);
    const strong = det(0, 'person', 0.9, 0, 0, 10, 10);
    const apart = det(0, 'person', 0.7, 50, 50, 10, 10);
    expect(nms([weak, strong, apart], 0.5)).toStrictEqual([strong, apart]);
  });

  it('never suppresses across classes', () => {
    const dog = det(16, 'dog', 0.8, 0, 0, 10, 10);
    const cat = det(15, 'cat', 0.7, 0, 0, 10, 10);
    expect(nms([cat, dog], 0.5)).toStrictEqual([dog, cat]);
  });

  it('keeps overlaps at or below the IoU threshold', () => {
    const a = det(2, 'car', 0.9, 0, 0, 10, 10);
    const b = det(2, 'car', 0.8, 5, 0, 10, 10); // IoU 1/3
    expect(nms([a, b], 1 / 3)).toStrictEqual([a, b]);
    expect(nms([a, b], 0.3)).toStrictEqual([a]);
  });

  it('caps the count and keeps input order on ties', () => {
    const boxes = [0, 1, 2, 3].map((i) => det(0, 'person', 0.5, i * 100, 0, 10, 10));
    expect(nms(boxes, 0.5, 2)).toStrictEqual([boxes[0], boxes[1]]);
  });

  it('feeds filterDetections: a suppressed duplicate is not counted, other classes are filtered out', () => {
    const filter: ClassFilter = { classes: ['person', 'dog'], confidence: 0.5, perClass: { dog: 0.85 } };
    const person = det(0, 'person', 0.9, 0, 0, 100, 200);
    const duplicate = det(0, 'person', 0.8, 2, 2, 100, 200);
    const dog = det(16, 'dog', 0.8, 0, 0, 100, 200);
    const cup = det(41, 'cup', 0.95, 10, 10, 20, 20);
    expect(filterDetections(nms([duplicate, dog, cup, person], 0.45), filter)).toStrictEqual([person]);
  });
});
