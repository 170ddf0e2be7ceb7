import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import type { Config } from '../config/schema.js';
import type { Logger } from '../lib/logger.js';
import type { Database, Store } from './database.js';
import { acquireDirLock } from './dir-lock.js';
import { createPgliteDirIfMissing } from './pglite-initdb.js';

export interface StoreOptions {
  /** postgres:// URL; empty for the embedded PGlite in `dataDir`. */
  url: string;
  dataDir: string;
  poolSize: number;
  /** PGlite's `shared_buffers` in MB (`database.embedded_cache_mb`); PostgreSQL's default (128) when absent. */
  embeddedCacheMb?: number;
  log: Logger;
}

const INT8_OID = 20;
const toNumber = (value: string): number => Number(value);

/** The store options the configuration gives (`database.*`, `data_dir`); `poolSize` defaults to `database.pool_size`. */
export function storeOptionsFrom(config: Config, log: Logger, poolSize = config.database.pool_size): StoreOptions {
  return {
    url: config.database.url,
    dataDir: config.data_dir,
    poolSize,
    embeddedCacheMb: config.database.embedded_cache_mb,
    log,
  };
}

/** Opens PostgreSQL when a URL is configured, the embedded PGlite under `dataDir` otherwise. */
export async function openStore(options: StoreOptions): Promise<Store> {
  return options.url === '' ? openPglite(options) : openPostgres(options);
}

async function openPostgres({ url, poolSize, log }: StoreOptions): Promise<Store> {
  // bigint ids and counts as numbers: HSI's row counts stay far below 2^53.
  const types = {
    getTypeParser: (oid: number, format?: 'text' | 'binary') =>
      oid === INT8_OID ? toNumber : pg.types.getTypeParser(oid, format ?? 'text'),
  };
  const pool = new pg.Pool({ connectionString: url, max: poolSize, types, connectionTimeoutMillis: 10_000 });
  pool.on('error', (error) => log.warn({ err: error }, 'idle PostgreSQL connection failed'));
  // The pool listens for errors only on idle clients: a client checked out when the server goes away (restart,
  // crash, failover) would emit an unhandled 'error' and end the process. Its query fails and is retried instead.
  pool.on('connect', (client) => {
    client.on('error', (error) => log.debug({ err: error }, 'PostgreSQL connection lost'));
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    engine: 'postgres',
    db,
    async scriptTransaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await fn(async (script) => {
          const result = (await client.query(script)) as pg.QueryResult | pg.QueryResult[];
          const last = Array.isArray(result) ? result.at(-1) : result;
          return (last?.rows ?? []) as Record<string, unknown>[];
        });
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => db.destroy(),
  };
}

async function openPglite({ dataDir, embeddedCacheMb, log }: StoreOptions): Promise<Store> {
  const dir = path.join(dataDir, 'pglite');
  mkdirSync(dir, { recursive: true });
  // PGlite is single-process: a second HSI on the same data_dir would corrupt it, so refuse clearly.
  const lock = acquireDirLock(dataDir, 'hsi.pid', log);
  let client: PGlite;
  try {
    await createPgliteDirIfMissing(dir, log);
    // PGlite's default start parameters keep fsync off (-F). Turning it on would change nothing but the setting: on
    // Node, PGlite's NODEFS file system implements no fsync (0 fsync calls for 300 commits with fsync=on, measured
    // with strace). Committed writes survive a crash of HSI, not a power cut: docs/SECURITY.md says so.
    client = await PGlite.create(dir, {
      parsers: { [INT8_OID]: toNumber },
      startParams: [
        ...PGlite.defaultStartParams,
        ...(embeddedCacheMb === undefined ? [] : ['-c', `shared_buffers=${embeddedCacheMb}MB`]),
      ],
    });
  } catch (error) {
    lock.release();
    throw error;
  }
  const db = new Kysely<Database>({ dialect: new PGliteDialect(client) });
  return {
    engine: 'pglite',
    db,
    async scriptTransaction(fn) {
      await client.transaction(async (tx) => {
        await fn(async (script) => {
          const results = await tx.exec(script);
          return (results.at(-1)?.rows ?? []) as Record<string, unknown>[];
        });
      });
    },
    async close() {
      await db.destroy();
      if (!client.closed) await client.close();
      lock.release();
    },
  };
}
