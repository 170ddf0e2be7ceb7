import type { BBox } from '../domain/detection.js';
import type { DecodedFrame } from './contract.js';

/**
 * A detection's box cut out of a decoded frame (RGB, 3 bytes a pixel), clipped to the frame and to whole pixels;
 * `margin` grows the box by that fraction of its size on each side first (face and re-id models like some
 * context). Undefined when nothing of the box lies inside the frame.
 */
export function cropFrame(frame: DecodedFrame, box: BBox, margin = 0): DecodedFrame | undefined {
  const dx = box.width * margin;
  const dy = box.height * margin;
  const left = Math.max(0, Math.floor(box.x - dx));
  const top = Math.max(0, Math.floor(box.y - dy));
  const right = Math.min(frame.width, Math.ceil(box.x + box.width + dx));
  const bottom = Math.min(frame.height, Math.ceil(box.y + box.height + dy));
  const width = right - left;
  const height = bottom - top;
  if (width <= 0 || height <= 0) return undefined;
  const data = Buffer.allocUnsafe(width * height * 3);
  const rowBytes = width * 3;
  for (let y = 0; y < height; y++) {
    const from = ((top + y) * frame.width + left) * 3;
    frame.data.copy(data, y * rowBytes, from, from + rowBytes);
  }
  return { frameIndex: frame.frameIndex, width, height, data };
}
