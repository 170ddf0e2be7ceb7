import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  mediaAwaitingEnrichment,
  recordEnrichmentRun,
  storeEnrichmentRun,
} from '../../../src/storage/enrichment.repository.js';
import { seedDetections } from '../../support/seed.js';
import { createTestStore, ENGINES, engineUnavailable, type TestStore } from '../../support/stores.js';

for (const engine of ENGINES) {
  const skip = await engineUnavailable(engine);
  describe.skipIf(skip !== undefined)(`enrichment runs on ${engine}`, () => {
    let t: TestStore;
    beforeAll(async () => {
      t = await createTestStore(engine);
    });
    afterAll(async () => t?.dispose());

    /** A detected file (done, one detection) processed at `at`; its media id. */
    const detectedFile = async (at: Date) => {
      const [id] = await seedDetections(t.store.db, 'porch', [{ objectType: 'person', confidence: 0.9 }], at);
      const row = await t.store.db
        .selectFrom('detections')
        .select('media_file_id')
        .where('id', '=', id!)
        .executeTakeFirstOrThrow();
      await t.store.db
        .updateTable('media_files')
        .set({ detection_count: 1 })
        .where('id', '=', row.media_file_id)
        .execute();
      return row.media_file_id;
    };

    it('lists the files of the last hour that some processor has not run on, and none older or complete', async () => {
      const now = Date.now();
      const recent = await detectedFile(new Date(now - 5 * 60_000));
      const old = await detectedFile(new Date(now - 2 * 60 * 60_000));
      const waiting = async (graceMs = 0) =>
        (await mediaAwaitingEnrichment(t.store.db, ['faces', 'reid'], now, graceMs)).map((m) => m.id);
      expect(await waiting()).toStrictEqual([recent]);
      expect(await waiting(10 * 60_000)).toStrictEqual([]);
      await recordEnrichmentRun(t.store.db, {
        media_file_id: recent,
        processor: 'faces',
        status: 'failed',
        error: 'x',
      });
      expect(await waiting()).toStrictEqual([recent]);
      // A failing persist stores nothing: neither the results nor the run row.
      await expect(
        storeEnrichmentRun(
          t.store.db,
          { media_file_id: recent, processor: 'reid', status: 'success', error: null },
          () => Promise.reject(new Error('persist failed')),
        ),
      ).rejects.toThrow('persist failed');
      expect(await waiting()).toStrictEqual([recent]);
      await storeEnrichmentRun(
        t.store.db,
        { media_file_id: recent, processor: 'reid', status: 'success', error: null },
        async () => undefined,
      );
      expect(await waiting()).toStrictEqual([]);
      expect(old).toBeGreaterThan(0);
    });
  });
}
