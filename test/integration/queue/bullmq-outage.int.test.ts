import { Redis } from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import { BullMqQueueFactory } from '../../../src/queue/bullmq.js';
import { services } from '../../support/env.js';
import { serviceDown } from '../../support/services.js';
import { captureLogger, EMPTY, obliterate, sleep, TcpProxy, uniquePrefix, WAIT } from './queue-helpers.js';

/**
 * BullMQ when Redis goes away: connections killed under it, an outage in front of it, Redis never there. The
 * process must not crash, must log the outage once, and every job must still finish exactly once.
 */

interface Item {
  n: number;
}

const BACKOFF_MS = 30;

const redisDown = await serviceDown('Redis', services.redisUrl, 6379);

const skipNote = redisDown === undefined ? '' : ` (skipped: ${redisDown})`;

describe.skipIf(redisDown !== undefined)(`BullMQ and Redis outages${skipNote}`, () => {
  it('finishes every job exactly once when its Redis connections are killed mid-run', async () => {
    const prefix = uniquePrefix();
    const { log, lines } = captureLogger();
    const factory = new BullMqQueueFactory({ url: services.redisUrl, prefix, log });
    const admin = new Redis(services.redisUrl);
    try {
      const queue = factory.create<Item>('analysis', { attempts: 5, backoffMs: BACKOFF_MS });
      const runs = new Map<number, number>();
      queue.process(
        async (data) => {
          await sleep(15);
          runs.set(data.n, (runs.get(data.n) ?? 0) + 1);
        },
        { concurrency: 2 },
      );
      const total = 40;
      for (let n = 0; n < total; n++) await queue.add({ n }, { jobId: `event-${n}` });
      for (const threshold of [5, 20]) {
        await vi.waitFor(() => expect(runs.size).toBeGreaterThanOrEqual(threshold), WAIT);
        expect(await killClients(admin, prefix)).toBeGreaterThanOrEqual(3);
      }
      await vi.waitFor(() => expect(runs.size).toBe(total), { timeout: 30_000, interval: 20 });
      await vi.waitFor(async () => expect(await queue.counts()).toStrictEqual(EMPTY), WAIT);
      expect([...runs.values()].every((count) => count === 1)).toBe(true);
      expect(lines().map((line) => line.msg)).toContain(
        'redis connection lost; queues wait and retry until it is back',
      );
      expect(lines().map((line) => line.msg)).toContain('redis connection restored');
    } finally {
      await factory.close();
      await obliterate(prefix);
      admin.disconnect();
    }
  });

  it('rides out a Redis outage: adds wait, workers resume, every job finishes once', async () => {
    const target = new URL(services.redisUrl);
    const proxy = new TcpProxy(target.hostname, Number(target.port || 6379));
    const port = await proxy.start();
    const prefix = uniquePrefix();
    const { log, lines } = captureLogger();
    const factory = new BullMqQueueFactory({ url: `redis://127.0.0.1:${port}`, prefix, log });
    try {
      const queue = factory.create<Item>('detection', { attempts: 5, backoffMs: BACKOFF_MS });
      const runs = new Map<number, number>();
      queue.process(
        async (data) => {
          await sleep(15);
          runs.set(data.n, (runs.get(data.n) ?? 0) + 1);
        },
        { concurrency: 2 },
      );
      for (let n = 0; n < 20; n++) await queue.add({ n }, { jobId: `media-${n}` });
      await vi.waitFor(() => expect(runs.size).toBeGreaterThanOrEqual(5), WAIT);
      await proxy.stop();
      const addedDuringOutage = queue.add({ n: 20 }, { jobId: 'media-20' });
      await sleep(1500);
      const doneDuringOutage = runs.size;
      expect(doneDuringOutage).toBeLessThan(20);
      await proxy.start();
      await addedDuringOutage;
      await vi.waitFor(() => expect(runs.size).toBe(21), { timeout: 30_000, interval: 20 });
      await vi.waitFor(async () => expect(await queue.counts()).toStrictEqual(EMPTY), WAIT);
      expect([...runs.values()].every((count) => count === 1)).toBe(true);
      const messages = lines().map((line) => line.msg);
      expect(messages).toContain('redis connection lost; queues wait and retry until it is back');
      expect(messages).toContain('redis connection restored');
    } finally {
      await factory.close();
      await proxy.stop();
      await obliterate(prefix);
    }
  });

  it('close during an outage waits for running handlers, then gives up on Redis after closeTimeoutMs', async () => {
    const target = new URL(services.redisUrl);
    const proxy = new TcpProxy(target.hostname, Number(target.port || 6379));
    const port = await proxy.start();
    const prefix = uniquePrefix();
    const { log, lines } = captureLogger();
    const factory = new BullMqQueueFactory({ url: `redis://127.0.0.1:${port}`, prefix, log, closeTimeoutMs: 300 });
    try {
      const queue = factory.create<Item>('detection', { attempts: 3, backoffMs: BACKOFF_MS });
      let started = false;
      let finished = false;
      queue.process(
        async () => {
          started = true;
          await sleep(400);
          finished = true;
        },
        { concurrency: 1 },
      );
      await queue.add({ n: 1 }, { jobId: 'media-1' });
      await vi.waitFor(() => expect(started).toBe(true), WAIT);
      await proxy.stop();
      const begin = performance.now();
      await factory.close();
      const took = performance.now() - begin;
      expect(finished).toBe(true);
      expect(took).toBeLessThan(3000);
      expect(lines().map((line) => line.msg)).toContain(
        'closing without Redis: the last results were not recorded; those jobs run again when their lock expires',
      );
    } finally {
      await factory.close();
      await proxy.stop();
      await obliterate(prefix);
    }
  });

  it('starts, fails producer calls after connectTimeoutMs, and closes when Redis is unreachable', async () => {
    const { log, lines } = captureLogger();
    const url = 'redis://127.0.0.1:1';
    const factory = new BullMqQueueFactory({ url, prefix: uniquePrefix(), log, connectTimeoutMs: 200 });
    const queue = factory.create<Item>('detection', { attempts: 3, backoffMs: BACKOFF_MS });
    queue.process(async () => {}, { concurrency: 1 });
    const unreachable = 'queue "detection": Redis not reachable within 200 ms; check redis.url and that Redis runs';
    await expect(queue.add({ n: 1 }, { jobId: 'media-1' })).rejects.toThrow(unreachable);
    await expect(queue.counts()).rejects.toThrow(unreachable);
    expect(lines().map((line) => line.msg)).toContain('redis connection lost; queues wait and retry until it is back');
    await factory.close();
  });
});

/** Kills only this test's connections (their names start with the prefix): other suites share this Redis. */
async function killClients(admin: Redis, prefix: string): Promise<number> {
  const list = (await admin.call('CLIENT', 'LIST', 'TYPE', 'normal')) as string;
  const ids = list
    .split('\n')
    .map((line) => Object.fromEntries(line.split(' ').map((field) => field.split('=', 2))))
    .filter((fields) => typeof fields.name === 'string' && fields.name.startsWith(`${prefix}:`))
    .map((fields) => String(fields.id));
  for (const id of ids) await admin.call('CLIENT', 'KILL', 'ID', id);
  return ids.length;
}
