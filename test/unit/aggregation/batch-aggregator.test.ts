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

const det = (
  id: number,
  cameraId: string,
  objectType = 'car',
  confidence = 0.7,
  mediaFileId = id,
  frameIndex: number | null = null,
) => ({
  id,
  cameraId,
  objectType,
  confidence,
  mediaFileId,
  frameIndex,
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

  it('opens a visit at once for a confident person, cameras apart, and closes the same visit later', async () => {
    const { clock, queue, aggregator } = setup();
    await aggregator.add([det(10, 'garage', 'car'), det(11, 'front_door', 'person', 0.95)]);
    expect(queue.added.map((a) => [a.jobId, a.data.phase])).toStrictEqual([['batch-front_door.11-open', 'open']]);
    expect(queue.added[0]!.data).toMatchObject({ isFastPath: true, detectionIds: [11], reason: 'fast_path' });
    await aggregator.add([det(12, 'front_door', 'person', 0.97)]);
    clock.advance(30_000);
    await flush();
    await flush();
    const jobs = queue.added.map((a) => [a.jobId, a.data.phase, a.data.detectionIds]);
    expect(jobs.sort()).toStrictEqual([
      ['batch-front_door.11', 'close', [11, 12]],
      ['batch-front_door.11-open', 'open', [11]],
      ['batch-garage.10', 'close', [10]],
    ]);
    expect(queue.added.find((a) => a.jobId === 'batch-front_door.11')?.data.isFastPath).toBe(true);
    await aggregator.stop();
  });

  it('opens the visit with every detection of the frame (two people in one snapshot; one frame of a clip)', async () => {
    const { queue, aggregator } = setup();
    await aggregator.add([
      det(20, 'porch', 'person', 0.6, 5, 0),
      det(21, 'porch', 'person', 0.95, 5, 0),
      det(22, 'porch', 'person', 0.93, 5, 1),
    ]);
    expect(queue.added.map((a) => [a.data.phase, a.data.detectionIds])).toStrictEqual([['open', [20, 21]]]);
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
