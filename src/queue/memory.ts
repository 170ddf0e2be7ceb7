import type { Clock, TimerHandle } from '../lib/clock.js';
import { AppError, errorMessage, isPermanent } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type {
  AnyQueueName,
  DeadLetter,
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

export interface MemoryQueueFactoryOptions {
  clock: Clock;
  log: Logger;
  /** Dead letters kept per queue, newest kept (default 1000). */
  deadLetterLimit?: number;
}

interface MemoryJob<T> {
  id: string;
  data: T;
  /** The policy of the handle that added it, as BullMQ stores attempts and backoff on each job. */
  policy: RetryPolicy;
  /** Attempts started so far; the running attempt's number while active. */
  attempt: number;
}

interface Consumer<T> {
  freeSlots(): number;
  start(job: MemoryJob<T>): void;
}

type Outcome = { ok: true } | { ok: false; error: unknown };

/** One named queue's jobs, shared by every handle the factory creates for that name (producers and workers). */
class MemoryQueueState<T> {
  private readonly waiting: MemoryJob<T>[] = [];
  private head = 0;
  private readonly delayed = new Map<string, { job: MemoryJob<T>; timer: TimerHandle }>();
  private readonly active = new Map<string, MemoryJob<T>>();
  private readonly dead = new Map<string, { job: MemoryJob<T>; letter: DeadLetter<T> }>();
  /** Ids that are waiting, delayed or active: `add` with one of them does nothing. */
  private readonly pending = new Set<string>();
  private readonly consumers = new Set<Consumer<T>>();
  private lastId = 0;

  constructor(
    readonly name: string,
    private readonly options: Required<MemoryQueueFactoryOptions>,
  ) {}

  add(data: T, policy: RetryPolicy, jobId: string | undefined): void {
    if (jobId !== undefined && this.pending.has(jobId)) return;
    const id = jobId ?? String(++this.lastId);
    // Adding the id of a dead letter runs it again with the new data and fresh attempts (as on BullMQ).
    this.dead.delete(id);
    this.enqueue({ id, data, policy, attempt: 0 });
  }

  requeue(id: string): boolean {
    const entry = this.dead.get(id);
    if (entry === undefined) return false;
    this.dead.delete(id);
    this.enqueue({ ...entry.job, attempt: 0 });
    return true;
  }

  attach(consumer: Consumer<T>): void {
    this.consumers.add(consumer);
    this.dispatch();
  }

  detach(consumer: Consumer<T>): void {
    this.consumers.delete(consumer);
  }

  /** Hands waiting jobs, oldest first, to consumers with free slots. */
  dispatch(): void {
    for (const consumer of this.consumers) {
      while (consumer.freeSlots() > 0) {
        const job = this.takeWaiting();
        if (job === undefined) return;
        job.attempt += 1;
        this.active.set(job.id, job);
        consumer.start(job);
      }
    }
  }

  /** Records how an attempt ended: done, failed for good, retried after a backoff, or buried as a dead letter. */
  settle(job: MemoryJob<T>, outcome: Outcome): void {
    this.active.delete(job.id);
    if (outcome.ok) {
      this.pending.delete(job.id);
      return;
    }
    const log = this.options.log.child({ queue: this.name, job_id: job.id, attempt: job.attempt });
    const error = errorMessage(outcome.error);
    if (isPermanent(outcome.error)) {
      this.pending.delete(job.id);
      log.warn({ error }, 'job failed permanently, not retried');
    } else if (job.attempt < job.policy.attempts) {
      const delay = backoffDelay(job.policy, job.attempt);
      log.warn({ error, retry_in_ms: delay }, 'job failed, will retry');
      const timer = this.options.clock.setTimeout(() => this.promote(job.id), delay);
      this.delayed.set(job.id, { job, timer });
    } else {
      this.pending.delete(job.id);
      log.error({ error }, 'job exhausted its attempts, kept as a dead letter');
      this.bury(job, error);
    }
  }

  pendingData(limit: number): T[] {
    const waiting = this.waiting.slice(this.head);
    const jobs = [...this.active.values(), ...waiting, ...[...this.delayed.values()].map((d) => d.job)];
    return jobs.slice(0, limit).map((j) => j.data);
  }

  counts(): QueueCounts {
    const waiting = this.waiting.length - this.head;
    return { waiting, active: this.active.size, delayed: this.delayed.size, dead: this.dead.size };
  }

  deadLetters(limit: number): DeadLetter<T>[] {
    const letters = [...this.dead.values()].map((entry) => ({ ...entry.letter }));
    return letters.reverse().slice(0, limit);
  }

  /** Drops timers so a closed factory leaves nothing scheduled. Waiting jobs stay (the database is the record). */
  stop(): void {
    for (const { timer } of this.delayed.values()) this.options.clock.clearTimeout(timer);
  }

  private enqueue(job: MemoryJob<T>): void {
    this.pending.add(job.id);
    this.waiting.push(job);
    this.dispatch();
  }

  private promote(id: string): void {
    const entry = this.delayed.get(id);
    if (entry === undefined) return;
    this.delayed.delete(id);
    this.waiting.push(entry.job);
    this.dispatch();
  }

  private takeWaiting(): MemoryJob<T> | undefined {
    const job = this.waiting[this.head];
    if (job === undefined) return undefined;
    this.head += 1;
    if (this.head > 1024 && this.head * 2 > this.waiting.length) {
      this.waiting.splice(0, this.head);
      this.head = 0;
    }
    return job;
  }

  private bury(job: MemoryJob<T>, error: string): void {
    const letter = { id: job.id, data: job.data, error, attempts: job.attempt, failedAt: this.options.clock.now() };
    this.dead.set(job.id, { job, letter });
    for (const oldest of this.dead.keys()) {
      if (this.dead.size <= this.options.deadLetterLimit) break;
      this.dead.delete(oldest);
    }
  }
}

/** A handle on an in-process queue: adds jobs and, once `process` is called, runs them. */
export class MemoryJobQueue<T> implements JobQueue<T> {
  private consumer: Consumer<T> | undefined;
  private readonly running = new Set<Promise<void>>();
  private closed = false;

  constructor(
    readonly name: string,
    private readonly state: MemoryQueueState<T>,
    private readonly policy: RetryPolicy,
  ) {}

  async add(data: T, options: { jobId?: string } = {}): Promise<void> {
    this.assertOpen('add');
    if (options.jobId !== undefined) assertJobId(this.name, options.jobId);
    this.state.add(data, this.policy, options.jobId);
  }

  process(handler: JobHandler<T>, options: { concurrency: number }): void {
    this.assertOpen('process');
    assertConcurrency(this.name, options.concurrency);
    if (this.consumer !== undefined) {
      throw new AppError('INVALID_TRANSITION', `queue "${this.name}": process() was already called on this handle`);
    }
    const consumer: Consumer<T> = {
      freeSlots: () => options.concurrency - this.running.size,
      start: (job) => this.run(handler, job),
    };
    this.consumer = consumer;
    this.state.attach(consumer);
  }

  async counts(): Promise<QueueCounts> {
    return this.state.counts();
  }

  async deadLetters(limit?: number): Promise<DeadLetter<T>[]> {
    return this.state.deadLetters(limitOrDefault(limit));
  }

  async pending(limit = 10_000): Promise<T[]> {
    return this.state.pendingData(limit);
  }

  async requeue(id: string): Promise<boolean> {
    return this.state.requeue(id);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.consumer !== undefined) this.state.detach(this.consumer);
    await Promise.all(this.running);
  }

  private run(handler: JobHandler<T>, job: MemoryJob<T>): void {
    const ctx = { id: job.id, attempt: job.attempt, maxAttempts: job.policy.attempts };
    const attempt = Promise.resolve()
      .then(() => handler(job.data, ctx))
      .then(
        (): Outcome => ({ ok: true }),
        (error: unknown): Outcome => ({ ok: false, error }),
      )
      .then((outcome) => this.state.settle(job, outcome))
      .finally(() => {
        this.running.delete(attempt);
        this.state.dispatch();
      });
    this.running.add(attempt);
  }

  private assertOpen(operation: string): void {
    if (!this.closed) return;
    throw new AppError('INVALID_TRANSITION', `queue "${this.name}" is closed: ${operation}() after close()`);
  }
}

/**
 * In-process queues with the same semantics as BullMQ: one shared state per queue name, so the ingest role's
 * handle and the detection worker's handle in the same process see the same jobs.
 */
export class MemoryQueueFactory implements QueueFactory {
  readonly kind = 'memory' as const;
  private readonly states = new Map<string, MemoryQueueState<unknown>>();
  private readonly handles = new Set<MemoryJobQueue<unknown>>();

  constructor(private readonly options: MemoryQueueFactoryOptions) {}

  create<T>(name: AnyQueueName, policy: RetryPolicy): JobQueue<T> {
    assertRetryPolicy(name, policy);
    let state = this.states.get(name);
    if (state === undefined) {
      const deadLetterLimit = this.options.deadLetterLimit ?? DEFAULT_DEAD_LETTER_LIMIT;
      state = new MemoryQueueState<unknown>(name, { ...this.options, deadLetterLimit });
      this.states.set(name, state);
    }
    const handle = new MemoryJobQueue<T>(name, state as MemoryQueueState<T>, { ...policy });
    this.handles.add(handle as MemoryJobQueue<unknown>);
    return handle;
  }

  async close(): Promise<void> {
    await Promise.all([...this.handles].map((handle) => handle.close()));
    for (const state of this.states.values()) state.stop();
  }
}
