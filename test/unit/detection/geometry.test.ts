import { describe, expect, it } from 'vitest';
import { letterboxGeometry, stretchGeometry, toSourceBox } from '../../../src/detection/geometry.js';

describe('letterboxGeometry', () => {
  it('scales by the tighter side and pads right/bottom when top-left (YOLOX)', () => {
    expect(letterboxGeometry(768, 576, 416, 416, 'top-left')).toStrictEqual({
      sourceWidth: 768,
      sourceHeight: 576,
      inputWidth: 416,
      inputHeight: 416,
      resizedWidth: 416,
      resizedHeight: 312,
      scaleX: 416 / 768,
      scaleY: 416 / 768,
      padX: 0,
      padY: 0,
    });
  });

  it('splits the padding when centred, the odd pixel going bottom (Ultralytics)', () => {
    const g = letterboxGeometry(640, 427, 640, 640, 'centre');
    expect([g.resizedWidth, g.resizedHeight, g.padX, g.padY]).toStrictEqual([640, 427, 0, 106]);
    const tall = letterboxGeometry(300, 600, 640, 640, 'centre');
    expect([tall.resizedWidth, tall.resizedHeight, tall.padX, tall.padY]).toStrictEqual([320, 640, 160, 0]);
  });
});

describe('stretchGeometry', () => {
  it('scales x and y separately with no padding (PicoDet)', () => {
    const g = stretchGeometry(800, 400, 416, 416);
    expect([g.scaleX, g.scaleY, g.padX, g.padY, g.resizedWidth]).toStrictEqual([0.52, 1.04, 0, 0, 416]);
  });
});

describe('toSourceBox', () => {
  const centred = letterboxGeometry(128, 64, 64, 64, 'centre'); // scale 0.5, padY 16

  it('removes padding, undoes the scale and returns x/y/width/height', () => {
    expect(toSourceBox(16, 24, 48, 40, centred)).toStrictEqual({ x: 32, y: 16, width: 64, height: 32 });
  });

  it('clamps to the source image', () => {
    expect(toSourceBox(-8, 8, 80, 60, centred)).toStrictEqual({ x: 0, y: 0, width: 128, height: 64 });
  });

  it('drops a box that lies wholly in the padding', () => {
    expect(toSourceBox(10, 0, 30, 12, centred)).toBeUndefined();
  });
});
