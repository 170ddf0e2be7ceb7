import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { BatchAggregator } from '../../../src/aggregation/batch-aggregator.js';
import { DEFAULT_BATCH_CONFIG } from '../../../src/aggregation/batch-state.js';
import { RedisBatchStore } from '../../../src/aggregation/redis-batch.store.js';
import { systemClock } from '../../../src/lib/clock.js';
import { silentLogger } from '../../../src/lib/logger.js';
import type { AnalysisJob } from '../../../src/queue/contracts.js';
import { services } from '../../support/env.js';
import { RecordingQueue } from '../../support/recording-queue.js';
import { serviceDown } from '../../support/services.js';

const skip = await serviceDown('Redis', services.redisUrl, 6379);
if (skip) console.warn(`skipping Redis batch store tests: ${skip}`);

describe.skipIf(skip !== undefined)('RedisBatchStore', () => {
  const prefix = `hsi-test-batch-${randomBytes(4).toString('hex')}`;
  const stores: RedisBatchStore[] = [];
  const open = () => {
    const s = new RedisBatchStore(services.redisUrl, prefix, silentLogger());
    stores.push(s);
    return s;
  };
  afterAll(async () => {
    const redis = new Redis(services.redisUrl);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
    for (const s of stores) await s.close();
  });

  it('keeps the open batch under the data model key with a TTL', async () => {
    const store = open();
    const aggregator = new BatchAggregator({
      store,
      queue: new RecordingQueue<AnalysisJob>(),
      config: DEFAULT_BATCH_CONFIG,
      clock: systemClock,
      log: silentLogger(),
    });
    await aggregator.add([
      { id: 1, cameraId: 'porch', objectType: 'car', confidence: 0.8, mediaFileId: 1, frameIndex: null },
    ]);
    await aggregator.stop();
    const redis = new Redis(services.redisUrl);
    const raw = await redis.get(`${prefix}:batch:porch:current`);
    const ttl = await redis.ttl(`${prefix}:batch:porch:current`);
    await redis.quit();
    expect(JSON.parse(raw!)).toMatchObject({ cameraId: 'porch', batchId: 'porch:1', detections: [{ detectionId: 1 }] });
    expect(ttl).toBeGreaterThan(3500);
  });

  it('loses no detection when two processes add to one camera at once', async () => {
    const a = open();
    const b = open();
    const adds = Array.from({ length: 40 }, (_, i) =>
      (i % 2 === 0 ? a : b).update('drive', (batch) => ({
        batch: {
          cameraId: 'drive',
          batchId: batch?.batchId ?? `drive:${i}`,
          startedAt: batch?.startedAt ?? 0,
          lastActivityAt: 0,
          fastPathTaken: false,
          detections: [...(batch?.detections ?? []), { detectionId: i, objectType: 'car', confidence: 0.7, at: 0 }],
        },
        result: undefined,
      })),
    );
    await Promise.all(adds);
    const [batch] = (await a.openBatches()).filter((x) => x.cameraId === 'drive');
    expect(batch!.detections.map((d) => d.detectionId).sort((x, y) => x - y)).toStrictEqual(
      Array.from({ length: 40 }, (_, i) => i),
    );
  });

  it('lets exactly one process claim a batch close', async () => {
    const a = open();
    const b = open();
    const claims = await Promise.all([a.claimClose('drive:0'), b.claimClose('drive:0'), a.claimClose('drive:0')]);
    expect(claims.filter(Boolean)).toHaveLength(1);
  });
});
