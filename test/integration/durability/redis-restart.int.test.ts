import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/lib/logger.js';
import { openStore } from '../../../src/storage/connect.js';
import { fixtureImage, missingAsset, modelPath } from '../../support/env.js';
import { testEnvironment } from '../../support/hsi.js';
import { writeDistinctImages } from '../../support/images.js';
import { PrivateRedis } from '../../support/private-redis.js';
import { HsiProcess, type LogLine } from '../../support/process.js';
import { engineUnavailable } from '../../support/stores.js';
import { verifyExactlyOnce } from '../../support/verify.js';

const BURST = 500;
const skip =
  missingAsset(modelPath('yolox_nano.onnx'), fixtureImage('person_astronaut.png')) ??
  (await engineUnavailable('postgres'));
if (skip) console.warn(`skipping Redis restart test: ${skip}`);

describe.skipIf(skip !== undefined)('Redis restarted mid-burst', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('resumes processing and loses nothing', { timeout: 180_000 }, async () => {
    const redis = await PrivateRedis.start();
    cleanups.push(() => redis.down());
    const { env, root, dropDatabase } = await testEnvironment('postgres+redis', {
      HSI_REDIS_URL: redis.url,
      HSI_LOG_LEVEL: 'debug',
      HSI_INGEST_STABLE_MS: '300',
      HSI_INGEST_RECONCILE_INTERVAL_S: '3',
    });
    cleanups.push(async () => {
      await dropDatabase();
      rmSync(root, { recursive: true, force: true });
    });
    const processed = new Set<number>();
    const hsi = HsiProcess.start(env);
    cleanups.push(async () => void hsi.child.kill('SIGKILL'));
    void hsi
      .waitForLine((l: LogLine) => {
        if (l.msg === 'file processed') processed.add(l.media_file_id as number);
        return false;
      }, 170_000)
      .catch(() => undefined);
    await hsi.ready();
    await writeDistinctImages(fixtureImage('person_astronaut.png'), path.join(env.HSI_MEDIA_ROOT!, 'Yard'), BURST);
    await hsi.waitForLine(() => processed.size >= 30, 120_000, '30 files processed');
    await redis.down();
    const downAt = Date.now();
    await new Promise((r) => setTimeout(r, 1500));
    await redis.up();
    const before = processed.size;
    await hsi.waitForLine(() => processed.size > before, 60_000, 'processing to resume');
    const recoveryMs = Date.now() - downAt;
    await hsi.waitForLine(() => processed.size >= BURST, 150_000, `all ${BURST} files`);
    console.info(`Redis restart: processing resumed ${recoveryMs} ms after Redis went down (1.5 s outage)`);
    await hsi.kill('SIGTERM');

    const store = await openStore({
      url: env.HSI_DATABASE_URL!,
      dataDir: env.HSI_DATA_DIR!,
      poolSize: 2,
      log: silentLogger(),
    });
    try {
      const report = await verifyExactlyOnce(store.db);
      expect(report).toMatchObject({ files: BURST, byStatus: { done: BURST }, mismatched: [], personFiles: BURST });
    } finally {
      await store.close();
    }
  });
});
