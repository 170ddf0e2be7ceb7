import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { silentLogger } from '../../src/lib/logger.js';
import { openStore } from '../../src/storage/connect.js';
import { MIGRATIONS_DIR, migrate } from '../../src/storage/migrate.js';
import { createPgliteDirIfMissing } from '../../src/storage/pglite-initdb.js';
import { services } from './env.js';

/**
 * Template databases, made once per test run by `test/global-setup.ts` and copied per test file: creating an
 * embedded database (initdb in a child process) and migrating it took about 5 s of every integration test file,
 * copying the finished one takes about 0.2 s. Keyed by a hash of what decides the schema (the migrations, the code
 * that applies them, the PGlite version), so a changed migration never reuses a stale template.
 *
 * The global setup passes the locations in `HSI_TEST_TEMPLATES` (JSON), which the test workers inherit; where it is
 * unset (a bench run, a config without the global setup) the helpers make each database from scratch as before.
 */
export interface Templates {
  /** PGlite data directories (what HSI keeps in `<data_dir>/pglite`): just created, and migrated. */
  pglite?: { bare: string; migrated: string };
  /** A migrated database on the shared PostgreSQL server that nobody connects to: `CREATE DATABASE … TEMPLATE` it. */
  postgres?: string;
}

export const TEMPLATES_ENV = 'HSI_TEST_TEMPLATES';

/** The templates of this run, or none (outside the vitest run, or not made). */
export function templates(): Templates {
  const raw = process.env[TEMPLATES_ENV];
  return raw === undefined || raw === '' ? {} : (JSON.parse(raw) as Templates);
}

/**
 * Copies the PGlite template `kind` into `<dataDir>/pglite`, where HSI and `openStore` find a ready database and
 * run no initdb. Returns false (nothing copied) when this run has no template.
 */
export function copyPgliteTemplate(dataDir: string, kind: 'bare' | 'migrated'): boolean {
  const source = templates().pglite?.[kind];
  if (source === undefined) return false;
  cpSync(source, path.join(dataDir, 'pglite'), { recursive: true });
  return true;
}

/** 12 hex digits of SHA-256 over the migrations, `migrate.ts` and the PGlite version. */
export function schemaHash(): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(MIGRATIONS_DIR).sort()) {
    hash
      .update(`${file}\0`)
      .update(readFileSync(path.join(MIGRATIONS_DIR, file)))
      .update('\0');
  }
  hash.update(readFileSync(new URL('../../src/storage/migrate.ts', import.meta.url)));
  hash.update(pgliteVersion());
  return hash.digest('hex').slice(0, 12);
}

/** The installed PGlite's version (its package.json is not exported: found above its entry file). */
function pgliteVersion(): string {
  let dir = path.dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

const TEMPLATES_ROOT = path.join(os.tmpdir(), 'hsi-test-templates');
const STALE_MS = 24 * 3600_000;

/**
 * `<tmp>/hsi-test-templates/pglite-<hash>/{bare,migrated}`, made when missing. Built in a folder of its own and
 * renamed into place when complete, so a run killed midway or a concurrent run never sees half a template.
 */
export async function ensurePgliteTemplate(hash: string): Promise<NonNullable<Templates['pglite']>> {
  const root = path.join(TEMPLATES_ROOT, `pglite-${hash}`);
  const result = { bare: path.join(root, 'bare'), migrated: path.join(root, 'migrated') };
  if (existsSync(path.join(result.migrated, 'PG_VERSION'))) return result;
  removeStaleTemplates(root);
  const build = `${root}.build-${process.pid}-${randomBytes(3).toString('hex')}`;
  try {
    const log = silentLogger();
    mkdirSync(path.join(build, 'bare'), { recursive: true });
    await createPgliteDirIfMissing(path.join(build, 'bare'), log);
    cpSync(path.join(build, 'bare'), path.join(build, 'store', 'pglite'), { recursive: true });
    const store = await openStore({ url: '', dataDir: path.join(build, 'store'), poolSize: 1, log });
    try {
      await migrate(store, log);
    } finally {
      await store.close();
    }
    renameSync(path.join(build, 'store', 'pglite'), path.join(build, 'migrated'));
    rmSync(path.join(build, 'store'), { recursive: true, force: true });
    try {
      renameSync(build, root);
    } catch (error) {
      // Another run finished the same template first: use theirs.
      if (!existsSync(path.join(result.migrated, 'PG_VERSION'))) throw error;
    }
  } finally {
    rmSync(build, { recursive: true, force: true });
  }
  return result;
}

/** Other templates and abandoned builds untouched for a day (an older schema's, a killed run's). */
function removeStaleTemplates(keep: string): void {
  if (!existsSync(TEMPLATES_ROOT)) return;
  for (const name of readdirSync(TEMPLATES_ROOT)) {
    const dir = path.join(TEMPLATES_ROOT, name);
    if (dir !== keep && Date.now() - statSync(dir).mtimeMs > STALE_MS) rmSync(dir, { recursive: true, force: true });
  }
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function adminQuery<T extends pg.QueryResultRow>(sql: string): Promise<T[]> {
  const admin = new pg.Client({ connectionString: services.postgresUrl });
  await admin.connect();
  try {
    return (await admin.query<T>(sql)).rows;
  } finally {
    await admin.end();
  }
}

/**
 * `hsi_template_<hash>` on the shared PostgreSQL server, made when missing: migrated under a build name, closed
 * to connections (a database being cloned must have none) and renamed into place when complete.
 */
export async function ensurePostgresTemplate(hash: string): Promise<string> {
  const name = `hsi_template_${hash}`;
  const found = await adminQuery(`SELECT 1 FROM pg_database WHERE datname = '${name}'`);
  if (found.length > 0) return name;
  const build = `${name}_build_${randomBytes(3).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${build}`);
  try {
    const log = silentLogger();
    const store = await openStore({ url: withDatabase(services.postgresUrl, build), dataDir: '', poolSize: 1, log });
    try {
      await migrate(store, log);
    } finally {
      await store.close();
    }
    await adminQuery(`ALTER DATABASE ${build} WITH ALLOW_CONNECTIONS false IS_TEMPLATE true`);
    // The closed pool's server processes may still be exiting; renaming needs them gone.
    await adminQuery(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${build}'`);
    await adminQuery(`ALTER DATABASE ${build} RENAME TO ${name}`);
  } catch (error) {
    await adminQuery(`ALTER DATABASE ${build} WITH IS_TEMPLATE false`).catch(() => undefined);
    await adminQuery(`DROP DATABASE IF EXISTS ${build} WITH (FORCE)`);
    // Another run renamed the same template into place first: use theirs.
    if ((await adminQuery(`SELECT 1 FROM pg_database WHERE datname = '${name}'`)).length === 0) throw error;
  }
  return name;
}
