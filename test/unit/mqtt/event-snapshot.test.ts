import { describe, expect, it } from 'vitest';
import { bestFrame, type EventDetectionPicture, underMediaRoot } from '../../../src/mqtt/event-snapshot.js';

const box = { x: 1, y: 2, width: 3, height: 4 };
const d = (detectionId: number, confidence: number, mediaFileId: number, frameIndex: number | null) =>
  ({
    detectionId,
    mediaFileId,
    mediaPath: `cam/${mediaFileId}.mp4`,
    mediaType: frameIndex === null ? 'image' : 'video',
    frameIndex,
    objectType: `object${detectionId}`,
    confidence,
    box,
  }) satisfies EventDetectionPicture;

describe('an event picture', () => {
  it('is the frame of the highest-confidence detection, with every detection of that frame only', () => {
    const frame = bestFrame([d(1, 0.5, 7, 0), d(2, 0.9, 7, 3), d(3, 0.6, 7, 3), d(4, 0.7, 8, 3), d(5, 0.8, 7, 1)]);
    expect(frame?.best.detectionId).toBe(2);
    expect(frame?.boxes.map((b) => [b.label, b.confidence])).toStrictEqual([
      ['object2', 0.9],
      ['object3', 0.6],
    ]);
  });

  it('takes the lowest id on a tie, and is undefined without detections', () => {
    expect(bestFrame([d(9, 0.7, 1, null), d(4, 0.7, 2, null)])?.best.detectionId).toBe(4);
    expect(bestFrame([])).toBeUndefined();
  });

  it('refuses a stored path that leaves the media root', () => {
    expect(underMediaRoot('/media', 'Porch/a.jpg')).toBe('/media/Porch/a.jpg');
    expect(() => underMediaRoot('/media', '../etc/passwd')).toThrow(/outside the media root/);
    expect(() => underMediaRoot('/media', '/etc/passwd')).toThrow(/outside the media root/);
  });
});
