import { rmSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/lib/logger.js';
import { openStore } from '../../../src/storage/connect.js';
import { fixtureImage, missingAsset, modelPath } from '../../support/env.js';
import { BACKENDS, backendsUnavailable, testEnvironment } from '../../support/hsi.js';
import { writeDistinctImages } from '../../support/images.js';
import { HsiProcess, type LogLine } from '../../support/process.js';

const PER_CAMERA = 20;
const assetsMissing = missingAsset(modelPath('yolox_nano.onnx'), fixtureImage('dog_bicycle_car.jpg'));
const processedLine = (l: LogLine) => l.msg === 'file processed' && typeof l.media_file_id === 'number';

for (const backends of BACKENDS) {
  const skip = assetsMissing ?? (await backendsUnavailable(backends));
  if (skip) console.warn(`skipping batches kill test on ${backends}: ${skip}`);

  describe.skipIf(skip !== undefined)(`kill -9 with batches open on ${backends}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterAll(async () => {
      for (const c of cleanups.reverse()) await c();
    });

    it('puts every detection in exactly one event after a restart', { timeout: 180_000 }, async () => {
      const { env, root, dropDatabase } = await testEnvironment(backends, {
        HSI_LOG_LEVEL: 'debug',
        HSI_INGEST_STABLE_MS: '300',
        HSI_BATCHING_IDLE_SECONDS: '3',
        HSI_BATCHING_WINDOW_SECONDS: '8',
        HSI_BATCHING_FAST_PATH_TYPES: '[]',
      });
      cleanups.push(async () => {
        await dropDatabase();
        rmSync(root, { recursive: true, force: true });
      });
      const processed = new Set<number>();
      const track = (hsi: HsiProcess) =>
        hsi
          .waitForLine((l) => {
            if (processedLine(l)) processed.add(l.media_file_id as number);
            return false;
          }, 170_000)
          .catch(() => undefined);

      const first = HsiProcess.start(env);
      cleanups.push(async () => void first.child.kill('SIGKILL'));
      await first.ready();
      void track(first);
      const source = fixtureImage('dog_bicycle_car.jpg');
      await writeDistinctImages(source, path.join(env.HSI_MEDIA_ROOT!, 'Drive'), PER_CAMERA);
      await writeDistinctImages(source, path.join(env.HSI_MEDIA_ROOT!, 'Garden'), PER_CAMERA, 1000);
      await first.waitForLine(() => processed.size >= 15, 120_000, '15 files processed');
      await first.kill('SIGKILL');

      const second = HsiProcess.start(env);
      cleanups.push(async () => void second.child.kill('SIGKILL'));
      await second.ready();
      // Counted from the database, not from log lines: the first process may have committed a file and been
      // killed before writing its "file processed" line.
      await second.waitForFilesFinished(2 * PER_CAMERA, 150_000);
      // Past the longest window after the last detection, every batch has closed and been analysed.
      await new Promise((r) => setTimeout(r, 12_000));
      await second.kill('SIGTERM');

      const store = await openStore({
        url: env.HSI_DATABASE_URL!,
        dataDir: env.HSI_DATA_DIR!,
        poolSize: 2,
        log: silentLogger(),
      });
      try {
        const db = store.db;
        const detections = await sql<{ n: number }>`SELECT count(*)::int AS n FROM detections`.execute(db);
        const linked = await sql<{ n: number; distinct_n: number }>`
          SELECT count(*)::int AS n, count(DISTINCT detection_id)::int AS distinct_n FROM event_detections`.execute(db);
        const empty = await sql<{ n: number }>`
          SELECT count(*)::int AS n FROM events e
          WHERE NOT EXISTS (SELECT 1 FROM event_detections ed WHERE ed.event_id = e.id)`.execute(db);
        const events = await sql<{ n: number; batches: number }>`
          SELECT count(*)::int AS n, count(DISTINCT batch_id)::int AS batches FROM events`.execute(db);
        expect(detections.rows[0]!.n).toBeGreaterThanOrEqual(2 * PER_CAMERA * 2);
        expect(linked.rows[0]).toStrictEqual({ n: detections.rows[0]!.n, distinct_n: detections.rows[0]!.n });
        expect(empty.rows[0]!.n).toBe(0);
        expect(events.rows[0]!.batches).toBe(events.rows[0]!.n);
      } finally {
        await store.close();
      }
    });
  });
}
