import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ClipFrameOptions, extractClipFrames, ffmpegAvailable } from '../../../src/detection/clip-frames.js';
import { fixtureImage, missingAsset } from '../../support/env.js';

const FFMPEG = process.env.HSI_FFMPEG ?? 'ffmpeg';
const hasFfmpeg = await ffmpegAvailable(FFMPEG);
if (!hasFfmpeg && process.env.REQUIRE_FFMPEG === '1') throw new Error(`REQUIRE_FFMPEG=1 but ${FFMPEG} does not run`);
const PHOTO = fixtureImage('person_astronaut.png');
const skip = hasFfmpeg ? missingAsset(PHOTO) : `${FFMPEG} not installed`;
const run = promisify(execFile);

const opts = (overrides: Partial<ClipFrameOptions> = {}): ClipFrameOptions => ({
  ffmpegPath: FFMPEG,
  fps: 1,
  maxFrames: 10,
  timeoutMs: 30_000,
  maxBytes: 50_000_000,
  ...overrides,
});

describe.skipIf(skip !== undefined)(`extractClipFrames with ffmpeg${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let dir: string;
  let clip: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'hsi-clip-'));
    clip = path.join(dir, 'clip.mp4');
    // A 3-second, 5 fps clip of a still photo.
    const args = ['-hide_banner', '-loglevel', 'error', '-loop', '1', '-t', '3', '-i', PHOTO, '-r', '5'];
    await run(FFMPEG, [...args, '-c:v', 'mpeg4', '-pix_fmt', 'yuv420p', clip]);
  });

  it('samples one JPEG per second of video', async () => {
    const frames = await extractClipFrames(clip, opts());
    expect(frames).toHaveLength(3);
    for (const frame of frames) {
      expect(await sharp(frame).metadata()).toMatchObject({ format: 'jpeg', width: 512, height: 512 });
    }
  });

  it('stops at maxFrames', async () => {
    expect(await extractClipFrames(clip, opts({ maxFrames: 2 }))).toHaveLength(2);
  });

  it('rejects a broken clip as permanent MEDIA_CORRUPT with ffmpeg’s last error line', async () => {
    const broken = path.join(dir, 'broken.mp4');
    const bytes = await readFile(clip);
    await writeFile(broken, Buffer.concat([Buffer.from('garbage'), bytes.subarray(0, 200)]));
    await expect(extractClipFrames(broken, opts())).rejects.toMatchObject({
      code: 'MEDIA_CORRUPT',
      permanent: true,
      message: expect.stringMatching(/^ffmpeg cannot read .*broken\.mp4: .*Invalid data found when processing input$/),
    });
  });

  it('fails over maxBytes (MEDIA_TOO_LARGE) and on timeout (transient), killing ffmpeg', async () => {
    await expect(extractClipFrames(clip, opts({ maxBytes: 1000 }))).rejects.toMatchObject({
      code: 'MEDIA_TOO_LARGE',
      permanent: true,
    });
    await expect(extractClipFrames(clip, opts({ timeoutMs: 1 }))).rejects.toMatchObject({
      code: 'TRANSIENT',
      permanent: false,
      message: expect.stringContaining('ffmpeg took over 1 ms'),
    });
  });

  it('reports ffmpeg as available', async () => {
    expect(await ffmpegAvailable(FFMPEG)).toBe(true);
  });
});
