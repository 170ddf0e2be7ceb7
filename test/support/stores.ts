import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { silentLogger } from '../../src/lib/logger.js';
import { openStore } from '../../src/storage/connect.js';
import type { Engine, Store } from '../../src/storage/database.js';
import { migrate } from '../../src/storage/migrate.js';
import { services } from './env.js';
import { serviceDown } from './services.js';
import { copyPgliteTemplate, templates, withDatabase } from './templates.js';

export interface TestStore {
  store: Store;
  /** The postgres:// URL of this test's own database ('' for PGlite). */
  url: string;
  dataDir: string;
  dispose(): Promise<void>;
}

/** Skip reason for an engine, or undefined when usable (PGlite always is). */
export async function engineUnavailable(engine: Engine): Promise<string | undefined> {
  return engine === 'postgres' ? serviceDown('PostgreSQL', services.postgresUrl, 5432) : undefined;
}

/**
 * A fresh database of its own on the shared PostgreSQL server: empty, or with `fromTemplate` a clone of this run's
 * migrated template (empty where the run made none: the caller or HSI then migrates it as usual).
 */
export async function createPostgresDatabase(
  options: { fromTemplate?: boolean } = {},
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `hsi_test_${randomBytes(6).toString('hex')}`;
  const template = options.fromTemplate === true ? templates().postgres : undefined;
  const admin = new pg.Client({ connectionString: services.postgresUrl });
  await admin.connect();
  await admin.query(
    template === undefined ? `CREATE DATABASE ${name}` : `CREATE DATABASE ${name} TEMPLATE ${template}`,
  );
  await admin.end();
  return {
    url: withDatabase(services.postgresUrl, name),
    async drop() {
      const c = new pg.Client({ connectionString: services.postgresUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/**
 * A migrated store on `engine`: its own PostgreSQL database, or PGlite in a temp dir; with `migrate: false` an
 * empty one. Copied from this run's templates where it has them (`templates.ts`); `migrate` then finds nothing to
 * apply.
 */
export async function createTestStore(engine: Engine, options: { migrate?: boolean } = {}): Promise<TestStore> {
  const migrated = options.migrate !== false;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'hsi-store-'));
  const database = engine === 'postgres' ? await createPostgresDatabase({ fromTemplate: migrated }) : undefined;
  if (engine === 'pglite') copyPgliteTemplate(dataDir, migrated ? 'migrated' : 'bare');
  const url = database?.url ?? '';
  const store = await openStore({ url, dataDir, poolSize: 5, log: silentLogger() });
  if (migrated) await migrate(store, silentLogger());
  return {
    store,
    url,
    dataDir,
    async dispose() {
      await store.close();
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const ENGINES: readonly Engine[] = ['postgres', 'pglite'];
