import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../src/lib/errors.js';
import { ensureCamera } from '../../../src/storage/camera.repository.js';
import type { DbOrTx } from '../../../src/storage/database.js';
import { replaceDetections } from '../../../src/storage/detection.repository.js';
import {
  countEventsSince,
  eventDetectionIds,
  getEvent,
  getEventByBatch,
  insertEventForBatch,
  listEvents,
  markReviewed,
  type NewEvent,
  recentEventsOnCamera,
  searchEvents,
  setNotes,
  softDeleteEvent,
  unlinkedDetections,
} from '../../../src/storage/event.repository.js';
import { insertMediaFile } from '../../../src/storage/media-file.repository.js';
import { newEvent as buildEvent } from '../../support/builders.js';
import { createTestStore, ENGINES, engineUnavailable, type TestStore } from '../../support/stores.js';

const T0 = Date.parse('2026-03-01T12:00:00Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000);

/** A camera with one media file and `count` person detections; returns their ids. */
async function seedDetections(db: DbOrTx, cameraId: string, count: number): Promise<number[]> {
  await ensureCamera(db, { id: cameraId, name: cameraId, folderPath: `/media/${cameraId}` });
  const media = await insertMediaFile(db, {
    camera_id: cameraId,
    path: `${cameraId}/${randomBytes(4).toString('hex')}.jpg`,
    sha256: randomBytes(32).toString('hex'),
    size: 1000,
    media_type: 'image',
    captured_at: at(0),
  });
  if (media === undefined) throw new Error('media file not inserted');
  const rows = await replaceDetections(
    db,
    media.id,
    Array.from({ length: count }, (_, i) => ({
      camera_id: cameraId,
      media_file_id: media.id,
      file_path: media.path,
      detected_at: at(i),
      object_type: 'person',
      confidence: 0.8,
      bbox_x: 10,
      bbox_y: 20,
      bbox_width: 30,
      bbox_height: 40,
    })),
  );
  return rows.map((r) => r.id);
}

function newEvent(batchId: string, overrides: Partial<NewEvent> = {}): NewEvent {
  return buildEvent({
    batchId,
    startedAt: at(0),
    endedAt: at(30),
    summary: 'A delivery driver left a parcel',
    reasoning: 'Daytime visit of a known courier.',
    ...overrides,
  });
}

for (const engine of ENGINES) {
  const skip = await engineUnavailable(engine);
  if (skip) console.warn(`skipping ${engine} event storage tests: ${skip}`);

  describe.skipIf(skip !== undefined)(`events on ${engine}`, () => {
    let t: TestStore;
    let db: DbOrTx;
    beforeAll(async () => {
      t = await createTestStore(engine);
      db = t.store.db;
      await ensureCamera(db, { id: 'front_door', name: 'Front Door', folderPath: '/media/Front Door' });
    });
    afterAll(async () => t?.dispose());

    it('creates the search trigger and the indexes of the contract', async () => {
      const rows = await sql<{ indexname: string; indexdef: string }>`
        SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'events'`.execute(db);
      const defs = Object.fromEntries(rows.rows.map((r) => [r.indexname, r.indexdef]));
      expect(defs.idx_events_search_vector).toContain('gin (search_vector)');
      expect(defs.idx_events_started_at_brin).toContain('brin (started_at)');
      expect(defs.idx_events_unreviewed).toContain('WHERE ((reviewed = false) AND (deleted_at IS NULL))');
      expect(defs.idx_events_camera_started).toContain('(camera_id, started_at)');
      const trigger = await sql<{ tgname: string }>`
        SELECT tgname FROM pg_trigger WHERE tgrelid = 'events'::regclass AND NOT tgisinternal`.execute(db);
      expect(trigger.rows).toStrictEqual([{ tgname: 'events_search_vector' }]);
    });

    it('stores one event per batch id and links its detections once', async () => {
      const ids = await seedDetections(db, 'front_door', 3);
      const first = await insertEventForBatch(db, newEvent('front_door:b1'), [...ids, ids[0]!]);
      expect(first.created).toBe(true);
      expect(first.event.detectionCount).toBe(3);
      expect(first.event.reviewed).toBe(false);
      const again = await insertEventForBatch(db, newEvent('front_door:b1', { summary: 'different' }), ids);
      expect(again).toStrictEqual({ event: first.event, created: false });
      const count = await db
        .selectFrom('events')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('batch_id', '=', 'front_door:b1')
        .executeTakeFirstOrThrow();
      expect(Number(count.n)).toBe(1);
      expect(await eventDetectionIds(db, first.event.id)).toStrictEqual([...ids].sort((a, b) => a - b));
    });

    it('refuses a detection that already belongs to another event and stores nothing of the second', async () => {
      const [a, b] = await seedDetections(db, 'front_door', 2);
      await insertEventForBatch(db, newEvent('front_door:b2'), [a!]);
      const refused = insertEventForBatch(db, newEvent('front_door:b3'), [b!, a!]);
      await expect(refused).rejects.toThrow(AppError);
      await expect(refused).rejects.toMatchObject({ code: 'INVALID_INPUT', permanent: true });
      await expect(refused).rejects.toThrow(new RegExp(`already belong to another event: ${a} `));
      expect(await getEventByBatch(db, 'front_door:b3')).toBeUndefined();
      const missing = insertEventForBatch(db, newEvent('front_door:b4'), [987_654_321]);
      await expect(missing).rejects.toMatchObject({ code: 'NOT_FOUND', permanent: true });
      expect(await getEventByBatch(db, 'front_door:b4')).toBeUndefined();
    });

    it('lists unlinked detections for rebuilding batches', async () => {
      const ids = await seedDetections(db, 'garage', 3);
      await insertEventForBatch(db, newEvent('garage:b1', { cameraId: 'garage' }), [ids[1]!]);
      const open = await unlinkedDetections(db, { cameraId: 'garage' });
      expect(open.map((d) => d.id)).toStrictEqual([ids[0], ids[2]]);
      expect(open[0]).toMatchObject({ cameraId: 'garage', objectType: 'person', detectedAt: at(0) });
    });

    it('finds events by stemmed words, best match first, never a deleted one', async () => {
      const walked = await insertEventForBatch(
        db,
        newEvent('search:1', { summary: 'A stranger walked up the driveway', reasoning: 'Lingered at night.' }),
        [],
      );
      const inReasoning = await insertEventForBatch(
        db,
        newEvent('search:2', { summary: 'Motion by the gate', reasoning: 'Someone was walking slowly past.' }),
        [],
      );
      const deleted = await insertEventForBatch(db, newEvent('search:3', { summary: 'Neighbour walks the dog' }), []);
      expect(await softDeleteEvent(db, deleted.event.id, at(60))).toBe(true);
      const hits = await searchEvents(db, 'walking');
      expect(hits.map((h) => h.event.id)).toStrictEqual([walked.event.id, inReasoning.event.id]);
      expect(hits[0]!.rank).toBeGreaterThan(hits[1]!.rank);
      expect((await searchEvents(db, 'driveway -gate')).map((h) => h.event.id)).toStrictEqual([walked.event.id]);
      expect(await searchEvents(db, '   ')).toStrictEqual([]);
      expect(await searchEvents(db, 'the')).toStrictEqual([]);
    });

    it('keeps the search vector current when summary or object types change', async () => {
      const { event } = await insertEventForBatch(db, newEvent('search:4', { objectTypes: ['car'] }), []);
      expect((await searchEvents(db, 'cars')).map((h) => h.event.id)).toStrictEqual([event.id]);
      await db
        .updateTable('events')
        .set({ summary: 'A burglar forced the window' })
        .where('id', '=', event.id)
        .execute();
      expect((await searchEvents(db, 'burglars')).map((h) => h.event.id)).toStrictEqual([event.id]);
      expect((await searchEvents(db, 'parcel')).map((h) => h.event.id)).not.toContain(event.id);
    });

    it('lists, filters and pages events newest first without deleted ones', async () => {
      await ensureCamera(db, { id: 'yard', name: 'Yard', folderPath: '/media/Yard' });
      const made = [];
      for (let i = 0; i < 5; i++) {
        const level = i === 4 ? 'high' : 'low';
        const input = newEvent(`yard:${i}`, { cameraId: 'yard', startedAt: at(i * 100), endedAt: at(i * 100 + 10) });
        made.push(
          (await insertEventForBatch(db, { ...input, riskScore: i === 4 ? 70 : 10, riskLevel: level }, [])).event,
        );
      }
      await softDeleteEvent(db, made[2]!.id, at(1000));
      const page1 = await listEvents(db, { cameraId: 'yard', limit: 2 });
      expect(page1.events.map((e) => e.batchId)).toStrictEqual(['yard:4', 'yard:3']);
      expect(page1.nextCursor).not.toBeNull();
      const page2 = await listEvents(db, { cameraId: 'yard', limit: 2, cursor: page1.nextCursor! });
      expect(page2).toStrictEqual({ events: [made[1], made[0]], nextCursor: null });
      expect((await listEvents(db, { cameraId: 'yard', level: 'high' })).events.map((e) => e.id)).toStrictEqual([
        made[4]!.id,
      ]);
      const window = await listEvents(db, { cameraId: 'yard', from: at(100), to: at(400) });
      expect(window.events.map((e) => e.batchId)).toStrictEqual(['yard:3', 'yard:1']);
      await expect(listEvents(db, { cursor: 'nonsense' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });

      expect(await markReviewed(db, made[3]!.id)).toBe(true);
      expect(await setNotes(db, made[3]!.id, 'the gardener')).toBe(true);
      expect(await markReviewed(db, made[2]!.id)).toBe(false);
      const unreviewed = await listEvents(db, { cameraId: 'yard', reviewed: false });
      expect(unreviewed.events.map((e) => e.batchId)).toStrictEqual(['yard:4', 'yard:1', 'yard:0']);
      expect(await getEvent(db, made[3]!.id)).toMatchObject({ reviewed: true, notes: 'the gardener' });
      expect(await getEvent(db, made[2]!.id)).toBeUndefined();
      expect(await getEvent(db, made[2]!.id, { includeDeleted: true })).toMatchObject({ deletedAt: at(1000) });

      expect(await countEventsSince(db, at(100), { cameraId: 'yard' })).toBe(3);
      const recent = await recentEventsOnCamera(db, 'yard', at(300));
      expect(recent.map((e) => e.batchId)).toStrictEqual(['yard:4', 'yard:3']);
    });
  });
}
