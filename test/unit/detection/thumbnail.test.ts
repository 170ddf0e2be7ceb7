import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { cropRect, writeThumbnails } from '../../../src/detection/thumbnail.js';

describe('cropRect', () => {
  it('grows the box by the margin on every side, to whole pixels', () => {
    expect(cropRect({ x: 100, y: 50, width: 40, height: 20 }, 1000, 1000, 0.1)).toStrictEqual({
      left: 96,
      top: 48,
      width: 48,
      height: 24,
    });
  });

  it('clamps to the image and never returns an empty rectangle', () => {
    expect(cropRect({ x: 0, y: 5, width: 100, height: 95 }, 100, 100, 0.1)).toStrictEqual({
      left: 0,
      top: 0,
      width: 100,
      height: 100,
    });
    expect(cropRect({ x: 100, y: 100, width: 0, height: 0 }, 100, 100, 0.1)).toStrictEqual({
      left: 99,
      top: 99,
      width: 1,
      height: 1,
    });
  });
});

describe('writeThumbnails', () => {
  it('writes one JPEG per detection, longest side at most 256, in the EXIF-oriented frame', async () => {
    // Stored 600x300 with a white left half; orientation 6 shows it as 300x600 with the white half on top.
    const white = await sharp({ create: { width: 300, height: 300, channels: 3, background: '#ffffff' } })
      .png()
      .toBuffer();
    const image = await sharp({ create: { width: 600, height: 300, channels: 3, background: '#000000' } })
      .composite([{ input: white, left: 0, top: 0 }])
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const dir = path.join(await mkdtemp(path.join(tmpdir(), 'hsi-thumbs-')), 'front_door');
    const boxes = [
      { box: { x: 50, y: 50, width: 200, height: 200 } },
      { box: { x: 100, y: 400, width: 50, height: 100 } },
    ];

    const paths = await writeThumbnails(image, boxes, dir, 'snap');

    expect(paths).toStrictEqual([path.join(dir, 'snap-0.jpg'), path.join(dir, 'snap-1.jpg')]);
    const first = await sharp(paths[0]).stats();
    const firstMeta = await sharp(paths[0]).metadata();
    expect([firstMeta.format, firstMeta.width, firstMeta.height]).toStrictEqual(['jpeg', 240, 240]);
    expect(first.channels[0]?.mean).toBeGreaterThan(250); // inside the white (top) half
    const second = await sharp(paths[1]).metadata();
    expect([second.width, second.height]).toStrictEqual([60, 120]);
    expect((await sharp(paths[1]).stats()).channels[0]?.mean).toBeLessThan(5);
  });

  it('scales large crops down to 256 on the longest side and writes nothing for no detections', async () => {
    const image = await sharp({ create: { width: 1200, height: 800, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    const dir = await mkdtemp(path.join(tmpdir(), 'hsi-thumbs-'));
    const [file] = await writeThumbnails(image, [{ box: { x: 100, y: 100, width: 1000, height: 500 } }], dir, 'big');
    const meta = await sharp(file).metadata();
    expect([meta.width, meta.height]).toStrictEqual([256, 128]); // crop 0..1200 x 50..650
    expect(await writeThumbnails(image, [], path.join(dir, 'none'), 'x')).toStrictEqual([]);
  });

  it('rejects a corrupt image as MEDIA_CORRUPT', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'hsi-thumbs-'));
    await expect(
      writeThumbnails(Buffer.from('nope'), [{ box: { x: 0, y: 0, width: 1, height: 1 } }], dir, 'x'),
    ).rejects.toMatchObject({ code: 'MEDIA_CORRUPT' });
  });
});
