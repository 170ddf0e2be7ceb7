import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/lib/logger.js';
import { openStore } from '../../../src/storage/connect.js';
import type { Store } from '../../../src/storage/database.js';
import { createPgliteDirIfMissing } from '../../../src/storage/pglite-initdb.js';

/** The embedded database is created by a child process and renamed into place only when complete. */
describe('PGlite data directory creation', () => {
  let root: string | undefined;
  afterEach(() => {
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
  });

  const sharedBuffers = async (db: Store['db']) =>
    (await sql<{ shared_buffers: string }>`show shared_buffers`.execute(db)).rows[0]?.shared_buffers;

  it('creates the database once, leaves no build folder, and opens it on the next start with its cache size', {
    timeout: 60_000,
  }, async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'hsi-initdb-'));
    const store = await openStore({ url: '', dataDir: root, poolSize: 1, log: silentLogger() });
    await store.db.schema.createTable('t').addColumn('n', 'integer').execute();
    await store.db
      .insertInto('t' as never)
      .values({ n: 7 } as never)
      .execute();
    expect(await sharedBuffers(store.db)).toBe('128MB'); // PostgreSQL's default when no size is given
    await store.close();
    expect(existsSync(path.join(root, 'pglite', 'PG_VERSION'))).toBe(true);
    expect(readdirSync(root).filter((n) => n.includes('.init-'))).toStrictEqual([]);

    const again = await openStore({ url: '', dataDir: root, poolSize: 1, embeddedCacheMb: 16, log: silentLogger() });
    expect(await sharedBuffers(again.db)).toBe('16MB');
    const rows = await again.db
      .selectFrom('t' as never)
      .selectAll()
      .execute();
    await again.close();
    expect(rows).toStrictEqual([{ n: 7 }]);
  });

  it('removes a build folder left by a killed first start', { timeout: 60_000 }, async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'hsi-initdb-'));
    const stale = path.join(root, 'pglite.init-999999');
    mkdirSync(stale);
    writeFileSync(path.join(stale, 'half-written'), 'x');
    await createPgliteDirIfMissing(path.join(root, 'pglite'), silentLogger());
    expect(readdirSync(root).sort()).toStrictEqual(['pglite']);
    expect(existsSync(path.join(root, 'pglite', 'PG_VERSION'))).toBe(true);
  });

  it('refuses a folder that holds files but no database, and leaves them', async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'hsi-initdb-'));
    const dir = path.join(root, 'pglite');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'precious.txt'), 'keep me');
    await expect(createPgliteDirIfMissing(dir, silentLogger())).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    expect(readdirSync(dir)).toStrictEqual(['precious.txt']);
  });
});
