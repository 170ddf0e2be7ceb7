import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/lib/clock.js';
import { AppError, permanentError } from '../../../src/lib/errors.js';
import { silentLogger } from '../../../src/lib/logger.js';
import type { JobContext, JobQueue, RetryPolicy } from '../../../src/queue/contracts.js';
import { createQueueFactory } from '../../../src/queue/factory.js';
import { MemoryQueueFactory } from '../../../src/queue/memory.js';

interface Item {
  n: number;
}

/** Lets promise callbacks (handler starts and settlements) run; the fake clock never moves by itself. */
async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

function setup(policy: RetryPolicy = { attempts: 3, backoffMs: 100 }, deadLetterLimit?: number) {
  const clock = new FakeClock();
  const factory = new MemoryQueueFactory({
    clock,
    log: silentLogger(),
    ...(deadLetterLimit === undefined ? {} : { deadLetterLimit }),
  });
  const queue: JobQueue<Item> = factory.create<Item>('detection', policy);
  return { clock, factory, queue, start: clock.now() };
}

describe('MemoryJobQueue', () => {
  it('runs jobs first in, first out', async () => {
    const { queue } = setup();
    for (const n of [1, 2, 3, 4, 5]) await queue.add({ n });
    const seen: number[] = [];
    queue.process(
      async (data) => {
        seen.push(data.n);
      },
      { concurrency: 1 },
    );
    await flush();
    expect(seen).toStrictEqual([1, 2, 3, 4, 5]);
    expect(await queue.counts()).toStrictEqual({ waiting: 0, active: 0, delayed: 0, dead: 0 });
  });

  it('never runs more than `concurrency` handlers at once', async () => {
    const { queue } = setup();
    const gates = new Map<number, () => void>();
    queue.process((data) => new Promise<void>((resolve) => gates.set(data.n, resolve)), { concurrency: 2 });
    for (const n of [1, 2, 3, 4, 5]) await queue.add({ n });
    await flush();
    expect([...gates.keys()]).toStrictEqual([1, 2]);
    expect(await queue.counts()).toStrictEqual({ waiting: 3, active: 2, delayed: 0, dead: 0 });
    gates.get(2)?.();
    await flush();
    expect([...gates.keys()]).toStrictEqual([1, 2, 3]);
    expect(await queue.counts()).toStrictEqual({ waiting: 2, active: 2, delayed: 0, dead: 0 });
  });

  it('ignores an add whose jobId is waiting or active, and takes it again once done', async () => {
    const { queue } = setup();
    await queue.add({ n: 1 }, { jobId: 'media-1' });
    await queue.add({ n: 2 }, { jobId: 'media-1' });
    const gate = deferred();
    const seen: [string, number][] = [];
    queue.process(
      async (data, ctx) => {
        seen.push([ctx.id, data.n]);
        await gate.promise;
      },
      { concurrency: 4 },
    );
    await flush();
    await queue.add({ n: 3 }, { jobId: 'media-1' });
    await flush();
    expect(seen).toStrictEqual([['media-1', 1]]);
    gate.resolve();
    await flush();
    await queue.add({ n: 4 }, { jobId: 'media-1' });
    await flush();
    expect(seen).toStrictEqual([
      ['media-1', 1],
      ['media-1', 4],
    ]);
  });

  it('rejects job ids BullMQ cannot store', async () => {
    const { queue } = setup();
    await expect(queue.add({ n: 1 }, { jobId: '42' })).rejects.toThrow('jobId "42" is a plain integer');
    await expect(queue.add({ n: 1 }, { jobId: 'a:b' })).rejects.toThrow(`jobId "a:b" contains ':'`);
    expect(await queue.counts()).toStrictEqual({ waiting: 0, active: 0, delayed: 0, dead: 0 });
  });

  it('retries a transient failure after backoffMs * 2^(attempt-1)', async () => {
    const { clock, queue, start } = setup({ attempts: 4, backoffMs: 100 });
    const calls: { at: number; ctx: JobContext }[] = [];
    queue.process(
      async (_data, ctx) => {
        calls.push({ at: clock.now() - start, ctx });
        if (ctx.attempt < 4) throw new Error(`flaky ${ctx.attempt}`);
      },
      { concurrency: 1 },
    );
    await queue.add({ n: 1 }, { jobId: 'media-7' });
    await flush();
    expect(await queue.counts()).toStrictEqual({ waiting: 0, active: 0, delayed: 1, dead: 0 });
    for (const step of [99, 1, 199, 1, 399, 1]) {
      clock.advance(step);
      await flush();
    }
    expect(calls.map((c) => c.at)).toStrictEqual([0, 100, 300, 700]);
    expect(calls.map((c) => c.ctx)).toStrictEqual(
      [1, 2, 3, 4].map((attempt) => ({ id: 'media-7', attempt, maxAttempts: 4 })),
    );
    expect(await queue.counts()).toStrictEqual({ waiting: 0, active: 0, delayed: 0, dead: 0 });
    expect(await queue.deadLetters()).toStrictEqual([]);
  });

  it('fails a permanent error at once: one call, no retry, no dead letter', async () => {
    const { clock, queue } = setup();
    let calls = 0;
    queue.process(
      async () => {
        calls += 1;
        throw permanentError('MEDIA_CORRUPT', 'not a JPEG');
      },
      { concurrency: 1 },
    );
    await queue.add({ n: 1 }, { jobId: 'media-3' });
    await flush();
    clock.advance(60_000);
    await flush();
    expect(calls).toBe(1);
    expect(await queue.counts()).toStrictEqual({ waiting: 0, active: 0, delayed: 0, dead: 0 });
    expect(await queue.deadLetters()).toStrictEqual([]);
    expect(await queue.requeue('media-3')).toBe(false);
  });

  it('keeps an exhausted job as a dead letter and requeues it with fresh attempts', async () => {
    const { clock, queue, start } = setup({ attempts: 2, backoffMs: 50 });
    let healthy = false;
    const attempts: number[] = [];
    queue.process(
      async (_data, ctx) => {
        attempts.push(ctx.attempt);
        if (!healthy) throw new AppError('TRANSIENT', 'database down');
      },
      { concurrency: 1 },
    );
    await queue.add({ n: 9 }, { jobId: 'media-9' });
    await flush();
    clock.advance(50);
    await flush();
    expect(await queue.deadLetters()).toStrictEqual([
      { id: 'media-9', data: { n: 9 }, error: 'database down', attempts: 2, failedAt: start + 50 },
    ]);
    expect(await queue.counts()).toStrictEqual({ waiting: 0, active: 0, delayed: 0, dead: 1 });
    healthy = true;
    expect(await queue.requeue('media-9')).toBe(true);
    expect(await queue.requeue('media-9')).toBe(false);
    await flush();
    expect(attempts).toStrictEqual([1, 2, 1]);
    expect(await queue.counts()).toStrictEqual({ waiting: 0, active: 0, delayed: 0, dead: 0 });
    expect(await queue.requeue('media-404')).toBe(false);
  });

  it('runs a dead letter again, with the new data, when its id is added again', async () => {
    const { queue } = setup({ attempts: 1, backoffMs: 10 });
    const seen: number[] = [];
    queue.process(
      async (data) => {
        seen.push(data.n);
        if (data.n === 1) throw new Error('boom');
      },
      { concurrency: 1 },
    );
    await queue.add({ n: 1 }, { jobId: 'media-5' });
    await flush();
    expect((await queue.counts()).dead).toBe(1);
    await queue.add({ n: 2 }, { jobId: 'media-5' });
    await flush();
    expect(seen).toStrictEqual([1, 2]);
    expect(await queue.counts()).toStrictEqual({ waiting: 0, active: 0, delayed: 0, dead: 0 });
  });

  it('lists dead letters newest first and keeps only the newest `deadLetterLimit`', async () => {
    const { clock, queue, start } = setup({ attempts: 1, backoffMs: 0 }, 2);
    queue.process(
      async (data) => {
        throw new Error(`failed ${data.n}`);
      },
      { concurrency: 1 },
    );
    for (const n of [1, 2, 3]) {
      await queue.add({ n }, { jobId: `media-${n}` });
      await flush();
      clock.advance(10);
    }
    expect(await queue.deadLetters()).toStrictEqual([
      { id: 'media-3', data: { n: 3 }, error: 'failed 3', attempts: 1, failedAt: start + 20 },
      { id: 'media-2', data: { n: 2 }, error: 'failed 2', attempts: 1, failedAt: start + 10 },
    ]);
    expect((await queue.deadLetters(1)).map((d) => d.id)).toStrictEqual(['media-3']);
    expect(await queue.counts()).toStrictEqual({ waiting: 0, active: 0, delayed: 0, dead: 2 });
  });

  it('shares one queue between handles of the same name (producer and worker)', async () => {
    const { factory, queue: producer } = setup();
    const worker = factory.create<Item>('detection', { attempts: 1, backoffMs: 0 });
    const other = factory.create<Item>('analysis', { attempts: 1, backoffMs: 0 });
    const seen: number[] = [];
    worker.process(
      async (data) => {
        seen.push(data.n);
      },
      { concurrency: 1 },
    );
    await producer.add({ n: 1 });
    await other.add({ n: 2 });
    await flush();
    expect(seen).toStrictEqual([1]);
    expect(await other.counts()).toStrictEqual({ waiting: 1, active: 0, delayed: 0, dead: 0 });
  });

  it('close waits for running handlers, then refuses new jobs', async () => {
    const { factory, queue } = setup();
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
    await queue.add({ n: 2 });
    await flush();
    let closed = false;
    const closing = factory.close().then(() => {
      closed = true;
    });
    await flush();
    expect(closed).toBe(false);
    gate.resolve();
    await closing;
    expect(finished).toBe(true);
    expect(await queue.counts()).toStrictEqual({ waiting: 1, active: 0, delayed: 0, dead: 0 });
    await expect(queue.add({ n: 3 })).rejects.toThrow('queue "detection" is closed: add() after close()');
  });

  it('rejects a bad retry policy or concurrency naming the field', () => {
    const { factory, queue } = setup();
    expect(() => factory.create('analysis', { attempts: 0, backoffMs: 10 })).toThrow(
      'queue "analysis": policy.attempts must be an integer >= 1',
    );
    expect(() => queue.process(async () => {}, { concurrency: 0 })).toThrow(
      'queue "detection": concurrency must be an integer >= 1',
    );
  });
});

describe('createQueueFactory', () => {
  const base = { prefix: 'hsi', log: silentLogger(), clock: new FakeClock() };

  it('picks the in-process queue without a Redis URL and BullMQ with one', () => {
    const kinds = [undefined, '', '  ', 'redis://127.0.0.1:6379'].map(
      (redisUrl) => createQueueFactory({ ...base, redisUrl }).kind,
    );
    expect(kinds).toStrictEqual(['memory', 'memory', 'memory', 'bullmq']);
  });
});
