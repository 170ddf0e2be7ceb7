import type { DeadLetter, JobHandler, JobQueue, QueueCounts } from '../../src/queue/contracts.js';

/** A JobQueue that only records what was added (ids deduplicated like the real ones): for stage unit tests. */
export class RecordingQueue<T> implements JobQueue<T> {
  readonly name = 'recording';
  readonly added: { data: T; jobId: string | undefined }[] = [];

  async add(data: T, options?: { jobId?: string }): Promise<void> {
    const jobId = options?.jobId;
    if (jobId !== undefined && this.added.some((a) => a.jobId === jobId)) return;
    this.added.push({ data, jobId });
  }

  process(_handler: JobHandler<T>): void {
    throw new Error('RecordingQueue does not run jobs');
  }

  async counts(): Promise<QueueCounts> {
    return { waiting: this.added.length, active: 0, delayed: 0, dead: 0 };
  }

  async deadLetters(): Promise<DeadLetter<T>[]> {
    return [];
  }

  async pending(): Promise<T[]> {
    return this.added.map((a) => a.data);
  }

  async requeue(): Promise<boolean> {
    return false;
  }

  async close(): Promise<void> {}
}
