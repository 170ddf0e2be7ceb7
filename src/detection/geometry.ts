import type { BBox } from '../domain/detection.js';

/**
 * How a source image (after EXIF orientation) was placed into the model input: input = source * scale + pad.
 * Decoders use it to map boxes back to source pixels.
 */
export interface InputGeometry {
  /** Oriented source image size in pixels. */
  sourceWidth: number;
  sourceHeight: number;
  /** Model input size in pixels. */
  inputWidth: number;
  inputHeight: number;
  /** Size of the resized image inside the input (the rest is padding). */
  resizedWidth: number;
  resizedHeight: number;
  scaleX: number;
  scaleY: number;
  /** Padding on the left and top of the resized image. */
  padX: number;
  padY: number;
}

export type LetterboxAlign = 'top-left' | 'centre';

/**
 * Keeps the aspect ratio: scale by min(inW/w, inH/h), then pad. `top-left` pads right and bottom (YOLOX);
 * `centre` splits the padding, the extra pixel going right/bottom (Ultralytics LetterBox).
 */
export function letterboxGeometry(
  sourceWidth: number,
  sourceHeight: number,
  inputWidth: number,
  inputHeight: number,
  align: LetterboxAlign,
): InputGeometry {
  const scale = Math.min(inputWidth / sourceWidth, inputHeight / sourceHeight);
  const resizedWidth = Math.min(inputWidth, Math.max(1, Math.round(sourceWidth * scale)));
  const resizedHeight = Math.min(inputHeight, Math.max(1, Math.round(sourceHeight * scale)));
  const padX = align === 'centre' ? Math.floor((inputWidth - resizedWidth) / 2) : 0;
  const padY = align === 'centre' ? Math.floor((inputHeight - resizedHeight) / 2) : 0;
  return {
    sourceWidth,
    sourceHeight,
    inputWidth,
    inputHeight,
    resizedWidth,
    resizedHeight,
    scaleX: scale,
    scaleY: scale,
    padX,
    padY,
  };
}

/** Stretches the source to the whole input, x and y scaled separately (PicoDet). */
export function stretchGeometry(
  sourceWidth: number,
  sourceHeight: number,
  inputWidth: number,
  inputHeight: number,
): InputGeometry {
  return {
    sourceWidth,
    sourceHeight,
    inputWidth,
    inputHeight,
    resizedWidth: inputWidth,
    resizedHeight: inputHeight,
    scaleX: inputWidth / sourceWidth,
    scaleY: inputHeight / sourceHeight,
    padX: 0,
    padY: 0,
  };
}

/**
 * Maps corners in model-input pixels to a box in source pixels, clamped to the image. Returns undefined when
 * nothing of the box is left inside the image.
 */
export function toSourceBox(x1: number, y1: number, x2: number, y2: number, g: InputGeometry): BBox | undefined {
  const left = clamp((x1 - g.padX) / g.scaleX, g.sourceWidth);
  const top = clamp((y1 - g.padY) / g.scaleY, g.sourceHeight);
  const right = clamp((x2 - g.padX) / g.scaleX, g.sourceWidth);
  const bottom = clamp((y2 - g.padY) / g.scaleY, g.sourceHeight);
  if (right <= left || bottom <= top) return undefined;
  return { x: left, y: top, width: right - left, height: bottom - top };
}

function clamp(value: number, max: number): number {
  return Math.min(Math.max(value, 0), max);
}
