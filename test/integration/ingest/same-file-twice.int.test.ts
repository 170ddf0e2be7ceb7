import { copyFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BusEvents } from '../../../src/domain/events.js';
import { IngestService } from '../../../src/ingest/ingest.service.js';
import { reconcile } from '../../../src/ingest/reconcile.js';
import { FakeClock } from '../../../src/lib/clock.js';
import { EventBus } from '../../../src/lib/event-bus.js';
import { silentLogger } from '../../../src/lib/logger.js';
import type { DetectionJob, JobQueue } from '../../../src/queue/contracts.js';
import { MemoryQueueFactory } from '../../../src/queue/memory.js';
import { createTestStore, engineUnavailable, type TestStore } from '../../support/stores.js';

const T0 = new Date('2026-05-01T08:00:00Z');
const skip = await engineUnavailable('postgres');

/**
 * A `media_aliases` row records a duplicate upload: other path, same content. The same file seen again (listed
 * twice, touched so its mtime changed, then reconciled at start) is the stored file itself, never an alias of it.
 */
describe.skipIf(skip !== undefined)('the same file seen twice', () => {
  let t: TestStore;
  let mediaRoot: string;
  let queue: JobQueue<DetectionJob>;
  let ingest: IngestService;
  const duplicates: string[] = [];
  const log = silentLogger();
  const clock = new FakeClock(T0.getTime());

  beforeAll(async () => {
    t = await createTestStore('postgres');
    mediaRoot = mkdtempSync(path.join(os.tmpdir(), 'hsi-same-file-'));
    mkdirSync(path.join(mediaRoot, 'Porch'));
    await sharp({ create: { width: 32, height: 24, channels: 3, background: { r: 10, g: 80, b: 40 } } })
      .jpeg()
      .toFile(path.join(mediaRoot, 'Porch', 'a.jpg'));
    utimesSync(path.join(mediaRoot, 'Porch', 'a.jpg'), T0, T0);
    queue = new MemoryQueueFactory({ clock, log }).create<DetectionJob>('detection', { attempts: 3, backoffMs: 10 });
    const bus = new EventBus<BusEvents>(log);
    bus.on('media.duplicate', (e) => {
      duplicates.push(e.path);
    });
    const limits = { maxFileBytes: 10_000_000, maxPixels: 10_000_000 };
    ingest = new IngestService({ db: t.store.db, queue, bus, log, clock, mediaRoot, limits, timeZone: 'UTC' });
  });
  afterAll(async () => {
    await t?.dispose();
    if (mediaRoot !== undefined) rmSync(mediaRoot, { recursive: true, force: true });
  });

  const aliases = () =>
    t.store.db.selectFrom('media_aliases').select(['path', 'media_file_id']).orderBy('path').execute();

  it('records no alias for a file ingested twice, touched and reconciled; a copy elsewhere is one', async () => {
    const file = path.join(mediaRoot, 'Porch', 'a.jpg');
    const first = await ingest.ingest(file);
    expect(first).toMatchObject({ kind: 'queued', cameraId: 'porch' });
    const id = (first as { mediaFileId: number }).mediaFileId;

    // The watcher reports it again (a second listing): the same file, nothing new.
    expect(await ingest.ingest(file)).toStrictEqual({ kind: 'known', mediaFileId: id, cameraId: 'porch' });
    // A touch changes its mtime, so reconciliation at start no longer recognises it by size and mtime and hashes it.
    const touched = new Date(T0.getTime() + 3_600_000);
    utimesSync(file, touched, touched);
    expect(await reconcile({ db: t.store.db, queue, ingest, log, clock, mediaRoot })).toMatchObject({
      scanned: 1,
      ingested: 0,
    });
    expect(await aliases()).toStrictEqual([]);

    // The same content under another name is a duplicate upload, recorded as an alias of the stored file.
    copyFileSync(file, path.join(mediaRoot, 'Porch', 'b.jpg'));
    expect(await ingest.ingest(path.join(mediaRoot, 'Porch', 'b.jpg'))).toStrictEqual({
      kind: 'duplicate',
      duplicateOf: id,
      cameraId: 'porch',
    });
    expect(await aliases()).toStrictEqual([{ path: 'Porch/b.jpg', media_file_id: id }]);
    expect(duplicates).toStrictEqual(['Porch/b.jpg']);
    const rows = await t.store.db.selectFrom('media_files').select(['id', 'path']).execute();
    expect(rows).toStrictEqual([{ id, path: 'Porch/a.jpg' }]);
  });
});
