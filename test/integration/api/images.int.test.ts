import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnverifiedMediaError } from '../../../src/lib/verified-media.js';
import { loadEventPicture } from '../../../src/mqtt/event-snapshot.js';
import { seedDetections } from '../../support/seed.js';
import { ENGINES, engineUnavailable } from '../../support/stores.js';
import { type ApiHarness, call, createHarness, type ErrorJson, seedEvent } from './harness.js';

const grey = (format: 'jpeg' | 'png', colour = { r: 120, g: 120, b: 120 }) =>
  sharp({ create: { width: 1000, height: 1000, channels: 3, background: colour } })
    [format]()
    .toBuffer();

/** RGB of one pixel of a JPEG. */
async function pixel(jpeg: Buffer, x: number, y: number): Promise<[number, number, number]> {
  const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  const at = (y * info.width + x) * info.channels;
  return [data[at]!, data[at + 1]!, data[at + 2]!];
}

for (const engine of ENGINES) {
  const skip = await engineUnavailable(engine);
  if (skip) console.warn(`skipping ${engine} detection image tests: ${skip}`);

  describe.skipIf(skip !== undefined)(`detection images on ${engine}`, () => {
    let h: ApiHarness;
    /** Detection id → the file it points at, written under the media root. */
    const placed = new Map<number, string>();

    async function place(detectionId: number, bytes: Buffer, ext: string, mediaType: 'image' | 'video' = 'image') {
      const row = await h.db
        .selectFrom('detections')
        .select('media_file_id')
        .where('id', '=', detectionId)
        .executeTakeFirstOrThrow();
      const relative = `front_door/2026/${detectionId}.${ext}`;
      // As ingest records it: the content's sha256 and size, checked again whenever the file is served.
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      await h.db
        .updateTable('media_files')
        .set({ path: relative, media_type: mediaType, sha256, size: bytes.length })
        .where('id', '=', row.media_file_id)
        .execute();
      const file = path.join(h.mediaRoot, relative);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, bytes);
      placed.set(detectionId, file);
    }

    beforeAll(async () => {
      h = await createHarness(engine);
    });
    afterAll(async () => h?.close());

    it('serves the original JPEG byte for byte, and the annotated one with the box drawn', async () => {
      const [id] = (await seedDetections(h.db, 'front_door', [{ objectType: 'person', confidence: 0.93 }])) as [number];
      const original = await grey('jpeg');
      await place(id, original, 'jpg');

      const plain = await h.app.inject({ url: `/api/detections/${id}/image` });
      expect([plain.statusCode, plain.headers['content-type']]).toStrictEqual([200, 'image/jpeg']);
      expect(plain.rawPayload.equals(original)).toBe(true);

      const drawn = await h.app.inject({ url: `/api/detections/${id}/image?annotated=true` });
      expect([drawn.statusCode, drawn.headers['content-type']]).toStrictEqual([200, 'image/jpeg']);
      const meta = await sharp(drawn.rawPayload).metadata();
      expect([meta.format, meta.width, meta.height]).toStrictEqual(['jpeg', 1000, 1000]);
      // The seeded box is x 400..600, y 300..700: its left edge is drawn in the person colour (#e53935).
      const [r, g, b] = await pixel(drawn.rawPayload, 400, 500);
      expect(r).toBeGreaterThan(180);
      expect(g).toBeLessThan(110);
      expect(b).toBeLessThan(110);
      // Inside the box the picture is untouched grey.
      const inside = await pixel(drawn.rawPayload, 500, 500);
      for (const channel of inside) expect(Math.abs(channel - 120)).toBeLessThan(12);
    });

    it('converts a PNG original to JPEG', async () => {
      const [id] = (await seedDetections(h.db, 'front_door', [{ objectType: 'car', confidence: 0.8 }])) as [number];
      await place(id, await grey('png'), 'png');
      const res = await h.app.inject({ url: `/api/detections/${id}/image?annotated=false` });
      expect(res.statusCode).toBe(200);
      const meta = await sharp(res.rawPayload).metadata();
      expect([meta.format, meta.width, meta.height]).toStrictEqual(['jpeg', 1000, 1000]);
    });

    it("serves a clip detection's own frame", async () => {
      const [id] = (await seedDetections(h.db, 'front_door', [{ objectType: 'dog', confidence: 0.7 }])) as [number];
      await h.db.updateTable('detections').set({ frame_index: 1, media_type: 'video' }).where('id', '=', id).execute();
      await place(id, Buffer.from('not really a clip'), 'mp4', 'video');
      const frames = [await grey('jpeg'), await grey('jpeg', { r: 10, g: 200, b: 10 })];
      const asked: { file: string; bytes: string }[] = [];
      h.frames.extract = async (file) => {
        asked.push({ file, bytes: readFileSync(file, 'utf8') });
        return frames;
      };
      const res = await h.app.inject({ url: `/api/detections/${id}/image` });
      expect(res.statusCode).toBe(200);
      expect(res.rawPayload.equals(frames[1]!)).toBe(true);
      // ffmpeg reads a verified private copy (same name), never the camera's folder a swap could change under it.
      expect(asked).toHaveLength(1);
      expect(asked[0]?.file).not.toBe(placed.get(id));
      expect(path.basename(asked[0]?.file ?? '')).toBe(`${id}.mp4`);
      expect(asked[0]?.bytes).toBe('not really a clip');

      // A different clip under the same name is never sampled.
      writeFileSync(placed.get(id)!, 'another clip, same length');
      const changed = await call<ErrorJson>(h.app, { url: `/api/detections/${id}/image` });
      expect([changed.res.statusCode, changed.json.error.code]).toStrictEqual([410, 'MEDIA_CHANGED']);
      expect(asked).toHaveLength(1);
    });

    it('answers 410 when the file was replaced after processing (rename, then a new upload by the old name)', async () => {
      const [id] = (await seedDetections(h.db, 'front_door', [{ objectType: 'person', confidence: 0.93 }])) as [number];
      const person = await grey('jpeg', { r: 200, g: 60, b: 60 });
      await place(id, person, 'jpg');
      const file = placed.get(id)!;
      renameSync(file, `${file}.old`);
      // The cat: another picture of the very same size, so only the hash tells them apart.
      const cat = Buffer.from(person);
      cat[cat.length - 3] = (cat[cat.length - 3]! + 1) % 256;
      writeFileSync(file, cat);
      for (const annotated of [false, true]) {
        const { res, json } = await call<ErrorJson>(h.app, {
          url: `/api/detections/${id}/image?annotated=${annotated}`,
        });
        expect([res.statusCode, json]).toStrictEqual([
          410,
          {
            error: {
              code: 'MEDIA_CHANGED',
              message: `the media file of detection ${id} (front_door/2026/${id}.jpg): the file changed since it was processed`,
            },
          },
        ]);
      }
      // Put back, it is served again, byte for byte.
      renameSync(`${file}.old`, file);
      const back = await h.app.inject({ url: `/api/detections/${id}/image` });
      expect([back.statusCode, back.rawPayload.equals(person)]).toStrictEqual([200, true]);
    });

    it('never follows a symbolic link: not to /etc/passwd, not to a copy outside the root, not above the file', async () => {
      const [id] = (await seedDetections(h.db, 'front_door', [{ objectType: 'person', confidence: 0.9 }])) as [number];
      const original = await grey('jpeg', { r: 60, g: 60, b: 200 });
      await place(id, original, 'jpg');
      const file = placed.get(id)!;
      const outside = mkdtempSync(path.join(os.tmpdir(), 'hsi-outside-'));
      try {
        const refused = async () => {
          const { res, json } = await call<ErrorJson>(h.app, { url: `/api/detections/${id}/image` });
          return [res.statusCode, json.error.code];
        };
        rmSync(file);
        symlinkSync('/etc/passwd', file);
        expect(await refused()).toStrictEqual([422, 'MEDIA_OUTSIDE_ROOT']);
        // Even a link to the very bytes that were processed.
        writeFileSync(path.join(outside, 'same.jpg'), original);
        rmSync(file);
        symlinkSync(path.join(outside, 'same.jpg'), file);
        expect(await refused()).toStrictEqual([422, 'MEDIA_OUTSIDE_ROOT']);
        // A folder on the way replaced by a link (to a folder holding the same file).
        const folder = path.dirname(file);
        rmSync(folder, { recursive: true });
        writeFileSync(path.join(outside, path.basename(file)), original);
        symlinkSync(outside, folder);
        expect(await refused()).toStrictEqual([422, 'MEDIA_OUTSIDE_ROOT']);
      } finally {
        rmSync(path.dirname(file), { recursive: true, force: true });
        rmSync(outside, { recursive: true, force: true });
      }
    });

    it('feeds the MQTT event snapshot only the bytes that were processed (the same check)', async () => {
      const event = await seedEvent(h.db, {
        summary: 'Person at the door',
        startedAt: new Date('2026-03-04T01:00:00Z'),
      });
      const [row] = await h.db
        .selectFrom('event_detections')
        .select('detection_id')
        .where('event_id', '=', event.id)
        .execute();
      const picture = await grey('jpeg', { r: 60, g: 200, b: 60 });
      await place(row!.detection_id, picture, 'jpg');
      const deps = { db: h.db, mediaRoot: h.mediaRoot, extractFrames: async () => [] };
      expect((await loadEventPicture(deps, event.id))?.image.equals(picture)).toBe(true);
      writeFileSync(placed.get(row!.detection_id)!, await grey('jpeg', { r: 250, g: 250, b: 250 }));
      const refused = await loadEventPicture(deps, event.id).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(UnverifiedMediaError);
      expect([(refused as UnverifiedMediaError).reason, (refused as UnverifiedMediaError).permanent]).toStrictEqual([
        'changed',
        true,
      ]);
    });

    it('answers 404 when the detection or its file is gone, 400 for a bad flag', async () => {
      const [id] = (await seedDetections(h.db, 'front_door', [{ objectType: 'cat', confidence: 0.6 }])) as [number];
      await place(id, await grey('jpeg', { r: 200, g: 200, b: 60 }), 'jpg');
      rmSync(placed.get(id)!);
      const gone = await call<ErrorJson>(h.app, { url: `/api/detections/${id}/image?annotated=true` });
      expect([gone.res.statusCode, gone.json]).toStrictEqual([
        404,
        {
          error: {
            code: 'NOT_FOUND',
            message: `the media file of detection ${id} (front_door/2026/${id}.jpg) is gone`,
          },
        },
      ]);
      const none = await call<ErrorJson>(h.app, { url: '/api/detections/424242/image' });
      expect([none.res.statusCode, none.json.error.message]).toStrictEqual([404, 'no detection with id 424242']);
      const bad = await call<ErrorJson>(h.app, { url: `/api/detections/${id}/image?annotated=maybe` });
      expect([bad.res.statusCode, bad.json.error.field]).toStrictEqual([400, 'annotated']);
    });
  });
}
