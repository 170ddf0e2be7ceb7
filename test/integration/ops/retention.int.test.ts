import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/lib/clock.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { runRetention, startRetentionSchedule } from '../../../src/ops/retention.js';
import { listJobs } from '../../../src/storage/job.repository.js';
import { filesUnder, MediaWorld } from '../../support/media-world.js';
import { createTestStore, ENGINES, engineUnavailable, type TestStore } from '../../support/stores.js';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const daysAgo = (d: number) => new Date(NOW - d * 86_400_000);
const CONFIG = { events_days: 90, detections_days: 30, media_days: 30, interval_hours: 6 };
const FOREVER = { events_days: 0, detections_days: 0, media_days: 0, interval_hours: 6 };

for (const engine of ENGINES) {
  const skip = await engineUnavailable(engine);
  if (skip) console.warn(`skipping ${engine} retention tests: ${skip}`);

  describe.skipIf(skip !== undefined)(`retention on ${engine}`, () => {
    let t: TestStore;
    let w: MediaWorld;
    let mediaRoot: string;
    const deps = (config = CONFIG, clock = new FakeClock(NOW)) => ({
      db: t.store.db,
      mediaRoot,
      dataDir: t.dataDir,
      config,
      clock,
      log: silentLogger(),
      batchSize: 2,
    });

    beforeAll(async () => {
      t = await createTestStore(engine);
      mediaRoot = mkdtempSync(path.join(os.tmpdir(), 'hsi-retention-'));
      w = new MediaWorld(t.store.db, mediaRoot, path.join(t.dataDir, 'thumbnails'));
      await w.camera('Drive');
    });
    afterAll(async () => {
      await t?.dispose();
      if (mediaRoot !== undefined) rmSync(mediaRoot, { recursive: true, force: true });
    });

    it('removes exactly what is due, keeps events with alerts not yet acknowledged and their evidence', async () => {
      // Media: a = old, no detections (+ a duplicate copy); b = old with an old unlinked detection.
      const a = await w.media('a.jpg', daysAgo(40));
      await t.store.db
        .insertInto('media_aliases')
        .values({ path: 'Drive/a-copy.jpg', media_file_id: a, size: 22 })
        .execute();
      w.write('Drive/a-copy.jpg', 'content of Drive/a.jpg', daysAgo(39));
      const b = await w.media('b.jpg', daysAgo(40));
      const bd = await w.detection(b, daysAgo(40));
      // c: very old, its event has a pending alert; d: same with an acknowledged alert; e: event young enough.
      const c = await w.media('c.jpg', daysAgo(100));
      const cd = await w.detection(c, daysAgo(100));
      const ec = await w.event('c', daysAgo(100), [cd], 'pending');
      const d = await w.media('d.jpg', daysAgo(100));
      const dd = await w.detection(d, daysAgo(100));
      await w.event('d', daysAgo(100), [dd], 'acknowledged');
      const e = await w.media('e.jpg', daysAgo(40));
      const ed2 = await w.detection(e, daysAgo(40));
      const ee = await w.event('e', daysAgo(40), [ed2], 'delivered');
      const young = await w.media('f.jpg', daysAgo(5));
      const youngDet = await w.detection(young, daysAgo(5));
      const queued = await w.media('g.jpg', daysAgo(40), { status: 'queued' });
      await w.event('deleted-h', daysAgo(100), []);
      const recentDeleted = await w.event('deleted-i', daysAgo(10), []);
      // The camera wrote new content under an old row's name: the row goes, the file stays.
      await w.media('r.jpg', daysAgo(40));
      w.write('Drive/r.jpg', 'a newer, longer upload under the same name', daysAgo(0));
      // A detection whose thumbnail cannot be unlinked: the row (and so its media) stays, and it is reported.
      const stuck = await w.media('s.jpg', daysAgo(40));
      const stuckDet = await w.detection(stuck, daysAgo(40), 'folder');
      // A refused upload and a file gone from disk already.
      w.write('Drive/bad.jpg', 'not an image', daysAgo(41));
      await t.store.db
        .insertInto('media_rejections')
        .values({
          ...{ path: 'Drive/bad.jpg', camera_id: 'drive', size: 12, modified_at: daysAgo(41) },
          ...{ error_code: 'MEDIA_UNSUPPORTED', error: 'not an image', created_at: daysAgo(40) },
        })
        .execute();
      await w.media('gone.jpg', daysAgo(40), { onDisk: false });
      await t.store.db
        .insertInto('gpu_stats')
        .values(
          [
            { recorded_at: daysAgo(8), gpu_name: 'old', gpu_utilization: 1, memory_used: 1, memory_total: 2 },
            { recorded_at: daysAgo(1), gpu_name: 'new', gpu_utilization: 1, memory_used: 1, memory_total: 2 },
          ].map((g) => ({ ...g, temperature: null, power_usage: null, inference_fps: null })),
        )
        .execute();
      // Identity: b's person was an unknown visitor (an entity and a face in a cluster), seen only then; an old
      // entity named as a member and one seen on the young detection stay.
      const vector = new Uint8Array(8);
      const entity = (lastSeen: Date, memberId: number | null = null) =>
        t.store.db
          .insertInto('entities')
          .values({
            model_id: 'm@1',
            embedding: vector,
            first_seen_at: lastSeen,
            last_seen_at: lastSeen,
            member_id: memberId,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
      const stranger = await entity(daysAgo(40));
      const member = await t.store.db
        .insertInto('household_members')
        .values({ name: 'Jane', typical_schedule: null, notes: null })
        .returning('id')
        .executeTakeFirstOrThrow();
      const named = await entity(daysAgo(60), member.id);
      const recent = await entity(daysAgo(5));
      // The member's old path over cameras, none of its sightings left: it goes, the member's entity stays.
      const journey = (entityId: string, at: Date) =>
        t.store.db
          .insertInto('journeys')
          .values({ entity_id: entityId, started_at: at, last_seen_at: at, cameras: ['drive'], steps: '[]' })
          .returning('id')
          .executeTakeFirstOrThrow();
      await journey(named.id, daysAgo(60));
      const recentJourney = await journey(recent.id, daysAgo(5));
      const reid = (detectionId: number, entityId: string, at: Date) => ({
        ...{ detection_id: detectionId, camera_id: 'drive', detected_at: at, model_id: 'm@1', embedding: vector },
        ...{ entity_id: entityId, entity_similarity: null, member_id: null, member_similarity: null, journey_id: null },
      });
      await t.store.db
        .insertInto('reid_embeddings')
        .values([reid(bd, stranger.id, daysAgo(40)), reid(youngDet, recent.id, daysAgo(5))])
        .execute();
      const cluster = await t.store.db
        .insertInto('known_persons')
        .values({ name: 'Unknown person 1', auto_cluster: true, notes: null, created_at: daysAgo(40) })
        .returning('id')
        .executeTakeFirstOrThrow();
      await t.store.db
        .insertInto('face_detection_events')
        .values({
          ...{ detection_id: bd, camera_id: 'drive', detected_at: daysAgo(40), bbox_x: 1, bbox_y: 1, bbox_width: 9 },
          ...{ bbox_height: 9, confidence: 0.9, quality: 0.8, rejected: null, model_id: 'f@1', embedding: vector },
          ...{ person_id: cluster.id, similarity: null, is_unknown: true },
        })
        .execute();
      const filesBefore = filesUnder(mediaRoot);
      const thumbsBefore = filesUnder(w.thumbs);

      const kept = await runRetention(deps(FOREVER));
      expect({ ...kept, jobId: undefined }).toStrictEqual({
        jobId: undefined,
        ...{ events: 0, detections: 0, thumbnails: 0, identity: 0, mediaFiles: 0, files: 0, rejections: 0 },
        ...{ gpuStats: 1, logs: 0, failures: [], failureCount: 0 },
      });
      expect(filesUnder(mediaRoot)).toStrictEqual(filesBefore);
      expect(filesUnder(w.thumbs)).toStrictEqual(thumbsBefore);

      const report = await runRetention(deps());
      const stuckThumb = path.join(w.thumbs, 'drive', `${stuck}-${daysAgo(40).getTime()}.jpg`);
      expect({ ...report, jobId: undefined, failures: report.failures.map((f) => f.path) }).toStrictEqual({
        jobId: undefined,
        ...{ events: 2, detections: 2, thumbnails: 2, identity: 3, mediaFiles: 5, files: 5, rejections: 1 },
        ...{ gpuStats: 0, logs: 0 },
        failures: [stuckThumb],
        failureCount: 1,
      });
      expect(report.failures[0]?.error).toMatch(/^EISDIR/);
      expect(await w.ids('events')).toStrictEqual([ec, ee, recentDeleted]);
      const left = await t.store.db.selectFrom('entities').select('id').execute();
      expect(left.map((e) => e.id).sort()).toStrictEqual([named.id, recent.id].sort());
      const journeysLeft = await t.store.db.selectFrom('journeys').select('id').execute();
      expect(journeysLeft.map((j) => j.id)).toStrictEqual([recentJourney.id]);
      expect(await t.store.db.selectFrom('known_persons').selectAll().execute()).toStrictEqual([]);
      expect(await t.store.db.selectFrom('face_detection_events').selectAll().execute()).toStrictEqual([]);
      expect(await w.ids('detections')).toStrictEqual([cd, ed2, youngDet, stuckDet]);
      expect(await w.ids('media_files')).toStrictEqual([c, e, young, queued, stuck]);
      expect(await t.store.db.selectFrom('media_aliases').selectAll().execute()).toStrictEqual([]);
      expect(await t.store.db.selectFrom('media_rejections').selectAll().execute()).toStrictEqual([]);
      const kept6 = ['c', 'e', 'f', 'g', 'r', 's'];
      expect(filesUnder(mediaRoot)).toStrictEqual(kept6.map((n) => `Drive/${n}.jpg`));
      const thumb = (media: number, age: number) => w.thumbnail(media, daysAgo(age));
      expect(filesUnder(w.thumbs)).toStrictEqual(
        [thumb(c, 100), thumb(e, 40), thumb(young, 5), `${thumb(stuck, 40)}/inside/x`].sort(),
      );

      const again = await runRetention(deps());
      expect({ ...again, jobId: undefined }).toStrictEqual({
        ...report,
        jobId: undefined,
        ...{ events: 0, detections: 0, thumbnails: 0, identity: 0, mediaFiles: 0, files: 0, rejections: 0 },
        gpuStats: 0,
      });
      expect(await w.ids('detections')).toStrictEqual([cd, ed2, youngDet, stuckDet]);

      const jobs = await listJobs(t.store.db, { jobType: 'retention' });
      expect(jobs.map((j) => j.id).sort()).toStrictEqual([kept.jobId, report.jobId, again.jobId].sort());
      const job = jobs.find((j) => j.id === report.jobId)!;
      expect(job).toMatchObject({ status: 'completed', progress: 100, error: null });
      expect(job.startedAt).toStrictEqual(new Date(NOW));
      expect(job.completedAt).toStrictEqual(new Date(NOW));
      expect(job.message).toBe(
        'removed 2 event(s), 2 detection(s), 2 thumbnail(s), 5 media file(s) (5 file(s) on disk); ' +
          '1 file(s) could not be removed',
      );
      const { jobId, ...stored } = report;
      expect(job.result).toStrictEqual({ ...CONFIG, telemetry_days: 7, ...stored });
    });

    it('runs on schedule: a minute after start, then every interval', async () => {
      const clock = new FakeClock(NOW);
      const count = async () => (await listJobs(t.store.db, { jobType: 'retention', limit: 1000 })).length;
      const before = await count();
      const schedule = startRetentionSchedule(deps(CONFIG, clock));
      clock.advance(59_000);
      await new Promise((r) => setTimeout(r, 50));
      expect(await count()).toBe(before);
      clock.advance(1000);
      await expect.poll(count).toBe(before + 1);
      await expect
        .poll(async () => (await listJobs(t.store.db, { jobType: 'retention' }))[0]?.status)
        .toBe('completed');
      await new Promise((r) => setTimeout(r, 50));
      clock.advance(6 * 3_600_000 - 1);
      await new Promise((r) => setTimeout(r, 50));
      expect(await count()).toBe(before + 1);
      clock.advance(1);
      await expect.poll(count).toBe(before + 2);
      await schedule.stop();
      clock.advance(24 * 3_600_000);
      await new Promise((r) => setTimeout(r, 50));
      expect(await count()).toBe(before + 2);
    });
  });
}
