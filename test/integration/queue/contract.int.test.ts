import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../../src/lib/clock.js';
import { AppError, permanentError } from '../../../src/lib/errors.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { BullMqQueueFactory } from '../../../src/queue/bullmq.js';
import type { JobContext, QueueFactory, RetryPolicy } from '../../../src/queue/contracts.js';
import { MemoryQueueFactory } from '../../../src/queue/memory.js';
import { services } from '../../support/env.js';
import { serviceDown } from '../../support/services.js';
import { deferred, EMPTY, obliterate, sleep, uniquePrefix, WAIT } from './queue-helpers.js';

interface Item {
  n: number;
}

interface Harness {
  factory: QueueFactory;
  cleanup(): Promise<void>;
}

const BACKOFF_MS = 30;
const POLICY: RetryPolicy = { attempts: 3, backoffMs: BACKOFF_MS };

const redisDown = await serviceDown('Redis', services.redisUrl, 6379);

async function buildBullMq(): Promise<Harness> {
  const prefix = uniquePrefix();
  const factory = new BullMqQueueFactory({ url: services.redisUrl, prefix, log: silentLogger() });
  return { factory, cleanup: () => obliterate(prefix) };
}

async function buildMemory(): Promise<Harness> {
  return { factory: new MemoryQueueFactory({ clock: systemClock, log: silentLogger() }), cleanup: async () => {} };
}

/** The semantics in src/queue/contracts.ts, run unchanged against each implementation. */
function queueContract(build: () => Promise<Harness>): void {
  let harness: Harness;
  const create = (policy: RetryPolicy = POLICY) => harness.factory.create<Item>('detection', policy);

  beforeEach(async () => {
    harness = await build();
  });

  afterEach(async () => {
    await harness.factory.close();
    await harness.cleanup();
  });

  it('runs waiting jobs first in, first out', async () => {
    const queue = create();
    for (const n of [1, 2, 3, 4, 5]) await queue.add({ n });
    const seen: number[] = [];
    queue.process(
      async (data) => {
        seen.push(data.n);
      },
      { concurrency: 1 },
    );
    await vi.waitFor(() => expect(seen).toHaveLength(5), WAIT);
    expect(seen).toStrictEqual([1, 2, 3, 4, 5]);
    await vi.waitFor(async () => expect(await queue.counts()).toStrictEqual(EMPTY), WAIT);
  });

  it('runs at most `concurrency` handlers at once', async () => {
    const queue = create();
    let running = 0;
    let peak = 0;
    let done = 0;
    queue.process(
      async () => {
        running += 1;
        peak = Math.max(peak, running);
        await sleep(40);
        running -= 1;
        done += 1;
      },
      { concurrency: 2 },
    );
    for (const n of [1, 2, 3, 4, 5, 6]) await queue.add({ n });
    await vi.waitFor(() => expect(done).toBe(6), WAIT);
    expect(peak).toBe(2);
  });

  it('ignores an add whose jobId is waiting or active, and takes it again once done', async () => {
    const queue = create();
    await queue.add({ n: 1 }, { jobId: 'media-1' });
    await queue.add({ n: 2 }, { jobId: 'media-1' });
    const gate = deferred();
    const seen: [string, number][] = [];
    queue.process(
      async (data, ctx) => {
        seen.push([ctx.id, data.n]);
        if (data.n === 1) await gate.promise;
      },
      { concurrency: 2 },
    );
    await vi.waitFor(() => expect(seen).toHaveLength(1), WAIT);
    await queue.add({ n: 3 }, { jobId: 'media-1' });
    expect(await queue.counts()).toStrictEqual({ ...EMPTY, active: 1 });
    gate.resolve();
    await vi.waitFor(async () => expect(await queue.counts()).toStrictEqual(EMPTY), WAIT);
    await queue.add({ n: 4 }, { jobId: 'media-1' });
    await vi.waitFor(() => expect(seen).toHaveLength(2), WAIT);
    expect(seen).toStrictEqual([
      ['media-1', 1],
      ['media-1', 4],
    ]);
  });

  it('rejects job ids BullMQ cannot store', async () => {
    const queue = create();
    await expect(queue.add({ n: 1 }, { jobId: '42' })).rejects.toThrow('jobId "42" is a plain integer');
    await expect(queue.add({ n: 1 }, { jobId: 'a:b' })).rejects.toThrow(`jobId "a:b" contains ':'`);
  });

  it('retries transient failures with exponential backoff', async () => {
    const queue = create();
    const calls: { at: number; ctx: JobContext }[] = [];
    queue.process(
      async (_data, ctx) => {
        calls.push({ at: performance.now(), ctx });
        if (ctx.attempt < 3) throw new AppError('TRANSIENT', `flaky ${ctx.attempt}`);
      },
      { concurrency: 1 },
    );
    await queue.add({ n: 1 }, { jobId: 'media-7' });
    await vi.waitFor(() => expect(calls).toHaveLength(3), WAIT);
    await vi.waitFor(async () => expect(await queue.counts()).toStrictEqual(EMPTY), WAIT);
    expect(calls.map((c) => c.ctx)).toStrictEqual(
      [1, 2, 3].map((attempt) => ({ id: 'media-7', attempt, maxAttempts: 3 })),
    );
    const gaps = [calls[1]!.at - calls[0]!.at, calls[2]!.at - calls[1]!.at];
    // Timers may fire up to a millisecond early against performance.now().
    expect(gaps[0]).toBeGreaterThanOrEqual(BACKOFF_MS - 2);
    expect(gaps[1]).toBeGreaterThanOrEqual(2 * BACKOFF_MS - 2);
    expect(await queue.deadLetters()).toStrictEqual([]);
  });

  it('fails a permanent error at once: one call, no retry, no dead letter', async () => {
    const queue = create();
    let calls = 0;
    queue.process(
      async () => {
        calls += 1;
        throw permanentError('MEDIA_CORRUPT', 'not a JPEG');
      },
      { concurrency: 1 },
    );
    await queue.add({ n: 1 }, { jobId: 'media-3' });
    await vi.waitFor(() => expect(calls).toBe(1), WAIT);
    await sleep(BACKOFF_MS * 4);
    await vi.waitFor(async () => expect(await queue.counts()).toStrictEqual(EMPTY), WAIT);
    expect(calls).toBe(1);
    expect(await queue.deadLetters()).toStrictEqual([]);
    expect(await queue.requeue('media-3')).toBe(false);
  });

  it('keeps an exhausted job as a dead letter and requeues it with fresh attempts', async () => {
    const queue = create();
    let healthy = false;
    const attempts: number[] = [];
    queue.process(
      async (_data, ctx) => {
        attempts.push(ctx.attempt);
        if (!healthy) throw new AppError('TRANSIENT', 'database down');
      },
      { concurrency: 1 },
    );
    const before = Date.now();
    await queue.add({ n: 9 }, { jobId: 'media-9' });
    await vi.waitFor(async () => expect(await queue.counts()).toStrictEqual({ ...EMPTY, dead: 1 }), WAIT);
    const [letter, ...others] = await queue.deadLetters();
    expect(others).toStrictEqual([]);
    expect({ ...letter, failedAt: 0 }).toStrictEqual({
      id: 'media-9',
      data: { n: 9 },
      error: 'database down',
      attempts: 3,
      failedAt: 0,
    });
    expect(letter!.failedAt).toBeGreaterThanOrEqual(before + 3 * BACKOFF_MS - 5);
    expect(letter!.failedAt).toBeLessThanOrEqual(Date.now());
    healthy = true;
    expect(await queue.requeue('media-9')).toBe(true);
    await vi.waitFor(async () => expect(await queue.counts()).toStrictEqual(EMPTY), WAIT);
    expect(attempts).toStrictEqual([1, 2, 3, 1]);
    expect(await queue.requeue('media-9')).toBe(false);
    expect(await queue.requeue('media-404')).toBe(false);
  });

  it('runs a dead letter again, with the new data, when its id is added again', async () => {
    const queue = create({ attempts: 1, backoffMs: BACKOFF_MS });
    const seen: number[] = [];
    queue.process(
      async (data) => {
        seen.push(data.n);
        if (data.n === 1) throw new Error('boom');
      },
      { concurrency: 1 },
    );
    await queue.add({ n: 1 }, { jobId: 'media-5' });
    await vi.waitFor(async () => expect(await queue.counts()).toStrictEqual({ ...EMPTY, dead: 1 }), WAIT);
    await queue.add({ n: 2 }, { jobId: 'media-5' });
    await vi.waitFor(async () => expect(await queue.counts()).toStrictEqual(EMPTY), WAIT);
    expect(seen).toStrictEqual([1, 2]);
  });

  it('lists dead letters newest first, up to `limit`', async () => {
    const queue = create({ attempts: 1, backoffMs: BACKOFF_MS });
    queue.process(
      async (data) => {
        throw new Error(`failed ${data.n}`);
      },
      { concurrency: 1 },
    );
    for (const n of [1, 2, 3]) {
      await queue.add({ n }, { jobId: `media-${n}` });
      await vi.waitFor(async () => expect((await queue.counts()).dead).toBe(n), WAIT);
      await sleep(5);
    }
    const letters = await queue.deadLetters(2);
    expect(letters.map(({ id, data, error, attempts }) => ({ id, data, error, attempts }))).toStrictEqual([
      { id: 'media-3', data: { n: 3 }, error: 'failed 3', attempts: 1 },
      { id: 'media-2', data: { n: 2 }, error: 'failed 2', attempts: 1 },
    ]);
  });

  it('shares one queue between a producer handle and a worker handle', async () => {
    const producer = create();
    const worker = create();
    const seen: number[] = [];
    worker.process(
      async (data) => {
        seen.push(data.n);
      },
      { concurrency: 1 },
    );
    await producer.add({ n: 1 });
    await vi.waitFor(() => expect(seen).toStrictEqual([1]), WAIT);
  });

  it('lists the data of waiting and running jobs, not of finished ones', async () => {
    const queue = create();
    const gate = deferred();
    for (const n of [1, 2, 3]) await queue.add({ n }, { jobId: `job-${n}` });
    expect((await queue.pending()).map((d) => d.n).sort()).toStrictEqual([1, 2, 3]);
    const done: number[] = [];
    queue.process(
      async (data) => {
        if (data.n === 1) await gate.promise;
        done.push(data.n);
      },
      { concurrency: 1 },
    );
    await vi.waitFor(async () => expect((await queue.counts()).active).toBe(1), WAIT);
    expect((await queue.pending()).map((d) => d.n).sort()).toStrictEqual([1, 2, 3]);
    gate.resolve();
    await vi.waitFor(() => expect(done).toHaveLength(3), WAIT);
    await vi.waitFor(async () => expect(await queue.pending()).toStrictEqual([]), WAIT);
  });

  it('close waits for running handlers', async () => {
    const queue = create();
    const gate = deferred();
    let finished = false;
    queue.process(
      async () => {
        await gate.promise;
        finished = true;
      },
      { concurrency: 1 },
    );
    await queue.add({ n: 1 });
    await vi.waitFor(async () => expect((await queue.counts()).active).toBe(1), WAIT);
    let closed = false;
    const closing = queue.close().then(() => {
      closed = true;
    });
    await sleep(50);
    expect(closed).toBe(false);
    gate.resolve();
    await closing;
    expect(finished).toBe(true);
    await expect(queue.add({ n: 2 })).rejects.toThrow('queue "detection" is closed: add() after close()');
  });
}

describe('queue contract: in-process', () => {
  queueContract(buildMemory);
});

const skipNote = redisDown === undefined ? '' : ` (skipped: ${redisDown})`;

describe.skipIf(redisDown !== undefined)(`queue contract: BullMQ${skipNote}`, () => {
  queueContract(buildBullMq);
});
