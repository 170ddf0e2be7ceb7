import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listDetections } from '../../../src/storage/detection.repository.js';
import { ffmpegMissing, makePhotoClip } from '../../support/clips.js';
import { fixtureImage, missingAsset, modelPath } from '../../support/env.js';
import { startTestHsi, type TestHsi, waitForMedia } from '../../support/hsi.js';

const skip =
  missingAsset(modelPath('yolox_nano.onnx'), fixtureImage('person_astronaut.png')) ?? (await ffmpegMissing());
if (skip) console.warn(`skipping clip pipeline tests: ${skip}`);

describe.skipIf(skip !== undefined)('clips through the pipeline', () => {
  let t: TestHsi;
  let noFfmpeg: TestHsi;
  beforeAll(async () => {
    t = await startTestHsi('pglite+memory');
    noFfmpeg = await startTestHsi('pglite+memory', { HSI_INGEST_FFMPEG_PATH: '/nonexistent/ffmpeg' });
  });
  afterAll(async () => {
    await t?.dispose();
    await noFfmpeg?.dispose();
  });

  it('samples one frame per second and detects in each, frame by frame', async () => {
    makePhotoClip(path.join(t.mediaRoot, 'Drive Way', 'clip.mp4'));
    const row = await waitForMedia(t.hsi.store.db, 'Drive Way/clip.mp4', 30_000);
    expect(row).toMatchObject({ status: 'done', media_type: 'video' });
    const detections = await listDetections(t.hsi.store.db, { mediaFileId: row.id });
    const frames = [...new Set(detections.filter((d) => d.object_type === 'person').map((d) => d.frame_index))].sort();
    expect(frames).toStrictEqual([0, 1, 2]);
    expect(detections.every((d) => d.media_type === 'video')).toBe(true);
  });

  it('rejects a clip with that reason when ffmpeg is missing', async () => {
    makePhotoClip(path.join(noFfmpeg.mediaRoot, 'Drive Way', 'clip.mp4'));
    const row = await waitForMedia(noFfmpeg.hsi.store.db, 'Drive Way/clip.mp4', 30_000);
    expect(row).toMatchObject({ status: 'rejected', error_code: 'FFMPEG_MISSING' });
    expect(row.error).toMatch(/install ffmpeg/);
  });
});
