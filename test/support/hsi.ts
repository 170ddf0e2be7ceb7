import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { type Logger, silentLogger } from '../../src/lib/logger.js';
import { type Hsi, type StartOptions, startHsi } from '../../src/main.js';
import type { Db } from '../../src/storage/database.js';
import type { MediaFileRow } from '../../src/storage/tables/media-file.table.js';
import { services } from './env.js';
import { serviceDown } from './services.js';
import { createPostgresDatabase, engineUnavailable } from './stores.js';
import { copyPgliteTemplate } from './templates.js';

export type Backends = 'postgres+redis' | 'pglite+memory';
export const BACKENDS: readonly Backends[] = ['postgres+redis', 'pglite+memory'];

/**
 * Why a backend set cannot be tested here (PostgreSQL or Redis down; Mosquitto too with `mosquitto`, for tests that
 * need the broker `testEnvironment` gives that set), or undefined; the embedded set always can.
 */
export async function backendsUnavailable(
  backends: Backends,
  options: { mosquitto?: boolean } = {},
): Promise<string | undefined> {
  if (backends === 'pglite+memory') return undefined;
  return (
    (await engineUnavailable('postgres')) ??
    (await serviceDown('Redis', services.redisUrl, 6379)) ??
    (options.mosquitto ? await serviceDown('Mosquitto', services.mqttUrl, 1883) : undefined)
  );
}

export interface TestHsi {
  hsi: Hsi;
  config: Config;
  mediaRoot: string;
  /** Stops the service and removes its folders and database. */
  dispose(): Promise<void>;
}

/**
 * Environment for a fresh HSI on the chosen backends: its own temp folders, PostgreSQL database and Redis prefix,
 * so test files never see each other's data. Returned so child-process tests can reuse it.
 *
 * The database is a copy of this run's migrated template (`templates.ts`), so HSI starts on a ready schema instead
 * of creating and migrating one; `template: false` leaves it to HSI, for tests of the first start itself.
 */
export async function testEnvironment(
  backends: Backends,
  extra: Record<string, string> = {},
  options: { template?: boolean } = {},
): Promise<{ env: Record<string, string>; root: string; dropDatabase(): Promise<void> }> {
  const template = options.template !== false;
  const root = mkdtempSync(path.join(os.tmpdir(), 'hsi-e2e-'));
  mkdirSync(path.join(root, 'media'));
  const database = backends === 'postgres+redis' ? await createPostgresDatabase({ fromTemplate: template }) : undefined;
  const id = randomBytes(4).toString('hex');
  const env: Record<string, string> = {
    HSI_DATA_DIR: path.join(root, 'data'),
    HSI_MEDIA_ROOT: path.join(root, 'media'),
    HSI_DATABASE_URL: database?.url ?? '',
    HSI_REDIS_URL: backends === 'postgres+redis' ? services.redisUrl : '',
    HSI_REDIS_PREFIX: `hsi-test-${id}`,
    // Mosquitto with the real services, the embedded broker on a free port otherwise; topics of their own.
    HSI_MQTT_URL: backends === 'postgres+redis' ? services.mqttUrl : '',
    HSI_MQTT_EMBEDDED_PORT: '0',
    HSI_HTTP_PORT: '0',
    HSI_MQTT_BASE_TOPIC: `hsi-test-${id}`,
    HSI_MQTT_DISCOVERY_PREFIX: `ha-test-${id}`,
    HSI_INGEST_STABLE_MS: '400',
    HSI_QUEUE_BACKOFF_MS: '200',
    HSI_LOG_LEVEL: 'silent',
    ...extra,
  };
  if (process.env.HSI_ASSETS_DIR) env.HSI_ASSETS_DIR = process.env.HSI_ASSETS_DIR;
  // The embedded database goes where HSI looks for it, unless the test points HSI at a PostgreSQL of its own.
  if (template && env.HSI_DATABASE_URL === '' && env.HSI_DATA_DIR !== undefined) {
    copyPgliteTemplate(env.HSI_DATA_DIR, 'migrated');
  }
  return { env, root, dropDatabase: async () => database?.drop() };
}

export async function startTestHsi(
  backends: Backends,
  extra: Record<string, string> = {},
  options: StartOptions = {},
  log: Logger = silentLogger(),
): Promise<TestHsi> {
  const { env, root, dropDatabase } = await testEnvironment(backends, extra);
  const { config } = loadConfig({ env, cwd: process.cwd(), optionsFile: path.join(root, 'no-options.json') });
  const hsi = await startHsi(config, log, options);
  return {
    hsi,
    config,
    mediaRoot: config.media_root,
    async dispose() {
      await hsi.stop();
      await dropDatabase();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const FINAL = new Set(['done', 'failed', 'rejected']);

/** Waits until the file at `relPath` (relative to media_root) has a row in a final status. */
export function waitForMedia(db: Db, relPath: string, timeoutMs = 20_000): Promise<MediaFileRow> {
  return waitFor(
    async () => {
      const row = await db.selectFrom('media_files').selectAll().where('path', '=', relPath).executeTakeFirst();
      return row !== undefined && FINAL.has(row.status) ? row : undefined;
    },
    timeoutMs,
    `${relPath} to be processed`,
  );
}

export function waitForRejection(db: Db, relPath: string, timeoutMs = 20_000) {
  return waitFor(
    () => db.selectFrom('media_rejections').selectAll().where('path', '=', relPath).executeTakeFirst(),
    timeoutMs,
    `${relPath} to be rejected`,
  );
}
