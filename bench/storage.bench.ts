import { rmSync } from 'node:fs';
import { createLogger } from '../src/lib/logger.js';
import { openStore } from '../src/storage/connect.js';
import { replaceDetections } from '../src/storage/detection.repository.js';
import { migrate } from '../src/storage/migrate.js';
import type { NewDetection } from '../src/storage/tables/detection.table.js';
import { seedDetections } from '../test/support/seed.js';
import { type Figure, round, tempDir } from './support.js';

/**
 * Detections stored per second, the way the detection worker stores them: one transaction per file (mark done,
 * replace its detections), `perFile` detections each, `writers` files at a time.
 */
export async function runStorageBench(
  databaseUrl: string,
  files: number,
  perFile = 10,
  writers = 4,
): Promise<Figure[]> {
  const root = tempDir('hsi-bench-store-');
  const log = createLogger('warn');
  const store = await openStore({ url: databaseUrl, dataDir: root, poolSize: writers + 1, log });
  await migrate(store, log);
  const camera = `bench_store_${process.pid}_${Date.now()}`;
  const mediaIds: number[] = [];
  for (let i = 0; i < files; i++) {
    await seedDetections(store.db, camera, []);
    const row = await store.db
      .selectFrom('media_files')
      .select('id')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirstOrThrow();
    mediaIds.push(row.id);
  }
  const rows = (mediaId: number): NewDetection[] =>
    Array.from({ length: perFile }, (_, i) => ({
      camera_id: camera,
      media_file_id: mediaId,
      file_path: 'bench.jpg',
      file_type: 'jpg',
      detected_at: new Date(),
      object_type: i % 2 === 0 ? 'person' : 'car',
      confidence: 0.5 + (i % 5) / 10,
      bbox_x: i,
      bbox_y: i,
      bbox_width: 100,
      bbox_height: 200,
      thumbnail_path: null,
      frame_index: null,
      duration: null,
      video_codec: null,
      video_width: null,
      video_height: null,
      enrichment_data: null,
    }));
  let next = 0;
  const started = performance.now();
  const writer = async () => {
    while (next < mediaIds.length) {
      const id = mediaIds[next++]!;
      await store.db.transaction().execute(async (tx) => {
        await tx
          .updateTable('media_files')
          .set({ status: 'done', detection_count: perFile })
          .where('id', '=', id)
          .execute();
        await replaceDetections(tx, id, rows(id));
      });
    }
  };
  await Promise.all(Array.from({ length: writers }, writer));
  const perSecond = (files * perFile) / ((performance.now() - started) / 1000);
  await store.close();
  rmSync(root, { recursive: true, force: true });
  const engine = databaseUrl === '' ? 'PGlite' : 'PostgreSQL';
  return [
    {
      name: `storage: detections/s into ${engine} (${perFile} per file, ${writers} writers)`,
      value: `${round(perSecond, 0)}`,
      target: engine === 'PostgreSQL' ? '>= 5000' : '',
      ok: engine === 'PostgreSQL' ? perSecond >= 5000 : undefined,
    },
  ];
}
