import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import type { Logger } from '../lib/logger.js';
import type { Db, Store } from './database.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** `migrations/` at the package root: the same relative place from `src/storage` and `dist/storage`. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));

const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** Reads `0001_name.sql …` in order; refuses gaps and duplicates so a bad checkout fails loudly. */
export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .filter((file) => file.endsWith('.sql'))
    .map((file) => {
      const match = FILE_PATTERN.exec(file);
      if (match === null) throw new Error(`migration file name ${file} must look like 0001_name.sql`);
      return { version: Number(match[1]), name: match[2] ?? file, sql: readFileSync(path.join(dir, file), 'utf8') };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migrations must be numbered 1..n without gaps; found ${m.version}`);
  });
  return migrations;
}

const CREATE_LEDGER = `CREATE TABLE IF NOT EXISTS hsi_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

// Arbitrary constant shared by every HSI process: only one migrates at a time.
const MIGRATION_LOCK = 727_271_001;

/**
 * Applies pending migrations, each in its own transaction under an advisory lock, recording it in
 * `hsi_migrations`. Idempotent and safe when several processes start at once. Returns the versions applied.
 */
export async function migrate(store: Store, log: Logger, migrations = readMigrations()): Promise<number[]> {
  const applied: number[] = [];
  for (const migration of migrations) {
    let ran = false;
    await store.scriptTransaction(async (exec) => {
      await exec(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
      await exec(CREATE_LEDGER);
      // Re-checked under the lock: another process may have applied it while we waited.
      const done = await exec(`SELECT 1 FROM hsi_migrations WHERE version = ${migration.version}`);
      if (done.length > 0) return;
      await exec(migration.sql);
      await exec(
        `INSERT INTO hsi_migrations (version, name) VALUES (${migration.version}, '${migration.name.replaceAll("'", "''")}')`,
      );
      ran = true;
    });
    if (ran) {
      applied.push(migration.version);
      log.info({ version: migration.version, name: migration.name }, 'migration applied');
    }
  }
  return applied;
}

/** The versions the ledger records, ascending; none when there is no ledger yet (a database never migrated). */
export async function appliedVersions(db: Db): Promise<number[]> {
  const ledger = await sql<{ present: boolean }>`SELECT to_regclass('hsi_migrations') IS NOT NULL AS present`.execute(
    db,
  );
  if (ledger.rows[0]?.present !== true) return [];
  const rows = await sql<{ version: number }>`SELECT version FROM hsi_migrations ORDER BY version`.execute(db);
  return rows.rows.map((row) => Number(row.version));
}
