import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { extractClipFrames, ffmpegAvailable, splitJpegStream } from '../../../src/detection/clip-frames.js';

async function jpeg(colour: string): Promise<Buffer> {
  return sharp({ create: { width: 16, height: 8, channels: 3, background: colour } })
    .jpeg()
    .toBuffer();
}

describe('splitJpegStream', () => {
  it('splits concatenated JPEGs and drops a trailing partial frame', async () => {
    const [a, b] = [await jpeg('#ff0000'), await jpeg('#00ff00')];
    const frames = splitJpegStream(Buffer.concat([a, b, b.subarray(0, 40)]));
    expect(frames.map((f) => Buffer.from(f))).toStrictEqual([a, b]);
    expect((await sharp(frames[1]).stats()).channels[1]?.mean).toBeGreaterThan(250);
  });

  it('does not end a frame at an EOI marker inside a segment (e.g. an EXIF thumbnail)', async () => {
    const a = await jpeg('#0000ff');
    const payload = Buffer.from([0xff, 0xd8, 0x01, 0x02, 0xff, 0xd9]);
    const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, 0x00, payload.length + 2]), payload]);
    const withThumb = Buffer.concat([a.subarray(0, 2), app1, a.subarray(2)]);
    const frames = splitJpegStream(Buffer.concat([withThumb, a]));
    expect(frames.map((f) => f.length)).toStrictEqual([withThumb.length, a.length]);
  });

  it('returns nothing for a stream without JPEGs', () => {
    expect(splitJpegStream(Buffer.from('no images here'))).toStrictEqual([]);
  });
});

describe('ffmpeg missing', () => {
  const missing = '/nonexistent/bin/ffmpeg-hsi-test';

  it('reports FFMPEG_MISSING permanently, saying what to install', async () => {
    await expect(
      extractClipFrames('/tmp/clip.mp4', {
        ffmpegPath: missing,
        fps: 1,
        maxFrames: 10,
        timeoutMs: 5000,
        maxBytes: 1e6,
      }),
    ).rejects.toMatchObject({
      code: 'FFMPEG_MISSING',
      permanent: true,
      message: `ffmpeg not found (${missing}): install ffmpeg to detect in clips, or set its path`,
    });
  });

  it('is reported as unavailable', async () => {
    expect(await ffmpegAvailable(missing)).toBe(false);
  });
});
