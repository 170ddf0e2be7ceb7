import { describe, expect, it } from 'vitest';
import { BatchAggregator } from '../../../src/aggregation/batch-aggregator.js';
import { DEFAULT_BATCH_CONFIG } from '../../../src/aggregation/batch-state.js';
import { MemoryBatchStore } from '../../../src/aggregation/batch-store.js';
import { FakeClock } from '../../../src/lib/clock.js';
import { silentLogger } from '../../../src/lib/logger.js';
import type { AnalysisJob } from '../../../src/queue/contracts.js';
import { RecordingQueue } from '../../support/recording-queue.js';

const flush = () => new Promise((r) => setImmediate(r));

function setup() {
  const clock = new FakeClock(Date.UTC(2026, 10, 24, 12));
  const queue = new RecordingQueue<AnalysisJob>();
  const store = new MemoryBatchStore();
  const aggregator = new BatchAggregator({ store, queue, config: DEFAULT_BATCH_CONFIG, clock, log: silentLogger() });
  return { clock, queue, store, aggregator };
}

const det = (id: number, cameraId: string, objectType = 'car', confidence = 0.7) => ({
  id,
  cameraId,
  objectType,
  confidence,
});

describe('BatchAggregator', () => {
  it('closes a batch after the idle timeout on its own timer, one job per batch', async () => {
    const { clock, queue, aggregator } = setup();
    await aggregator.add([det(1, 'front_door'), det(2, 'front_door')]);
    clock.advance(29_000);
    await flush();
    expect(queue.added).toHaveLength(0);
    clock.advance(1_000);
    await flush();
    await flush();
    expect(queue.added.map((a) => a.jobId)).toStrictEqual(['batch-front_door.1']);
    expect(queue.added[0]!.data).toMatchObject({ detectionIds: [1, 2], reason: 'idle', isFastPath: false });
    await aggregator.stop();
  });

  it('queues a confident person at once as a fast-path event, cameras apart', async () => {
    const { queue, aggregator } = setup();
    await aggregator.add([det(10, 'garage', 'car'), det(11, 'front_door', 'person', 0.95)]);
    expect(queue.added.map((a) => a.data.batchId)).toStrictEqual(['front_door:fp:11']);
    expect(queue.added[0]!.data.isFastPath).toBe(true);
    await aggregator.stop();
  });

  it('rebuilds lost batches from stored detections and closes the overdue ones at once', async () => {
    const { clock, queue, aggregator } = setup();
    const old = clock.now() - 10 * 60_000;
    await aggregator.recover([
      { ...det(5, 'yard'), at: old },
      { ...det(6, 'yard'), at: old + 1000 },
    ]);
    expect(queue.added.map((a) => a.data)).toMatchObject([{ batchId: 'yard:5', detectionIds: [5, 6], reason: 'idle' }]);
    await aggregator.stop();
  });

  it('does not recover detections that are still in an open batch', async () => {
    const { clock, queue, aggregator } = setup();
    await aggregator.add([det(7, 'yard')]);
    await aggregator.recover([{ ...det(7, 'yard'), at: clock.now() }]);
    clock.advance(30_000);
    await flush();
    await flush();
    expect(queue.added.map((a) => a.data.detectionIds)).toStrictEqual([[7]]);
    await aggregator.stop();
  });
});
