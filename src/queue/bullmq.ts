import { type Job, type JobsOptions, Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { AppError, errorMessage, isPermanent } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type {
  AnyQueueName,
  DeadLetter,
  JobContext,
  JobHandler,
  JobQueue,
  QueueCounts,
  QueueFactory,
  RetryPolicy,
} from './contracts.js';
import {
  assertConcurrency,
  assertJobId,
  assertRetryPolicy,
  backoffDelay,
  DEFAULT_DEAD_LETTER_LIMIT,
  limitOrDefault,
} from './job-rules.js';
import { RedisConnections, type RedisHealthLog, settlesWithin, withConnectTimeout } from './redis-connection.js';

export interface BullMqQueueFactoryOptions {
  /** `redis://host:port/db`. */
  url: string;
  /** BullMQ key prefix: every key this factory touches starts with `<prefix>:`. */
  prefix: string;
  log: Logger;
  /** Failed jobs (dead letters) kept per queue, newest kept (default 1000). */
  deadLetterLimit?: number;
  /**
   * How long a queue operation waits for the first connection before it fails (default 10 s). Once connected,
   * a command fails after ioredis's ~20 reconnect attempts (also about 10 s) while Redis stays away.
   */
  connectTimeoutMs?: number;
  /**
   * How long `close()` waits, after the running handlers have finished, for BullMQ to record their results
   * (default 5 s). Past it (Redis unreachable) close gives up: those jobs run again once their lock expires.
   */
  closeTimeoutMs?: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_CLOSE_TIMEOUT_MS = 5_000;

/** Marks a failure that came from a permanent error, so it is never listed or requeued as a dead letter. */
const PERMANENT_MARK = '[permanent] ';
const FRESH_ATTEMPTS = { resetAttemptsMade: true, resetAttemptsStarted: true };

interface BullMqJobQueueDeps {
  /** Untyped: job data is JSON in Redis, typed again as `T` where it is read. */
  queue: Queue;
  policy: RetryPolicy;
  log: Logger;
  health: RedisHealthLog;
  deadLetterLimit: number;
  connectTimeoutMs: number;
  closeTimeoutMs: number;
  /** The shared connection for workers (`maxRetriesPerRequest: null`); BullMQ duplicates it for blocking reads. */
  workerConnection: () => Redis;
}

function isPermanentFailure(job: Job): boolean {
  return job.failedReason?.startsWith(PERMANENT_MARK) === true;
}

function toDeadLetter<T>(job: Job<T>): DeadLetter<T> {
  return {
    id: job.id ?? '',
    data: job.data,
    error: job.failedReason ?? '',
    attempts: job.attemptsMade,
    failedAt: job.finishedOn ?? job.timestamp,
  };
}

/** A handle on one BullMQ queue: adds jobs and, once `process` is called, runs a Worker on it. */
export class BullMqJobQueue<T> implements JobQueue<T> {
  readonly name: string;
  private worker: Worker<T> | undefined;
  /** Removals of permanently failed jobs still in flight; reads wait for them so they never list those jobs. */
  private readonly removals = new Set<Promise<void>>();
  /** Handlers running now: `close()` always waits for them, whatever Redis does. */
  private readonly running = new Set<Promise<void>>();
  private closed = false;
  private connected = false;

  constructor(private readonly deps: BullMqJobQueueDeps) {
    this.name = deps.queue.name;
  }

  async add(data: T, options: { jobId?: string } = {}): Promise<void> {
    this.assertOpen('add');
    const { jobId } = options;
    if (jobId !== undefined) assertJobId(this.name, jobId);
    await this.ready();
    if (jobId !== undefined && (await this.rerunFailed(jobId, data))) return;
    await this.deps.queue.add(this.name, data, this.jobOptions(jobId));
  }

  process(handler: JobHandler<T>, options: { concurrency: number }): void {
    this.assertOpen('process');
    assertConcurrency(this.name, options.concurrency);
    if (this.worker !== undefined) {
      throw new AppError('INVALID_TRANSITION', `queue "${this.name}": process() was already called on this handle`);
    }
    const source = `worker ${this.name}`;
    const worker = new Worker<T>(this.name, (job) => this.runJob(handler, job), {
      connection: this.deps.workerConnection(),
      prefix: this.deps.queue.opts.prefix,
      concurrency: options.concurrency,
      // Retry moving a finished job after a connection error in 1 s, not BullMQ's default 15 s.
      runRetryDelay: 1000,
      // A worker killed mid-job (kill -9, power loss) holds its job's lock until it expires: 15 s, checked every
      // 5 s, gets such jobs running again within ~20 s instead of BullMQ's default 30 + 30 s. Locks are renewed
      // every 7.5 s while a job runs, and inference never blocks the event loop that long.
      lockDuration: 15_000,
      stalledInterval: 5_000,
    });
    worker.on('error', (error) => this.deps.health.error(source, error));
    worker.on('failed', (job, error) => {
      if (job !== undefined && error.message.startsWith(PERMANENT_MARK)) this.forget(job);
    });
    this.worker = worker;
  }

  async counts(): Promise<QueueCounts> {
    await this.ready();
    await Promise.all(this.removals);
    const counts = await this.deps.queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
    return {
      waiting: counts.waiting ?? 0,
      active: counts.active ?? 0,
      delayed: counts.delayed ?? 0,
      dead: counts.failed ?? 0,
    };
  }

  async deadLetters(limit?: number): Promise<DeadLetter<T>[]> {
    await this.ready();
    await Promise.all(this.removals);
    const count = limitOrDefault(limit);
    if (count === 0) return [];
    const failed = await this.deps.queue.getFailed(0, count - 1);
    return failed.filter((job) => !isPermanentFailure(job)).map((job) => toDeadLetter<T>(job));
  }

  async pending(limit = 10_000): Promise<T[]> {
    await this.ready();
    const jobs = await this.deps.queue.getJobs(['active', 'waiting', 'delayed', 'prioritized'], 0, limit - 1);
    return jobs.filter((job) => job !== undefined).map((job) => job.data as T);
  }

  async requeue(id: string): Promise<boolean> {
    await this.ready();
    await Promise.all(this.removals);
    const job = await this.deps.queue.getJob(id);
    if (job === undefined || isPermanentFailure(job)) return false;
    if ((await job.getState()) !== 'failed') return false;
    await job.retry('failed', FRESH_ATTEMPTS);
    return true;
  }

  async close(): Promise<void> {
    this.closed = true;
    const closing = this.worker?.close();
    await Promise.all(this.running);
    const bookkeeping = Promise.all([closing, ...this.removals]);
    if (!(await settlesWithin(bookkeeping, this.deps.closeTimeoutMs))) {
      this.deps.log.warn(
        { queue: this.name, waited_ms: this.deps.closeTimeoutMs },
        'closing without Redis: the last results were not recorded; those jobs run again when their lock expires',
      );
    }
    await this.deps.queue.close();
  }

  /**
   * Before the first connection BullMQ waits for Redis forever; producers instead fail after `connectTimeoutMs`,
   * so a caller (ingest) can log it and leave the row `queued` for the periodic sweep.
   */
  private async ready(): Promise<void> {
    if (this.connected) return;
    await withConnectTimeout(this.deps.queue.waitUntilReady(), this.deps.connectTimeoutMs, `queue "${this.name}"`);
    this.connected = true;
  }

  private jobOptions(jobId: string | undefined): JobsOptions {
    const { attempts, backoffMs } = this.deps.policy;
    return {
      ...(jobId === undefined ? {} : { jobId }),
      attempts,
      backoff: { type: 'exponential', delay: backoffMs },
      removeOnComplete: true,
      removeOnFail: { count: this.deps.deadLetterLimit },
    };
  }

  /** Adding the id of a failed job runs it again with the new data and fresh attempts (BullMQ would ignore it). */
  private async rerunFailed(jobId: string, data: T): Promise<boolean> {
    await Promise.all(this.removals);
    if ((await this.deps.queue.getJobState(jobId)) !== 'failed') return false;
    const job = await this.deps.queue.getJob(jobId);
    if (job === undefined) return false;
    try {
      await job.updateData(data);
      await job.retry('failed', FRESH_ATTEMPTS);
      return true;
    } catch (error) {
      // Removed in the meantime (another process forgot a permanent failure): add it as a new job.
      if ((await this.deps.queue.getJobState(jobId)) === 'unknown') return false;
      throw error;
    }
  }

  private async runJob(handler: JobHandler<T>, job: Job<T>): Promise<void> {
    const ctx: JobContext = {
      id: job.id ?? '',
      attempt: job.attemptsMade + 1,
      maxAttempts: job.opts.attempts ?? this.deps.policy.attempts,
    };
    const run = handler(job.data, ctx);
    this.running.add(run);
    try {
      await run;
    } catch (error) {
      const log = this.deps.log.child({ queue: this.name, job_id: ctx.id, attempt: ctx.attempt });
      const message = errorMessage(error);
      if (isPermanent(error)) {
        log.warn({ error: message }, 'job failed permanently, not retried');
        throw new UnrecoverableError(`${PERMANENT_MARK}${message}`);
      }
      if (ctx.attempt < ctx.maxAttempts) {
        log.warn(
          { error: message, retry_in_ms: backoffDelay(this.deps.policy, ctx.attempt) },
          'job failed, will retry',
        );
      } else {
        log.error({ error: message }, 'job exhausted its attempts, kept as a dead letter');
      }
      throw error instanceof Error ? error : new Error(message);
    } finally {
      this.running.delete(run);
    }
  }

  /** Permanent failures are not dead letters: the database records them, the queue forgets them. */
  private forget(job: Job<T>): void {
    const removal = job
      .remove()
      .catch((error: unknown) => this.deps.health.error(`remove permanently failed job ${job.id}`, error))
      .finally(() => this.removals.delete(removal));
    this.removals.add(removal);
  }

  private assertOpen(operation: string): void {
    if (!this.closed) return;
    throw new AppError('INVALID_TRANSITION', `queue "${this.name}" is closed: ${operation}() after close()`);
  }
}

/**
 * BullMQ queues on one Redis: one shared connection for every Queue, one shared `maxRetriesPerRequest: null`
 * connection for every Worker (BullMQ adds a blocking duplicate per worker). Connections are opened on first use.
 */
export class BullMqQueueFactory implements QueueFactory {
  readonly kind = 'bullmq' as const;
  private readonly handles = new Set<BullMqJobQueue<unknown>>();
  private redis: RedisConnections | undefined;

  constructor(private readonly options: BullMqQueueFactoryOptions) {}

  create<T>(name: AnyQueueName, policy: RetryPolicy): JobQueue<T> {
    assertRetryPolicy(name, policy);
    const { prefix, log } = this.options;
    this.redis ??= new RedisConnections(this.options.url, prefix, log.child({ component: 'queue', prefix }));
    const redis = this.redis;
    const queue = new Queue(name, { connection: redis.get('queues'), prefix });
    queue.on('error', (error) => redis.health.error(`queue ${name}`, error));
    const handle = new BullMqJobQueue<T>({
      queue,
      policy: { ...policy },
      log,
      health: redis.health,
      deadLetterLimit: this.options.deadLetterLimit ?? DEFAULT_DEAD_LETTER_LIMIT,
      connectTimeoutMs: this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      closeTimeoutMs: this.options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS,
      workerConnection: () => redis.get('workers'),
    });
    this.handles.add(handle as BullMqJobQueue<unknown>);
    return handle;
  }

  async close(): Promise<void> {
    await Promise.all([...this.handles].map((handle) => handle.close()));
    this.handles.clear();
    await this.redis?.close();
    this.redis = undefined;
  }
}
