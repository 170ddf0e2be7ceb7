import type { OpenBatch } from './batch-state.js';

/**
 * Where open batches live between detections: in memory (one process), or in Redis (shared by every detect
 * process, surviving HSI restarts). Implementations keep `update` atomic per camera and `claimClose` exactly-once.
 */
export interface BatchStore {
  readonly kind: 'memory' | 'redis';
  /**
   * Replaces the camera's open batch with what `fn` returns, atomically. `fn` must be pure: an optimistic store may
   * call it again after a conflicting write.
   */
  update<T>(
    cameraId: string,
    fn: (batch: OpenBatch | undefined) => { batch: OpenBatch | undefined; result: T },
  ): Promise<T>;
  openBatches(): Promise<OpenBatch[]>;
  /** The close guard: true for exactly one caller per batch id (for an hour). */
  claimClose(batchId: string): Promise<boolean>;
  close(): Promise<void>;
}

/** Open batches in a Map; updates for one camera run one after another. */
export class MemoryBatchStore implements BatchStore {
  readonly kind = 'memory' as const;
  private readonly batches = new Map<string, OpenBatch>();
  private readonly closed = new Set<string>();
  private readonly chains = new Map<string, Promise<unknown>>();

  update<T>(
    cameraId: string,
    fn: (batch: OpenBatch | undefined) => { batch: OpenBatch | undefined; result: T },
  ): Promise<T> {
    const run = async () => {
      const { batch, result } = fn(this.batches.get(cameraId));
      if (batch === undefined) this.batches.delete(cameraId);
      else this.batches.set(cameraId, batch);
      return result;
    };
    const previous = this.chains.get(cameraId) ?? Promise.resolve();
    const next = previous.then(run, run);
    this.chains.set(
      cameraId,
      next.catch(() => undefined),
    );
    return next;
  }

  async openBatches(): Promise<OpenBatch[]> {
    return [...this.batches.values()];
  }

  async claimClose(batchId: string): Promise<boolean> {
    if (this.closed.has(batchId)) return false;
    this.closed.add(batchId);
    if (this.closed.size > 10_000) this.closed.delete(this.closed.values().next().value as string);
    return true;
  }

  async close(): Promise<void> {
    await Promise.all(this.chains.values());
  }
}
