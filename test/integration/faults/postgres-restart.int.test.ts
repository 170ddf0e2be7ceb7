import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/lib/logger.js';
import { openStore } from '../../../src/storage/connect.js';
import { fixtureImage, missingAsset, modelPath, services } from '../../support/env.js';
import { ALERT_EVERY_EVENT_ENV, eventually, FinishedFiles, waitForSettledEvents } from '../../support/fault-checks.js';
import { testEnvironment } from '../../support/hsi.js';
import { writeDistinctImages } from '../../support/images.js';
import { PrivatePostgres, privatePostgresUnavailable } from '../../support/private-postgres.js';
import { HsiProcess } from '../../support/process.js';
import { serviceDown } from '../../support/services.js';

/**
 * PostgreSQL crashes (pg_ctl stop -m immediate) in the middle of a burst and comes back ~2 s later, while more
 * uploads arrive during the outage. A private cluster: the shared server is never touched.
 */

const BEFORE = 470;
const DURING = 30;
const OUTAGE_MS = 2000;
const skip =
  missingAsset(modelPath('yolox_nano.onnx'), fixtureImage('person_astronaut.png')) ??
  privatePostgresUnavailable() ??
  (await serviceDown('Redis', services.redisUrl, 6379));
if (skip) console.warn(`skipping PostgreSQL restart test: ${skip}`);

describe.skipIf(skip !== undefined)('PostgreSQL restarted mid-burst', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it(`finishes all ${BEFORE + DURING} files once, each detection in one event`, { timeout: 115_000 }, async () => {
    const postgres = await PrivatePostgres.start();
    cleanups.push(() => postgres.dispose());
    const databaseUrl = await postgres.createDatabase('hsi_fault');
    const { env, root } = await testEnvironment('pglite+memory', {
      HSI_DATABASE_URL: databaseUrl,
      HSI_REDIS_URL: services.redisUrl,
      HSI_LOG_LEVEL: 'debug',
      HSI_INGEST_STABLE_MS: '300',
      HSI_INGEST_RECONCILE_INTERVAL_S: '3',
      // 500 ms doubling over 5 attempts: 7.5 s of retries, more than the outage plus crash recovery.
      HSI_QUEUE_BACKOFF_MS: '500',
      HSI_BATCHING_IDLE_SECONDS: '2',
      HSI_BATCHING_WINDOW_SECONDS: '5',
      ...ALERT_EVERY_EVENT_ENV,
    });
    cleanups.push(async () => rmSync(root, { recursive: true, force: true }));
    const media = env.HSI_MEDIA_ROOT!;
    const finished = new FinishedFiles();
    const hsi = HsiProcess.start(env);
    cleanups.push(async () => void hsi.child.kill('SIGKILL'));
    finished.follow(hsi, 110_000);
    await hsi.ready();

    const source = fixtureImage('person_astronaut.png');
    await writeDistinctImages(source, path.join(media, 'Porch'), BEFORE);
    await eventually(() => finished.size >= 40, 60_000, '40 files processed');
    await postgres.down('immediate');
    const downAt = Date.now();
    // Uploads keep arriving while the database is down.
    await writeDistinctImages(source, path.join(media, 'Garage'), DURING, 5000);
    const wait = OUTAGE_MS - (Date.now() - downAt);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await postgres.up();
    const upAt = Date.now();
    await eventually(() => finished.finishedAfter(upAt) > 0, 30_000, 'processing to resume');
    const resumedAt = [...finished.firstAt.values()].filter((t) => t > upAt).sort((a, b) => a - b)[0]!;
    await eventually(() => finished.size >= BEFORE + DURING, 60_000, `all ${BEFORE + DURING} files`);
    const allDoneAt = Date.now();

    const store = await openStore({ url: databaseUrl, dataDir: env.HSI_DATA_DIR!, poolSize: 2, log: silentLogger() });
    cleanups.push(() => store.close());
    const report = await waitForSettledEvents(store.db, { timeoutMs: 40_000, alertsPerEvent: 1 });
    console.info(
      `PostgreSQL restart: down ${upAt - downAt} ms; first file finished ${resumedAt - upAt} ms after it was back ` +
        `(${resumedAt - downAt} ms after the crash); all ${BEFORE + DURING} files ${allDoneAt - upAt} ms after; ` +
        `${report.events} events, ${report.alerts} alerts`,
    );
    await hsi.kill('SIGTERM');

    expect(finished.repeated).toStrictEqual([]);
    expect(report.files).toStrictEqual({
      files: BEFORE + DURING,
      byStatus: { done: BEFORE + DURING },
      mismatched: [],
      personFiles: BEFORE + DURING,
    });
    expect(report.links).toStrictEqual({ rows: report.detections, detections: report.detections });
    expect(report.unlinked).toBe(0);
    expect(report.emptyEvents).toBe(0);
    expect(report.eventBatches).toBe(report.events);
    expect(report.miscounted).toStrictEqual([]);
    expect(report.duplicateAlerts).toStrictEqual([]);
    expect(report.alerts).toBe(report.events);
  });
});
