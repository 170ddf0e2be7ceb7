import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/lib/logger.js';
import { openStore } from '../../../src/storage/connect.js';
import { fixtureImage, missingAsset, modelPath } from '../../support/env.js';
import { backendsUnavailable, testEnvironment } from '../../support/hsi.js';
import { writeDistinctImages } from '../../support/images.js';
import { until } from '../../support/mqtt-watcher.js';
import { HsiProcess, type LogLine } from '../../support/process.js';
import { verifyExactlyOnce } from '../../support/verify.js';

const FILES = 60;
const skip =
  missingAsset(modelPath('yolox_nano.onnx'), fixtureImage('person_astronaut.png')) ??
  (await backendsUnavailable('postgres+redis'));
if (skip) console.warn(`skipping scale-out test: ${skip}`);

const processedIds = (p: HsiProcess) =>
  new Set(p.lines.filter((l: LogLine) => l.msg === 'file processed').map((l) => l.media_file_id as number));

describe.skipIf(skip !== undefined)('scale-out on PostgreSQL + Redis', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('shares the files between two detect processes, each processed once', { timeout: 180_000 }, async () => {
    const { env, root, dropDatabase } = await testEnvironment('postgres+redis', {
      HSI_LOG_LEVEL: 'debug',
      HSI_INGEST_STABLE_MS: '300',
    });
    cleanups.push(async () => {
      await dropDatabase();
      rmSync(root, { recursive: true, force: true });
    });
    // The front process migrates first; detect processes then find the schema in place.
    const front = HsiProcess.start(env, ['run', '--roles', 'ingest,analyze,bridge']);
    cleanups.push(async () => void front.child.kill('SIGKILL'));
    await front.ready();
    const detectors = [
      HsiProcess.start(env, ['run', '--roles', 'detect']),
      HsiProcess.start(env, ['run', '--roles', 'detect']),
    ];
    for (const d of detectors) cleanups.push(async () => void d.child.kill('SIGKILL'));
    await Promise.all(detectors.map((d) => d.ready()));

    await writeDistinctImages(fixtureImage('person_astronaut.png'), path.join(env.HSI_MEDIA_ROOT!, 'Porch'), FILES);
    // Polled: the front process may log nothing while the detect processes work.
    await until(() => detectors.reduce((n, d) => n + processedIds(d).size, 0) >= FILES, 150_000, 'all files');
    // The front process (analyze + bridge) sees the detect processes' work through the Redis bus relay.
    await front.waitForLine((l) => l.msg === 'security event', 30_000, 'an event analysed in the front process');
    await Promise.all([front, ...detectors].map((p) => p.kill('SIGTERM')));

    const [a, b] = detectors.map(processedIds);
    expect(a!.size).toBeGreaterThan(0);
    expect(b!.size).toBeGreaterThan(0);
    expect([...a!].filter((id) => b!.has(id))).toStrictEqual([]);
    const store = await openStore({
      url: env.HSI_DATABASE_URL!,
      dataDir: env.HSI_DATA_DIR!,
      poolSize: 2,
      log: silentLogger(),
    });
    try {
      const report = await verifyExactlyOnce(store.db);
      expect(report).toMatchObject({ files: FILES, byStatus: { done: FILES }, mismatched: [], personFiles: FILES });
    } finally {
      await store.close();
    }
  });

  it('refuses a split role set on the embedded backends', async () => {
    const { env, root } = await testEnvironment('pglite+memory');
    cleanups.push(async () => rmSync(root, { recursive: true, force: true }));
    const p = HsiProcess.start(env, ['run', '--roles', 'detect']);
    expect(await p.exit()).not.toBe(0);
    expect(p.stderr.join('')).toMatch(
      /needs shared backends: set database\.url \(PostgreSQL\) and redis\.url \(Redis\)/,
    );
  });
});
