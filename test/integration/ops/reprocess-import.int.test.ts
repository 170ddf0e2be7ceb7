import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BusEvents } from '../../../src/domain/events.js';
import { IngestService } from '../../../src/ingest/ingest.service.js';
import { FakeClock } from '../../../src/lib/clock.js';
import { EventBus } from '../../../src/lib/event-bus.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { importFolder } from '../../../src/ops/import-folder.js';
import { type ReprocessDeps, reprocess } from '../../../src/ops/reprocess.js';
import type { DetectionJob, JobQueue } from '../../../src/queue/contracts.js';
import { MemoryQueueFactory } from '../../../src/queue/memory.js';
import { recentEventsOnCamera } from '../../../src/storage/event.repository.js';
import { getJob, listJobs } from '../../../src/storage/job.repository.js';
import type { MediaFileRow } from '../../../src/storage/tables/media-file.table.js';
import { filesUnder, MediaWorld } from '../../support/media-world.js';
import { createTestStore, ENGINES, engineUnavailable, type TestStore } from '../../support/stores.js';

const T0 = new Date('2026-05-01T08:00:00Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

for (const engine of ENGINES) {
  const skip = await engineUnavailable(engine);
  if (skip) console.warn(`skipping ${engine} reprocess tests: ${skip}`);

  describe.skipIf(skip !== undefined)(`reprocess on ${engine}`, () => {
    let t: TestStore;
    let w: MediaWorld;
    let mediaRoot: string;
    const ids: Record<string, number> = {};
    const deps = (enqueue: (row: MediaFileRow) => Promise<void>, progress: string[] = []): ReprocessDeps => ({
      db: t.store.db,
      mediaRoot,
      dataDir: t.dataDir,
      log: silentLogger(),
      clock: new FakeClock(T0.getTime()),
      enqueue,
      onProgress: (done, total) => progress.push(`${done}/${total}`),
    });
    const status = async (id: number) =>
      t.store.db
        .selectFrom('media_files')
        .select(['status', 'attempts'])
        .where('id', '=', id)
        .executeTakeFirstOrThrow();

    beforeAll(async () => {
      t = await createTestStore(engine);
      mediaRoot = mkdtempSync(path.join(os.tmpdir(), 'hsi-reprocess-'));
      w = new MediaWorld(t.store.db, mediaRoot, path.join(t.dataDir, 'thumbnails'));
      ids.a = await w.media('a.jpg', at(1));
      ids.b = await w.media('night/b.jpg', at(2), { status: 'failed' });
      ids.c = await w.media('night/c.jpg', at(3));
      ids.queued = await w.media('q.jpg', at(4), { status: 'queued' });
      ids.gone = await w.media('gone.jpg', at(5), { onDisk: false });
      ids.yard = await w.media('y.jpg', at(6), { folder: 'Yard' });
      ids.da1 = await w.detection(ids.a, at(1));
      ids.da2 = await w.detection(ids.a, at(1.5));
      ids.dc = await w.detection(ids.c, at(3));
      ids.dgone = await w.detection(ids.gone, at(5));
      ids.dyard = await w.detection(ids.yard, at(6));
      ids.event = await w.event('drive:1', at(3), [ids.da1, ids.dc, ids.dgone], 'pending');
      await t.store.db.updateTable('media_files').set({ attempts: 3 }).where('id', '=', ids.b).execute();
    });
    afterAll(async () => {
      await t?.dispose();
      if (mediaRoot !== undefined) rmSync(mediaRoot, { recursive: true, force: true });
    });

    it('requeues a folder: only the files under it, detections and thumbnails gone, events keep the rest', async () => {
      const queued: number[] = [];
      const progress: string[] = [];
      const report = await reprocess(
        path.join(mediaRoot, 'Drive', 'night'),
        deps(async (row) => {
          expect(row).toMatchObject({ status: 'queued', attempts: 0, error: null, detection_count: 0 });
          queued.push(row.id);
        }, progress),
      );
      expect({ ...report, jobId: undefined }).toStrictEqual({
        jobId: undefined,
        ...{ target: 'folder:Drive/night', resumed: false, total: 2, requeued: 2, skipped: 0, missing: 0 },
        detections: 1,
        eventsReplaced: 0,
      });
      expect(queued).toStrictEqual([ids.b, ids.c]);
      expect(progress).toStrictEqual(['0/2', '1/2', '2/2']);
      expect(await status(ids.b!)).toStrictEqual({ status: 'queued', attempts: 0 });
      expect(await w.ids('detections')).toStrictEqual([ids.da1, ids.da2, ids.dgone, ids.dyard]);
      expect(filesUnder(w.thumbs)).not.toContain(w.thumbnail(ids.c!, at(3)));
      const event = await t.store.db.selectFrom('events').selectAll().where('id', '=', ids.event!).executeTakeFirst();
      expect(event?.detection_count).toBe(2);
      expect(await getJob(t.store.db, report.jobId)).toMatchObject({
        jobType: 'reprocess',
        status: 'completed',
        progress: 100,
        message: 'requeued 2 file(s), 0 already queued, 0 missing on disk',
        result: { target: 'folder:Drive/night', lastId: ids.c, done: 2, requeued: 2, detections: 1 },
      });
    });

    it('resumes an interrupted camera run after the last file it requeued, and refuses unknown targets', async () => {
      await t.store.db.updateTable('media_files').set({ status: 'done' }).where('id', 'in', [ids.b!, ids.c!]).execute();
      const queued: number[] = [];
      let calls = 0;
      const failing = deps(async (row) => {
        calls += 1;
        if (calls === 2) throw new Error('Redis is down');
        queued.push(row.id);
      });
      await expect(reprocess('drive', failing)).rejects.toThrow('Redis is down');
      const [job] = await listJobs(t.store.db, { jobType: 'reprocess' });
      expect(job).toMatchObject({ status: 'failed', error: 'Redis is down', result: { lastId: ids.a, requeued: 1 } });
      expect(await status(ids.b!)).toStrictEqual({ status: 'done', attempts: 0 });

      const progress: string[] = [];
      const report = await reprocess(
        'drive',
        deps(async (row) => void queued.push(row.id), progress),
      );
      expect(report.jobId).toBe(job?.id);
      expect({ ...report, jobId: undefined }).toStrictEqual({
        jobId: undefined,
        ...{ target: 'camera:drive', resumed: true, total: 5, requeued: 3, skipped: 1, missing: 1 },
        detections: 2,
        eventsReplaced: 0,
      });
      expect(queued).toStrictEqual([ids.a, ids.b, ids.c]);
      expect(progress).toStrictEqual(['1/5', '2/5', '3/5', '4/5', '5/5']);
      // The file gone from disk keeps its detection; the other camera is untouched.
      expect(await w.ids('detections')).toStrictEqual([ids.dgone, ids.dyard]);
      expect(await status(ids.gone!)).toStrictEqual({ status: 'done', attempts: 0 });
      expect((await getJob(t.store.db, job!.id))?.status).toBe('completed');

      await expect(
        reprocess(
          'porch',
          deps(async () => undefined),
        ),
      ).rejects.toThrow(`"porch" is neither a camera id nor a folder under the media root ${path.resolve(mediaRoot)}`);
    });

    it('replaces the events it supersedes: an event left with no detection is no longer history', async () => {
      const m1 = await w.media('g1.jpg', at(7), { folder: 'Gate' });
      const m2 = await w.media('g2.jpg', at(8), { folder: 'Gate' });
      const d1 = await w.detection(m1, at(7));
      const d2 = await w.detection(m2, at(8));
      const old = await w.event('gate:1', at(8), [d1, d2]);
      const report = await reprocess(
        'gate',
        deps(async () => undefined),
      );
      expect(report).toMatchObject({ requeued: 2, detections: 2, eventsReplaced: 1 });
      const row = await t.store.db.selectFrom('events').selectAll().where('id', '=', old).executeTakeFirstOrThrow();
      expect(row.deleted_at).toBeInstanceOf(Date);
      // No longer "recent activity" for the new events of the same files.
      expect(await recentEventsOnCamera(t.store.db, 'gate', new Date(0))).toStrictEqual([]);
      expect((await getJob(t.store.db, report.jobId))?.message).toBe(
        'requeued 2 file(s), 0 already queued, 0 missing on disk, 1 event(s) replaced',
      );
    });
  });
}

const skipPg = await engineUnavailable('pglite');
describe.skipIf(skipPg !== undefined)('import of an outside folder on pglite', () => {
  let t: TestStore;
  let mediaRoot: string;
  let outside: string;
  let queue: JobQueue<DetectionJob>;
  let ingest: IngestService;
  const captured = new Date('2025-07-04T10:00:00Z');

  async function image(rel: string, shade: number): Promise<void> {
    const file = path.join(outside, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    await sharp({ create: { width: 32, height: 24, channels: 3, background: { r: shade, g: 80, b: 40 } } })
      .jpeg()
      .toFile(file);
    utimesSync(file, captured, captured);
  }

  beforeAll(async () => {
    t = await createTestStore('pglite');
    mediaRoot = mkdtempSync(path.join(os.tmpdir(), 'hsi-import-root-'));
    outside = mkdtempSync(path.join(os.tmpdir(), 'hsi-import-src-'));
    const clock = new FakeClock(T0.getTime());
    const log = silentLogger();
    queue = new MemoryQueueFactory({ clock, log }).create<DetectionJob>('detection', { attempts: 3, backoffMs: 10 });
    const bus = new EventBus<BusEvents>(log);
    const limits = { maxFileBytes: 10_000_000, maxPixels: 10_000_000 };
    ingest = new IngestService({ db: t.store.db, queue, bus, log, clock, mediaRoot, limits, timeZone: 'UTC' });
    await image('Porch/a.jpg', 10);
    await image('Porch/2025/b.jpg', 20);
    await image('Porch/c.jpg', 30);
    await image('loose.jpg', 40);
    writeFileSync(path.join(outside, 'Porch', 'notes.txt'), 'not media');
    // A different upload already holds Porch/c.jpg in the media root.
    mkdirSync(path.join(mediaRoot, 'Porch'), { recursive: true });
    writeFileSync(path.join(mediaRoot, 'Porch', 'c.jpg'), 'the camera wrote this one');
  });
  afterAll(async () => {
    await t?.dispose();
    for (const dir of [mediaRoot, outside]) if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('copies into the camera folder keeping capture times, ingests, and resumes without doing anything twice', async () => {
    const progress: string[] = [];
    const run = () => importFolder(outside, { db: t.store.db, mediaRoot, ingest, log: silentLogger(), onProgress });
    const onProgress = (done: number, total: number) => progress.push(`${done}/${total}`);
    const report = await run();
    expect(report).toStrictEqual({
      ...{ scanned: 4, copied: 3, queued: 3, duplicates: 0, rejected: 0, known: 0, unplaced: 1, skipped: 0 },
    });
    expect(progress).toStrictEqual(['0/4', '1/4', '2/4', '3/4', '4/4']);
    expect(filesUnder(mediaRoot)).toStrictEqual(['Porch/2025/b.jpg', 'Porch/a.jpg', 'Porch/c-1.jpg', 'Porch/c.jpg']);
    expect(readFileSync(path.join(mediaRoot, 'Porch', 'c-1.jpg'))).toStrictEqual(
      readFileSync(path.join(outside, 'Porch', 'c.jpg')),
    );
    expect(statSync(path.join(mediaRoot, 'Porch', 'a.jpg')).mtime).toStrictEqual(captured);
    const rows = await t.store.db
      .selectFrom('media_files')
      .select(['camera_id', 'path', 'captured_at', 'status'])
      .orderBy('path')
      .execute();
    expect(rows).toStrictEqual(
      ['Porch/2025/b.jpg', 'Porch/a.jpg', 'Porch/c-1.jpg'].map((p) => ({
        ...{ camera_id: 'porch', path: p, captured_at: captured, status: 'queued' },
      })),
    );
    expect((await queue.pending()).map((j) => j.path).sort()).toStrictEqual(rows.map((r) => r.path));

    expect(await run()).toStrictEqual({ ...report, copied: 0, queued: 0, known: 3 });
    expect(filesUnder(mediaRoot)).toHaveLength(4);

    // Into a named camera: same contents are duplicates; the loose file now has a camera.
    const named = await importFolder(outside, {
      db: t.store.db,
      mediaRoot,
      ingest,
      log: silentLogger(),
      camera: 'Drive',
    });
    expect(named).toStrictEqual({ ...report, copied: 4, queued: 1, duplicates: 3, unplaced: 0 });
    expect(existsSync(path.join(mediaRoot, 'Drive', 'loose.jpg'))).toBe(true);
  });

  it('refuses a folder inside the media root, or one that holds it', async () => {
    const deps = { db: t.store.db, mediaRoot, ingest, log: silentLogger() };
    await expect(importFolder(path.join(mediaRoot, 'Porch'), deps)).rejects.toThrow('is inside the media root');
    const wrapped = mkdtempSync(path.join(os.tmpdir(), 'hsi-import-wrap-'));
    try {
      const inner = path.join(wrapped, 'media');
      mkdirSync(inner);
      await expect(importFolder(wrapped, { ...deps, mediaRoot: inner })).rejects.toThrow('is inside');
    } finally {
      rmSync(wrapped, { recursive: true, force: true });
    }
  });
});
