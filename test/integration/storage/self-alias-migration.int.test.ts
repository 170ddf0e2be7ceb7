import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/lib/logger.js';
import { migrate, readMigrations } from '../../../src/storage/migrate.js';
import { createTestStore, ENGINES, engineUnavailable, type TestStore } from '../../support/stores.js';

const SELF_ALIAS_MIGRATION = 6;

for (const engine of ENGINES) {
  const skip = await engineUnavailable(engine);
  if (skip) console.warn(`skipping ${engine} self-alias migration tests: ${skip}`);

  describe.skipIf(skip !== undefined)(`0006 self aliases on ${engine}`, () => {
    let t: TestStore;
    beforeAll(async () => {
      t = await createTestStore(engine, { migrate: false });
    });
    afterAll(async () => t?.dispose());

    it('removes the aliases that name their own file, and keeps real duplicates', async () => {
      const all = readMigrations();
      await migrate(
        t.store,
        silentLogger(),
        all.filter((m) => m.version < SELF_ALIAS_MIGRATION),
      );
      const db = t.store.db;
      await sql`INSERT INTO cameras (id, name, folder_path) VALUES ('drive', 'Drive', 'drive')`.execute(db);
      const media = await sql<{ id: number }>`
        INSERT INTO media_files (camera_id, path, sha256, size, media_type, captured_at, status)
        VALUES ('drive', 'Drive/a.jpg', ${'a'.repeat(64)}, 10, 'image', now(), 'done') RETURNING id`.execute(db);
      const id = media.rows[0]!.id;
      await sql`INSERT INTO media_aliases (path, media_file_id, size)
        VALUES ('Drive/a.jpg', ${id}, 10), ('Drive/copy.jpg', ${id}, 10)`.execute(db);
      await migrate(t.store, silentLogger(), all);
      const left = await sql<{ path: string }>`SELECT path FROM media_aliases ORDER BY path`.execute(db);
      expect(left.rows.map((r) => r.path)).toStrictEqual(['Drive/copy.jpg']);
    });
  });
}
