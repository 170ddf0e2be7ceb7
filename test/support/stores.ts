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

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** A fresh database of its own on the shared PostgreSQL server. */
export async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `hsi_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: services.postgresUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
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

/** A migrated store on `engine`: its own PostgreSQL database, or PGlite in a temp dir. */
export async function createTestStore(engine: Engine, options: { migrate?: boolean } = {}): Promise<TestStore> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'hsi-store-'));
  const database = engine === 'postgres' ? await createPostgresDatabase() : undefined;
  const url = database?.url ?? '';
  const store = await openStore({ url, dataDir, poolSize: 5, log: silentLogger() });
  if (options.migrate !== false) await migrate(store, silentLogger());
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
