import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/lib/logger.js';
import { openStore } from '../../../src/storage/connect.js';
import { fixtureImage, missingAsset, modelPath } from '../../support/env.js';
import { BACKENDS, backendsUnavailable, testEnvironment } from '../../support/hsi.js';
import { writeDistinctImages } from '../../support/images.js';
import { HsiProcess, type LogLine } from '../../support/process.js';
import { verifyExactlyOnce } from '../../support/verify.js';

const BURST = 500;
const assetsMissing = missingAsset(modelPath('yolox_nano.onnx'), fixtureImage('person_astronaut.png'));
const finished = (l: LogLine) =>
  (l.msg === 'file processed' || l.msg.startsWith('file rejected')) && typeof l.media_file_id === 'number';

for (const backends of BACKENDS) {
  const skip = assetsMissing ?? (await backendsUnavailable(backends));
  if (skip) console.warn(`skipping kill -9 test on ${backends}: ${skip}`);

  describe.skipIf(skip !== undefined)(`kill -9 during a burst on ${backends}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterAll(async () => {
      for (const c of cleanups.reverse()) await c();
    });

    it(`ends every one of ${BURST} files done or rejected exactly once`, { timeout: 180_000 }, async () => {
      const { env, root, dropDatabase } = await testEnvironment(backends, {
        HSI_LOG_LEVEL: 'debug',
        HSI_INGEST_STABLE_MS: '300',
      });
      cleanups.push(async () => {
        await dropDatabase();
        rmSync(root, { recursive: true, force: true });
      });
      const processed = new Set<number>();
      const track = (hsi: HsiProcess) =>
        hsi
          .waitForLine((l) => {
            if (finished(l)) processed.add(l.media_file_id as number);
            return false;
          }, 170_000)
          .catch(() => undefined);

      const first = HsiProcess.start(env);
      cleanups.push(async () => void first.child.kill('SIGKILL'));
      await first.ready();
      void track(first);
      await writeDistinctImages(fixtureImage('person_astronaut.png'), path.join(env.HSI_MEDIA_ROOT!, 'Cam A'), BURST);
      // Kill in the middle of the burst: some files done, some queued, some mid-transaction.
      await first.waitForLine(() => processed.size >= 40, 120_000, '40 files processed');
      await first.kill('SIGKILL');
      const doneBeforeKill = processed.size;
      expect(doneBeforeKill).toBeLessThan(BURST);

      const second = HsiProcess.start(env);
      cleanups.push(async () => void second.child.kill('SIGKILL'));
      await second.ready();
      // Counted from the database, not from log lines: the first process may have committed a file and been
      // killed before writing its "file processed" line.
      await second.waitForFilesFinished(BURST, 150_000);
      await second.kill('SIGTERM');

      const store = await openStore({
        url: env.HSI_DATABASE_URL!,
        dataDir: env.HSI_DATA_DIR!,
        poolSize: 2,
        log: silentLogger(),
      });
      try {
        const report = await verifyExactlyOnce(store.db);
        expect(report.files).toBe(BURST);
        expect(report.byStatus).toStrictEqual({ done: BURST });
        expect(report.mismatched).toStrictEqual([]);
        expect(report.personFiles).toBe(BURST);
      } finally {
        await store.close();
      }
    });
  });
}
