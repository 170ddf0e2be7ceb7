import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { INPUT_SPECS, type InputSpec, preprocess, toChw } from '../../../src/detection/preprocess.js';

const MAX_PIXELS = 10_000_000;

function solid(width: number, height: number, channels: 1 | 3 | 4, value: number[]) {
  const background =
    channels === 1 ? { r: value[0], g: value[0], b: value[0] } : { r: value[0], g: value[1], b: value[2], alpha: 1 };
  return sharp({ create: { width, height, channels: channels === 1 ? 3 : channels, background } });
}

/** Value of plane `c` at (x, y) of a CHW tensor of width w, height h. */
function at(data: Float32Array, w: number, h: number, c: number, x: number, y: number): number | undefined {
  return data[c * w * h + y * w + x];
}

describe('toChw', () => {
  it('reorders interleaved RGB into planes in the spec channel order, normalised', () => {
    const rgb = Uint8Array.from([10, 20, 30, 40, 50, 60]);
    expect(Array.from(toChw(rgb, 2, INPUT_SPECS.yolox))).toStrictEqual([30, 60, 20, 50, 10, 40]);
    const spec: InputSpec = { placement: 'stretch', channels: 'rgb', mean: [10, 20, 30], std: [2, 4, 0.5] };
    expect(Array.from(toChw(rgb, 2, spec))).toStrictEqual([0, 15, 0, 7.5, 0, 60]);
  });
});

describe('preprocess', () => {
  it('letterboxes top-left with grey 114 for yolox, BGR 0-255', async () => {
    const image = await solid(200, 100, 3, [255, 0, 0]).png().toBuffer();
    const result = await preprocess(image, INPUT_SPECS.yolox, 64, 64, MAX_PIXELS);
    expect([result.width, result.height, result.data.length]).toStrictEqual([200, 100, 3 * 64 * 64]);
    expect([result.geometry.resizedWidth, result.geometry.resizedHeight, result.geometry.padY]).toStrictEqual([
      64, 32, 0,
    ]);
    expect([0, 1, 2].map((c) => at(result.data, 64, 64, c, 30, 10))).toStrictEqual([0, 0, 255]);
    expect([0, 1, 2].map((c) => at(result.data, 64, 64, c, 30, 50))).toStrictEqual([114, 114, 114]);
  });

  it('centres the letterbox for yolo, RGB scaled to 0-1', async () => {
    const image = await solid(128, 64, 3, [0, 255, 0]).jpeg().toBuffer();
    const result = await preprocess(image, INPUT_SPECS.yolo, 64, 64, MAX_PIXELS);
    expect([result.geometry.padX, result.geometry.padY]).toStrictEqual([0, 16]);
    expect([0, 1, 2].map((c) => at(result.data, 64, 64, c, 5, 5))).toStrictEqual(
      Array(3).fill(Math.fround(114 * (1 / 255))),
    );
    expect(at(result.data, 64, 64, 1, 32, 32)).toBeGreaterThan(0.98);
    expect(at(result.data, 64, 64, 0, 32, 32)).toBeLessThan(0.02);
  });

  it('stretches for picodet and normalises with its BGR mean and std', async () => {
    const image = await solid(100, 300, 3, [120, 120, 120]).png().toBuffer();
    const result = await preprocess(image, INPUT_SPECS.picodet, 64, 64, MAX_PIXELS);
    expect([result.geometry.scaleX, result.geometry.scaleY]).toStrictEqual([0.64, 64 / 300]);
    const spec = INPUT_SPECS.picodet;
    const expected = [0, 1, 2].map((c) => Math.fround((120 - spec.mean[c]!) * (1 / spec.std[c]!)));
    expect([0, 1, 2].map((c) => at(result.data, 64, 64, c, 63, 63))).toStrictEqual(expected);
  });

  it('makes three equal planes from greyscale and drops alpha', async () => {
    const grey = await solid(40, 40, 1, [90]).toColourspace('b-w').png().toBuffer();
    expect((await sharp(grey).metadata()).channels).toBe(1);
    const g = await preprocess(grey, INPUT_SPECS.yolox, 32, 32, MAX_PIXELS);
    expect([0, 1, 2].map((c) => at(g.data, 32, 32, c, 16, 16))).toStrictEqual([90, 90, 90]);
    const rgba = await solid(40, 40, 4, [10, 20, 30]).png().toBuffer();
    const a = await preprocess(rgba, INPUT_SPECS.yolox, 32, 32, MAX_PIXELS);
    expect([0, 1, 2].map((c) => at(a.data, 32, 32, c, 16, 16))).toStrictEqual([30, 20, 10]);
  });

  it('reports the EXIF-oriented size and lays the image out in that frame', async () => {
    // Stored 200x100 with orientation 6 (rotate 90 clockwise to view): displayed 100x200.
    const stored = solid(200, 100, 3, [0, 0, 0]).composite([
      { input: await solid(100, 100, 3, [255, 255, 255]).png().toBuffer(), left: 0, top: 0 },
    ]);
    const image = await stored.jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const result = await preprocess(image, INPUT_SPECS.yolox, 64, 64, MAX_PIXELS);
    expect([result.width, result.height]).toStrictEqual([100, 200]);
    expect([result.geometry.resizedWidth, result.geometry.resizedHeight]).toStrictEqual([32, 64]);
    // The stored left half (white) is the displayed top half.
    expect(at(result.data, 64, 64, 0, 16, 8)).toBeGreaterThan(250);
    expect(at(result.data, 64, 64, 0, 16, 56)).toBeLessThan(5);
  });

  it('rejects corrupt and truncated input as permanent MEDIA_CORRUPT', async () => {
    const notImage = Buffer.from('this is not an image at all');
    await expect(preprocess(notImage, INPUT_SPECS.yolox, 64, 64, MAX_PIXELS)).rejects.toMatchObject({
      code: 'MEDIA_CORRUPT',
      permanent: true,
    });
    const jpeg = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#336699' } })
      .jpeg()
      .toBuffer();
    const truncated = jpeg.subarray(0, Math.floor(jpeg.length / 2));
    await expect(preprocess(truncated, INPUT_SPECS.yolox, 64, 64, MAX_PIXELS)).rejects.toMatchObject({
      code: 'MEDIA_CORRUPT',
      permanent: true,
    });
  });

  it('rejects an image over the pixel limit as permanent MEDIA_TOO_LARGE', async () => {
    const image = await solid(100, 100, 3, [1, 2, 3]).png().toBuffer();
    await expect(preprocess(image, INPUT_SPECS.yolox, 64, 64, 9_999)).rejects.toMatchObject({
      code: 'MEDIA_TOO_LARGE',
      permanent: true,
      message: expect.stringContaining('image is over the limit of 9999 pixels (max_pixels)'),
    });
  });
});
