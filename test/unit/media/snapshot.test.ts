import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { isPermanent } from '../../../src/lib/errors.js';
import { annotateSnapshot, overlaySvg, snapshotSize } from '../../../src/media/snapshot.js';
import { fixtureImage, missingAsset } from '../../support/env.js';

const astronaut = fixtureImage('person_astronaut.png');
const assetsMissing = missingAsset(astronaut);
if (assetsMissing) console.warn(`skipping snapshot tests on the fixture photo: ${assetsMissing}`);

const person = { label: 'person', confidence: 0.934, box: { x: 100, y: 40, width: 300, height: 440 } };

async function rgb(jpeg: Buffer) {
  const { data, info } = await sharp(jpeg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const at = (x: number, y: number) => {
    const i = (y * info.width + x) * 3;
    return [data[i] ?? 0, data[i + 1] ?? 0, data[i + 2] ?? 0] as const;
  };
  return { data, info, at };
}

/** Mean absolute difference of two same-size RGB images inside a rectangle. */
function meanDiff(a: Buffer, b: Buffer, width: number, rect: { x: number; y: number; w: number; h: number }): number {
  let sum = 0;
  for (let y = rect.y; y < rect.y + rect.h; y++) {
    for (let x = rect.x; x < rect.x + rect.w; x++) {
      for (let c = 0; c < 3; c++) {
        const i = (y * width + x) * 3 + c;
        sum += Math.abs((a[i] ?? 0) - (b[i] ?? 0));
      }
    }
  }
  return sum / (rect.w * rect.h * 3);
}

describe('snapshotSize', () => {
  it('shrinks the longest side to maxPx, keeps the aspect, never enlarges', () => {
    expect(snapshotSize(1920, 1080, 1280)).toStrictEqual({ width: 1280, height: 720 });
    expect(snapshotSize(1080, 1920, 640)).toStrictEqual({ width: 360, height: 640 });
    expect(snapshotSize(512, 512, 1280)).toStrictEqual({ width: 512, height: 512 });
    expect(snapshotSize(4000, 3, 64)).toStrictEqual({ width: 64, height: 1 });
  });
});

describe('overlaySvg', () => {
  it('draws one box and one label per detection, scaled, with the confidence in percent and escaped text', () => {
    const svg = overlaySvg(
      [{ label: 'a<b>&"c"', confidence: 0.5, box: { x: 10, y: 200, width: 40, height: 20 } }],
      300,
      300,
      0.5,
    );
    expect(svg).toContain('<rect x="5" y="100" width="20" height="10" fill="none"');
    expect(svg).toContain('>a&lt;b&gt;&amp;&quot;c&quot; 50%</text>');
    expect(svg.match(/<rect /g)).toHaveLength(2);
    expect(overlaySvg([], 10, 10, 1)).not.toContain('<rect');
  });
});

describe.skipIf(assetsMissing !== undefined)('annotateSnapshot on the fixture photo', () => {
  const source = () => readFileSync(astronaut);

  it('returns a JPEG with the longest side at most maxPx, never larger than the source', async () => {
    const small = await sharp(await annotateSnapshot(source(), [person], 200)).metadata();
    expect([small.format, small.width, small.height]).toStrictEqual(['jpeg', 200, 200]);
    const large = await sharp(await annotateSnapshot(source(), [person], 4096)).metadata();
    expect([large.format, large.width, large.height]).toStrictEqual(['jpeg', 512, 512]);
  });

  it('changes pixels along the drawn box and leaves the picture elsewhere alone', async () => {
    const plain = await rgb(await annotateSnapshot(source(), [], 256));
    const boxed = await rgb(await annotateSnapshot(source(), [person], 256));
    expect([boxed.info.width, boxed.info.height]).toStrictEqual([256, 256]);
    // Box at scale 0.5: x 50..200, y 20..240. Its left edge is a red (person) vertical line at x = 50.
    const leftEdge = { x: 49, y: 80, w: 3, h: 120 };
    const inside = { x: 80, y: 100, w: 80, h: 80 };
    expect(meanDiff(plain.data, boxed.data, 256, leftEdge)).toBeGreaterThan(20);
    expect(meanDiff(plain.data, boxed.data, 256, inside)).toBeLessThan(2);
    const [r, g, b] = boxed.at(50, 150);
    expect(r).toBeGreaterThan(180);
    expect(g).toBeLessThan(110);
    expect(b).toBeLessThan(110);
  });
});

describe('annotateSnapshot', () => {
  it('draws in the EXIF-oriented frame the detector reports boxes in', async () => {
    // Stored 600x300 black; orientation 6 shows it as 300x600 (portrait).
    const stored = await sharp({ create: { width: 600, height: 300, channels: 3, background: '#000000' } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const box = { x: 20, y: 400, width: 200, height: 150 };
    const out = await rgb(await annotateSnapshot(stored, [{ label: 'car', confidence: 0.81, box }], 1000));
    expect([out.info.width, out.info.height]).toStrictEqual([300, 600]);
    const [r, g, b] = out.at(120, 549); // bottom edge of the box: blue for car
    expect(b).toBeGreaterThan(150);
    expect(r).toBeLessThan(110);
    expect(g).toBeLessThan(180);
    expect(out.at(150, 100)).toStrictEqual(out.at(150, 101)); // top half untouched, still black
    expect(Math.max(...out.at(150, 100))).toBeLessThan(10);
  });

  it('refuses undecodable input and a bad maxPx with permanent errors that say what is wrong', async () => {
    const garbage = annotateSnapshot(Buffer.from('definitely not an image'), [], 100);
    await expect(garbage).rejects.toThrow(/snapshot source cannot be decoded/);
    await expect(garbage.catch((e: unknown) => isPermanent(e))).resolves.toBe(true);
    await expect(annotateSnapshot(Buffer.alloc(0), [], 0)).rejects.toThrow(/maxPx must be a positive integer, got 0/);
  });

  it('refuses an image over the pixel limit as too large', async () => {
    const big = await sharp({ create: { width: 400, height: 400, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    await expect(annotateSnapshot(big, [], 100, { maxPixels: 1000 })).rejects.toMatchObject({
      code: 'MEDIA_TOO_LARGE',
      permanent: true,
    });
  });
});
