import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCamera } from '../../../src/storage/camera.repository.js';
import type { DbOrTx } from '../../../src/storage/database.js';
import { replaceDetections } from '../../../src/storage/detection.repository.js';
import { insertMediaFile } from '../../../src/storage/media-file.repository.js';
import type { NewDetection } from '../../../src/storage/tables/detection.table.js';
import { createTestStore, ENGINES, engineUnavailable, type TestStore } from '../../support/stores.js';

const AT = new Date('2026-03-01T12:00:00Z');

function detections(mediaFileId: number, labels: string[]): NewDetection[] {
  return labels.map((label, i) => ({
    camera_id: 'porch',
    media_file_id: mediaFileId,
    file_path: `Porch/${mediaFileId}.jpg`,
    detected_at: AT,
    object_type: label,
    confidence: 0.5 + i / 100,
    bbox_x: i,
    bbox_y: 0,
    bbox_width: 10,
    bbox_height: 10,
  }));
}

for (const engine of ENGINES) {
  const skip = await engineUnavailable(engine);
  if (skip) console.warn(`skipping ${engine} detection storage tests: ${skip}`);

  describe.skipIf(skip !== undefined)(`replaceDetections on ${engine}`, () => {
    let t: TestStore;
    let db: DbOrTx;
    const media = async (name: string) => {
      const row = await insertMediaFile(db, {
        camera_id: 'porch',
        path: `Porch/${name}.jpg`,
        sha256: name.padEnd(64, '0'),
        size: 1,
        media_type: 'image',
        captured_at: AT,
      });
      if (row === undefined) throw new Error('media file not inserted');
      return row.id;
    };
    const labelsOf = async (id: number) =>
      (
        await db.selectFrom('detections').select('object_type').where('media_file_id', '=', id).orderBy('id').execute()
      ).map((r) => r.object_type);

    beforeAll(async () => {
      t = await createTestStore(engine);
      db = t.store.db;
      await ensureCamera(db, { id: 'porch', name: 'Porch', folderPath: '/media/Porch' });
    });
    afterAll(async () => t?.dispose());

    it("replaces a file's earlier rows in one statement, returns the new ones, and leaves other files alone", async () => {
      const [a, b] = [await media('a'), await media('b')];
      await replaceDetections(db, a, detections(a, ['person', 'dog']));
      await replaceDetections(db, b, detections(b, ['car']));
      const again = await replaceDetections(db, a, detections(a, ['cat', 'person', 'bicycle']));
      expect(again.map((d) => [d.media_file_id, d.object_type])).toStrictEqual([
        [a, 'cat'],
        [a, 'person'],
        [a, 'bicycle'],
      ]);
      expect(await labelsOf(a)).toStrictEqual(['cat', 'person', 'bicycle']);
      expect(await labelsOf(b)).toStrictEqual(['car']);
    });

    it('removes every row when the new run found nothing', async () => {
      const c = await media('c');
      await replaceDetections(db, c, detections(c, ['person']));
      expect(await replaceDetections(db, c, [])).toStrictEqual([]);
      expect(await labelsOf(c)).toStrictEqual([]);
    });

    it('replaces inside a transaction that is rolled back: the earlier rows stay', async () => {
      const d = await media('d');
      await replaceDetections(db, d, detections(d, ['person']));
      await expect(
        t.store.db.transaction().execute(async (tx) => {
          await replaceDetections(tx, d, detections(d, ['horse']));
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      expect(await labelsOf(d)).toStrictEqual(['person']);
    });
  });
}
