import { Redis } from 'ioredis';
import type { Logger } from '../lib/logger.js';
import type { OpenBatch } from './batch-state.js';
import type { BatchStore } from './batch-store.js';

const TTL_SECONDS = 3600;
const MAX_RETRIES = 50;

/**
 * Open batches in Redis, laid out as the data model says: `<prefix>:batch:<camera_id>:current` holds the open batch
 * (JSON, 1 h TTL) and `<prefix>:batch:<batch_id>:closed` is the close guard (SET NX, 1 h). Updates are optimistic
 * (WATCH/MULTI) so several processes can add detections to one camera; within this process they are also
 * serialised per camera, since WATCH belongs to the connection.
 */
export class RedisBatchStore implements BatchStore {
  readonly kind = 'redis' as const;
  private readonly redis: Redis;
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(
    url: string,
    private readonly prefix: string,
    log: Logger,
  ) {
    this.redis = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: null });
    this.redis.on('error', (error) => log.warn({ err: error }, 'batch store: Redis error'));
  }

  private currentKey(cameraId: string): string {
    return `${this.prefix}:batch:${cameraId}:current`;
  }

  update<T>(
    cameraId: string,
    fn: (batch: OpenBatch | undefined) => { batch: OpenBatch | undefined; result: T },
  ): Promise<T> {
    const run = () => this.updateOptimistic(cameraId, fn);
    const previous = this.chains.get(cameraId) ?? Promise.resolve();
    const next = previous.then(run, run);
    this.chains.set(
      cameraId,
      next.catch(() => undefined),
    );
    return next;
  }

  private async updateOptimistic<T>(
    cameraId: string,
    fn: (batch: OpenBatch | undefined) => { batch: OpenBatch | undefined; result: T },
  ): Promise<T> {
    const key = this.currentKey(cameraId);
    for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
      await this.redis.watch(key);
      const raw = await this.redis.get(key);
      const { batch, result } = fn(raw === null ? undefined : (JSON.parse(raw) as OpenBatch));
      const tx = this.redis.multi();
      if (batch === undefined) tx.del(key);
      else tx.set(key, JSON.stringify(batch), 'EX', TTL_SECONDS);
      const outcome = await tx.exec();
      if (outcome !== null) return result;
      // Another process wrote the key first: back off a little (with jitter, so two writers do not collide again).
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 * (attempt + 1))));
    }
    throw new Error(`batch store: gave up updating ${key} after ${MAX_RETRIES} conflicting writes`);
  }

  async openBatches(): Promise<OpenBatch[]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}:batch:*:current`, 'COUNT', 200);
      cursor = next;
      keys.push(...found);
    } while (cursor !== '0');
    if (keys.length === 0) return [];
    const values = await this.redis.mget(keys);
    return values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as OpenBatch);
  }

  async claimClose(batchId: string): Promise<boolean> {
    const ok = await this.redis.set(`${this.prefix}:batch:${batchId}:closed`, '1', 'EX', TTL_SECONDS, 'NX');
    return ok === 'OK';
  }

  async close(): Promise<void> {
    await Promise.all(this.chains.values());
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
