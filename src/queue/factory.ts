import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { BullMqQueueFactory } from './bullmq.js';
import type { QueueFactory } from './contracts.js';
import { MemoryQueueFactory } from './memory.js';

export interface QueueFactoryOptions {
  /** `redis.url` from the configuration; empty or absent selects the in-process queue. */
  redisUrl?: string | undefined;
  /** Key prefix for BullMQ (ignored by the in-process queue). */
  prefix: string;
  log: Logger;
  /** Drives retry backoff in the in-process queue (BullMQ keeps time in Redis). */
  clock: Clock;
  /** Dead letters kept per queue, newest kept (default 1000). */
  deadLetterLimit?: number;
}

/** BullMQ on Redis when `redisUrl` is set, otherwise the in-process queue with the same semantics. */
export function createQueueFactory(options: QueueFactoryOptions): QueueFactory {
  const log = options.log.child({ component: 'queue' });
  const limit = options.deadLetterLimit === undefined ? {} : { deadLetterLimit: options.deadLetterLimit };
  if (typeof options.redisUrl === 'string' && options.redisUrl.trim() !== '') {
    return new BullMqQueueFactory({ url: options.redisUrl.trim(), prefix: options.prefix, log, ...limit });
  }
  return new MemoryQueueFactory({ clock: options.clock, log, ...limit });
}
