import { closeSync, copyFileSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listDetections } from '../../../src/storage/detection.repository.js';
import { fixtureImage, missingAsset, modelPath } from '../../support/env.js';
import {
  BACKENDS,
  backendsUnavailable,
  startTestHsi,
  type TestHsi,
  waitFor,
  waitForMedia,
  waitForRejection,
} from '../../support/hsi.js';

const assetsMissing = missingAsset(
  modelPath('yolox_nano.onnx'),
  fixtureImage('person_astronaut.png'),
  fixtureImage('no_target_coffee.png'),
  fixtureImage('bad_truncated.jpg'),
);

for (const backends of BACKENDS) {
  const skip = assetsMissing ?? (await backendsUnavailable(backends));
  if (skip) console.warn(`skipping pipeline tests on ${backends}: ${skip}`);

  describe.skipIf(skip !== undefined)(`upload to detections on ${backends}`, () => {
    let t: TestHsi;
    const drop = (camera: string, source: string, name = path.basename(source)) => {
      mkdirSync(path.join(t.mediaRoot, camera), { recursive: true });
      copyFileSync(source, path.join(t.mediaRoot, camera, name));
      return `${camera}/${name}`;
    };

    beforeAll(async () => {
      // A visit ends 5 s after its last detection (30 s by default): the visit test waits for it.
      t = await startTestHsi(backends, { HSI_BATCHING_IDLE_SECONDS: '5' });
      await t.hsi.reconciled;
    });
    afterAll(async () => t?.dispose());

    it('detects the person in a photo dropped into a new camera folder', async () => {
      const rel = drop('Front Door', fixtureImage('person_astronaut.png'));
      const row = await waitForMedia(t.hsi.store.db, rel);
      expect(row.status).toBe('done');
      const camera = await t.hsi.store.db
        .selectFrom('cameras')
        .selectAll()
        .where('id', '=', 'front_door')
        .executeTakeFirst();
      expect(camera?.name).toBe('Front Door');
      expect(camera?.last_seen_at).toBeInstanceOf(Date);
      const detections = await listDetections(t.hsi.store.db, { mediaFileId: row.id });
      const people = detections.filter((d) => d.object_type === 'person');
      expect(people).toHaveLength(1);
      const person = people[0]!;
      expect(person.confidence).toBeGreaterThanOrEqual(0.9);
      expect(person.camera_id).toBe('front_door');
      // The astronaut fills most of the 512x512 photo: the box must cover its centre and most of its area.
      expect(person.bbox_x).toBeLessThan(256);
      expect(person.bbox_x + person.bbox_width).toBeGreaterThan(256);
      expect(person.bbox_width * person.bbox_height).toBeGreaterThan(0.3 * 512 * 512);
      expect(person.bbox_x + person.bbox_width).toBeLessThanOrEqual(512);
      // The crop is written once the detector is idle, after the commit, and recorded on the row.
      const thumbnail = await waitFor(
        async () =>
          (await listDetections(t.hsi.store.db, { mediaFileId: row.id })).find((d) => d.id === person.id)
            ?.thumbnail_path ?? undefined,
        10_000,
        'the thumbnail',
      );
      expect(thumbnail).toMatch(/\.jpg$/);
      expect(readFileSync(thumbnail).subarray(0, 2)).toStrictEqual(Buffer.from([0xff, 0xd8]));
    });

    it('turns the confident person into a fast-path security event at once, scored by the rules', async () => {
      const event = await waitFor(
        () => t.hsi.store.db.selectFrom('events').selectAll().where('camera_id', '=', 'front_door').executeTakeFirst(),
        10_000,
        'the fast-path event',
      );
      expect(event).toMatchObject({ is_fast_path: true, analysis_source: 'rules', object_types: ['person'] });
      expect(['low', 'medium', 'high', 'critical']).toContain(event.risk_level);
      const links = await t.hsi.store.db
        .selectFrom('event_detections')
        .selectAll()
        .where('event_id', '=', event.id)
        .execute();
      expect(links).toHaveLength(1);
    });

    it('makes one event of one visit: opened at the first confident person with its whole frame, closed once', async () => {
      const lifecycle: string[] = [];
      const offCreated = t.hsi.bus.on('event.created', ({ event }) => {
        if (event.cameraId === 'porch') lifecycle.push(event.closedAt === null ? 'new' : 'new+end');
      });
      const offUpdated = t.hsi.bus.on('event.updated', ({ event }) => {
        if (event.cameraId === 'porch') lifecycle.push(event.closedAt === null ? 'update' : 'end');
      });
      try {
        const first = await waitForMedia(t.hsi.store.db, drop('Porch', fixtureImage('person_cameraman_gray.png')));
        // Without its EXIF: the photo was taken in 2013, which would (rightly) make it a visit of its own.
        const taken = await sharp(fixtureImage('person_dog_horse.jpg')).jpeg({ quality: 95 }).toBuffer();
        writeFileSync(path.join(t.mediaRoot, 'Porch', 'person_dog_horse.jpg'), taken);
        const second = await waitForMedia(t.hsi.store.db, 'Porch/person_dog_horse.jpg');
        const detections = [
          ...(await listDetections(t.hsi.store.db, { mediaFileId: first.id })),
          ...(await listDetections(t.hsi.store.db, { mediaFileId: second.id })),
        ];
        expect(detections.filter((d) => d.object_type === 'person').length).toBeGreaterThanOrEqual(2);
        const closed = await waitFor(
          () =>
            t.hsi.store.db
              .selectFrom('events')
              .selectAll()
              .where('camera_id', '=', 'porch')
              .where('closed_at', 'is not', null)
              .executeTakeFirst(),
          20_000,
          'the visit to close',
        );
        const events = await t.hsi.store.db
          .selectFrom('events')
          .select('id')
          .where('camera_id', '=', 'porch')
          .execute();
        expect(events.map((e) => e.id)).toStrictEqual([closed.id]);
        expect(closed.detection_count).toBe(detections.length);
        const links = await t.hsi.store.db
          .selectFrom('event_detections')
          .select('detection_id')
          .where('event_id', '=', closed.id)
          .orderBy('detection_id')
          .execute();
        expect(links.map((l) => l.detection_id)).toStrictEqual(detections.map((d) => d.id).sort((a, b) => a - b));
        // Opened at once by the fast path (or, with no confident person, created at close): announced new once.
        expect(lifecycle[0]).toMatch(/^new/);
        expect(lifecycle.filter((l) => l.startsWith('new'))).toHaveLength(1);
        expect(lifecycle.filter((l) => l.endsWith('end'))).toHaveLength(1);
      } finally {
        offCreated();
        offUpdated();
      }
    });

    it('stores a photo without security targets as done with no detections', async () => {
      const rel = drop('Front Door', fixtureImage('no_target_coffee.png'));
      const row = await waitForMedia(t.hsi.store.db, rel);
      expect(row.status).toBe('done');
      expect(row.detection_count).toBe(0);
      expect(await listDetections(t.hsi.store.db, { mediaFileId: row.id })).toStrictEqual([]);
    });

    it('rejects a truncated JPEG with its reason and keeps watching', async () => {
      const bad = drop('Garage', fixtureImage('bad_truncated.jpg'));
      const rejection = await waitForRejection(t.hsi.store.db, bad).catch(async () =>
        waitForMedia(t.hsi.store.db, bad),
      );
      expect(rejection).toMatchObject({ error_code: 'MEDIA_CORRUPT' });
      const good = drop('Garage', fixtureImage('person_astronaut.png'), 'after-bad.png');
      // Same bytes as the first test's photo: recorded as a duplicate alias, not processed again.
      const alias = await waitForAlias(t, good);
      expect(alias.media_file_id).toBeGreaterThan(0);
    });

    it('processes the same bytes under two names once', async () => {
      const first = drop('Back Yard', fixtureImage('cat_chelsea.png'), 'one.png');
      const row = await waitForMedia(t.hsi.store.db, first);
      const second = drop('Back Yard', fixtureImage('cat_chelsea.png'), 'two.png');
      const alias = await waitForAlias(t, second);
      expect(alias.media_file_id).toBe(row.id);
      const rows = await t.hsi.store.db
        .selectFrom('media_files')
        .select('id')
        .where('sha256', '=', row.sha256)
        .execute();
      expect(rows).toHaveLength(1);
    });

    it('reads a file written slowly in chunks once, complete', async () => {
      const source = readFileSync(fixtureImage('dog_bicycle_car.jpg'));
      mkdirSync(path.join(t.mediaRoot, 'Drive'), { recursive: true });
      const target = path.join(t.mediaRoot, 'Drive', 'slow.jpg');
      const fd = openSync(target, 'w');
      const chunks = 10;
      const size = Math.ceil(source.length / chunks);
      for (let i = 0; i < chunks; i++) {
        writeSync(fd, source.subarray(i * size, (i + 1) * size));
        await new Promise((r) => setTimeout(r, 300)); // 10 x 300 ms: 3 s of writing, each gap shorter than stable_ms (400)
      }
      closeSync(fd);
      const row = await waitForMedia(t.hsi.store.db, 'Drive/slow.jpg');
      expect(row.status).toBe('done');
      expect(row.size).toBe(source.length);
      const types = (await listDetections(t.hsi.store.db, { mediaFileId: row.id })).map((d) => d.object_type).sort();
      expect(types).toStrictEqual(['bicycle', 'car', 'dog']);
      const all = await t.hsi.store.db
        .selectFrom('media_files')
        .select('id')
        .where('path', '=', 'Drive/slow.jpg')
        .execute();
      expect(all).toHaveLength(1);
    });
  });
}

function waitForAlias(t: TestHsi, rel: string) {
  return waitFor(
    () => t.hsi.store.db.selectFrom('media_aliases').selectAll().where('path', '=', rel).executeTakeFirst(),
    20_000,
    `${rel} recorded as duplicate`,
  );
}
