/**
 * Job contracts: the only thing pipeline stages share. Two implementations honour the same semantics:
 * BullMQ on Redis (`bullmq.ts`) and an in-process queue (`memory.ts`).
 *
 * Semantics both must keep:
 * - `add` with a `jobId` is idempotent while a job with that id is waiting, delayed or active; adding the id of a
 *   dead letter runs it again with the new data and fresh attempts. Job ids must not be plain integers nor contain
 *   `:` (BullMQ's rules; both implementations reject them): use ids like `media-42`.
 * - A handler that resolves completes the job (it is then forgotten: the database is the record).
 * - A handler that throws a permanent error (`isPermanent`) fails the job at once, no retry, no dead letter.
 * - Any other error is retried with exponential backoff (`backoffMs * 2^(attempt-1)`) up to `attempts`
 *   attempts; a job that exhausts them becomes a dead letter, listed by `deadLetters()` until `requeue`d.
 * - At most `concurrency` handlers run at once per worker.
 * - Handles a factory creates for the same name share one queue (a producer handle and a worker handle).
 */

export const QUEUE_NAMES = { detection: 'detection', analysis: 'analysis' } as const;
/**
 * The enrichment stage's queue: only used while a frame processor is enabled, so it is not among the queues the
 * API and the health sensor report.
 */
export const ENRICHMENT_QUEUE = 'enrichment' as const;
export type AnyQueueName = QueueName | typeof ENRICHMENT_QUEUE;
export type QueueName = (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES];

/** A file to run through the detector. The row in `media_files` is the record; the job only points at it. */
export interface DetectionJob {
  mediaFileId: number;
  cameraId: string;
  path: string;
  /** Epoch ms when the file was found stable and queued: start of the pipeline latency. */
  queuedAt: number;
}

/**
 * A detected file whose frames the enabled frame processors (faces, re-identification, ...) have yet to see. Queued
 * after the file's detections commit, only when a processor is enabled; the row in `media_files` and its
 * `enrichment_runs` are the record.
 */
export interface EnrichmentJob {
  mediaFileId: number;
  cameraId: string;
  /** Epoch ms when the detections were committed: start of the enrichment latency. */
  queuedAt: number;
}

/** Queue job id of a file's enrichment (`enrich-42`). */
export const enrichmentJobId = (mediaFileId: number): string => `enrich-${mediaFileId}`;

/**
 * One step of a visit's security event. `open`: the fast path opens the event now with one frame's detections.
 * `close`: the batch closed; its detections (the opened event's and the later ones) are analysed once more and the
 * event is created or updated, then closed. Jobs queued before visits had phases have none: they are `close`.
 */
export interface AnalysisJob {
  batchId: string;
  cameraId: string;
  phase?: 'open' | 'close';
  detectionIds: number[];
  isFastPath: boolean;
  reason: 'window' | 'idle' | 'max' | 'fast_path';
  /** Epoch ms of the first and last detection's arrival. */
  startedAt: number;
  endedAt: number;
  /**
   * Epoch ms when the first and last pictures were taken (sanity-checked): what the event is judged by. Absent in
   * jobs queued before capture times: the arrival times stand in.
   */
  capturedFrom?: number;
  capturedTo?: number;
  /** Epoch ms when the batch closed: start of the analysis latency. */
  closedAt: number;
}

/**
 * Queue job id of a batch's step (`front_door:12` → `batch-front_door.12`, its fast path `batch-front_door.12-open`):
 * BullMQ ids cannot contain `:`.
 */
export const analysisJobId = (batchId: string, phase: AnalysisJob['phase'] = 'close'): string =>
  `batch-${batchId.replaceAll(':', '.')}${phase === 'open' ? '-open' : ''}`;

export interface JobContext {
  id: string;
  /** 1 on the first run. */
  attempt: number;
  maxAttempts: number;
}

export type JobHandler<T> = (data: T, ctx: JobContext) => Promise<void>;

export interface DeadLetter<T> {
  id: string;
  data: T;
  error: string;
  attempts: number;
  failedAt: number;
}

export interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
  dead: number;
}

export interface RetryPolicy {
  attempts: number;
  backoffMs: number;
}

export interface JobQueue<T> {
  readonly name: string;
  add(data: T, options?: { jobId?: string }): Promise<void>;
  /** Starts consuming with `handler`. Call once. */
  process(handler: JobHandler<T>, options: { concurrency: number }): void;
  counts(): Promise<QueueCounts>;
  deadLetters(limit?: number): Promise<DeadLetter<T>[]>;
  /** Data of the jobs waiting, delayed or running (at most `limit`, default 10,000). */
  pending(limit?: number): Promise<T[]>;
  /** Moves a dead letter back to waiting with fresh attempts. False when no such dead letter. */
  requeue(id: string): Promise<boolean>;
  /** Stops taking jobs, waits for running handlers, releases connections. */
  close(): Promise<void>;
}

export interface QueueFactory {
  readonly kind: 'bullmq' | 'memory';
  create<T>(name: AnyQueueName, policy: RetryPolicy): JobQueue<T>;
  close(): Promise<void>;
}
