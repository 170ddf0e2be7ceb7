import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractClipFrames, ffmpegAvailable } from '../../../src/detection/clip-frames.js';
import { annotateSnapshot } from '../../../src/media/snapshot.js';
import { fixtureImage, missingAsset, modelPath } from '../../support/env.js';
import { seedEvent } from '../../support/event-seed.js';
import { type HaSession, startHaSession, stopHaSession } from '../../support/ha-session.js';
import type { HomeAssistant } from '../../support/home-assistant.js';
import { BACKENDS, backendsUnavailable, type TestHsi } from '../../support/hsi.js';

/**
 * The camera's snapshot (image entity) carries the event's picture before the event's messages reach Home
 * Assistant, so an automation triggered by the security event attaches this event's picture; a clip's picture is
 * the frame of its highest-confidence detection.
 */

const PHOTO = fixtureImage('person_astronaut.png');
const hasFfmpeg = await ffmpegAvailable('ffmpeg');
const assetsMissing =
  missingAsset(modelPath('yolox_nano.onnx'), PHOTO) ?? (hasFfmpeg ? undefined : 'ffmpeg not installed');

/** A 3 s, 5 fps clip of ffmpeg's test pattern (every frame differs: a counter and a moving gradient). */
function makeClip(target: string): void {
  mkdirSync(path.dirname(target), { recursive: true });
  execFileSync('ffmpeg', [
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    'testsrc=size=640x360:rate=5',
    '-t',
    '3',
    '-pix_fmt',
    'yuv420p',
    '-c:v',
    'libx264',
    target,
  ]);
}

/** Records the file's real sha256 and size on its media_files row, as ingest does: the snapshot checks them. */
async function recordContent(db: TestHsi['hsi']['store']['db'], mediaPath: string, file: string): Promise<void> {
  const bytes = readFileSync(file);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  await db.updateTable('media_files').set({ sha256, size: bytes.length }).where('path', '=', mediaPath).execute();
}

for (const backends of BACKENDS) {
  const skip = assetsMissing ?? (await backendsUnavailable(backends, { mosquitto: true }));
  if (skip) console.warn(`skipping the MQTT event snapshot tests on ${backends}: ${skip}`);

  describe.skipIf(skip !== undefined)(`the event's snapshot before the event, on ${backends}`, () => {
    let session: HaSession | undefined;
    let t: TestHsi;
    let ha: HomeAssistant;
    let base: string;

    beforeAll(async () => {
      session = await startHaSession(backends);
      ({ t, ha, base } = session);
    });
    afterAll(() => stopHaSession(backends, session));

    /** Positions in the message log of the camera's snapshot, event stream and security event since `from`. */
    async function order(camera: string, from: number) {
      const snapshot = await ha.next(`${base}/cameras/${camera}/snapshot`, () => true, from);
      const event = await ha.next(`${base}/events/${camera}`, () => true, from);
      const fired = await ha.next(`${base}/cameras/${camera}/security_event`, () => true, from);
      const at = (m: unknown) => ha.messages.indexOf(m as (typeof ha.messages)[number]);
      return { snapshot: at(snapshot), event: at(event), fired: at(fired) };
    }

    it('a photo: the annotated picture arrives before the event stream and the security event', async () => {
      mkdirSync(path.join(t.mediaRoot, 'Porch'));
      copyFileSync(PHOTO, path.join(t.mediaRoot, 'Porch', 'visit.png'));
      const from = ha.mark();
      const box = { x: 50, y: 60, width: 120, height: 240 };
      const event = await seedEvent(t.hsi.store.db, {
        cameraId: 'porch',
        mediaPath: 'Porch/visit.png',
        detections: [{ objectType: 'person', confidence: 0.91, box }],
        riskScore: 50,
        closedAt: null,
      });
      await recordContent(t.hsi.store.db, 'Porch/visit.png', path.join(t.mediaRoot, 'Porch', 'visit.png'));
      t.hsi.bus.emit('event.created', { event, latencyMs: 40 });
      const seen = await order('porch', from);
      expect(seen.snapshot).toBeLessThan(seen.event);
      expect(seen.snapshot).toBeLessThan(seen.fired);
      const jpeg = ha.raw.get(`${base}/cameras/porch/snapshot`)?.at(-1);
      const expected = await annotateSnapshot(
        await sharp(PHOTO).toBuffer(),
        [{ label: 'person', confidence: 0.91, box }],
        t.config.homeassistant.snapshot_max_px,
      );
      expect(jpeg?.equals(expected)).toBe(true);
    });

    it("a clip: its best frame (the highest-confidence detection's), drawn, before the event", async () => {
      const clip = path.join(t.mediaRoot, 'Drive', 'visit.mp4');
      makeClip(clip);
      const from = ha.mark();
      const weak = {
        objectType: 'person',
        confidence: 0.45,
        box: { x: 10, y: 10, width: 60, height: 120 },
        frameIndex: 0,
      };
      const best = {
        objectType: 'person',
        confidence: 0.88,
        box: { x: 300, y: 100, width: 80, height: 200 },
        frameIndex: 2,
      };
      const beside = {
        objectType: 'car',
        confidence: 0.6,
        box: { x: 20, y: 200, width: 200, height: 100 },
        frameIndex: 2,
      };
      const event = await seedEvent(t.hsi.store.db, {
        cameraId: 'drive',
        mediaPath: 'Drive/visit.mp4',
        mediaType: 'video',
        detections: [weak, best, beside],
        riskScore: 40,
        closedAt: new Date(),
      });
      await recordContent(t.hsi.store.db, 'Drive/visit.mp4', clip);
      t.hsi.bus.emit('event.created', { event, latencyMs: 3000 });
      const seen = await order('drive', from);
      expect(seen.snapshot).toBeLessThan(seen.event);
      expect(seen.snapshot).toBeLessThan(seen.fired);

      const { ingest } = t.config;
      const frames = await extractClipFrames(clip, {
        ffmpegPath: ingest.ffmpeg_path,
        fps: ingest.video_fps,
        maxFrames: ingest.video_max_frames,
        timeoutMs: 60_000,
        maxBytes: ingest.max_file_mb * 1024 * 1024,
      });
      const expected = await annotateSnapshot(
        frames[2]!,
        [best, beside].map((d) => ({ label: d.objectType, confidence: d.confidence, box: d.box })),
        t.config.homeassistant.snapshot_max_px,
      );
      const jpeg = ha.raw.get(`${base}/cameras/drive/snapshot`)?.at(-1);
      expect(jpeg?.equals(expected)).toBe(true);
    });
  });
}
