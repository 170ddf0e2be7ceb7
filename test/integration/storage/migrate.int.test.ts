import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/lib/logger.js';
import { migrate, readMigrations } from '../../../src/storage/migrate.js';
import { createTestStore, ENGINES, engineUnavailable, type TestStore } from '../../support/stores.js';

for (const engine of ENGINES) {
  const skip = await engineUnavailable(engine);
  if (skip) console.warn(`skipping ${engine} migration tests: ${skip}`);

  describe.skipIf(skip !== undefined)(`migrations on ${engine}`, () => {
    let t: TestStore;
    beforeAll(async () => {
      t = await createTestStore(engine, { migrate: false });
    });
    afterAll(async () => t?.dispose());

    it('applies every migration once, then nothing on a second run', async () => {
      const all = readMigrations().map((m) => m.version);
      expect(await migrate(t.store, silentLogger())).toStrictEqual(all);
      expect(await migrate(t.store, silentLogger())).toStrictEqual([]);
      const ledger = await sql<{ version: number }>`SELECT version FROM hsi_migrations ORDER BY version`.execute(
        t.store.db,
      );
      expect(ledger.rows.map((r) => r.version)).toStrictEqual(all);
    });

    it('creates the indexes the data model asks for', async () => {
      const rows = await sql<{ indexname: string; indexdef: string }>`
        SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'detections'`.execute(t.store.db);
      const defs = Object.fromEntries(rows.rows.map((r) => [r.indexname, r.indexdef]));
      expect(defs.idx_detections_enrichment_gin).toContain('gin (enrichment_data jsonb_path_ops)');
      expect(defs.idx_detections_detected_at_brin).toContain('brin (detected_at)');
      expect(defs.idx_detections_camera_time).toContain('(camera_id, detected_at)');
    });

    it('rolls a failing migration back whole', async () => {
      const bad = [
        ...readMigrations(),
        { version: 999, name: 'broken', sql: 'CREATE TABLE half_done (id int); SELECT no_such_function();' },
      ];
      await expect(migrate(t.store, silentLogger(), bad)).rejects.toThrow(/no_such_function/);
      const exists = await sql<{
        n: number;
      }>`SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'half_done'`.execute(t.store.db);
      expect(exists.rows[0]?.n).toBe(0);
    });
  });
}
