import { Redis } from 'ioredis';
import { AppError, errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';

/** `queues`: one connection shared by every Queue. `workers`: one shared by every Worker (BullMQ duplicates it). */
export type ConnectionRole = 'queues' | 'workers';

/**
 * Logs a Redis outage once instead of once per reconnect attempt: the first lost connection is a warning,
 * errors while it is down are debug noise, and the first `ready` afterwards says it is back.
 */
export class RedisHealthLog {
  private down = false;
  private stopping = false;
  private suppressed = 0;

  constructor(private readonly log: Logger) {}

  /** Our own shutdown closes connections on purpose: that is not an outage. */
  stop(): void {
    this.stopping = true;
  }

  lost(source: string): void {
    if (this.down || this.stopping) return;
    this.down = true;
    this.log.warn({ source }, 'redis connection lost; queues wait and retry until it is back');
  }

  restored(source: string): void {
    if (!this.down) return;
    this.log.info({ source, suppressed_errors: this.suppressed }, 'redis connection restored');
    this.down = false;
    this.suppressed = 0;
  }

  error(source: string, error: unknown): void {
    if (this.down) {
      this.suppressed += 1;
      this.log.debug({ source, error: errorMessage(error) }, 'redis error while disconnected');
      return;
    }
    this.log.error({ source, error: errorMessage(error) }, 'redis queue error');
  }
}

/**
 * A factory's two shared ioredis connections, opened on first use, named `<prefix>:queues` / `<prefix>:workers`
 * (visible in CLIENT LIST), and never able to crash the process: errors and reconnects go to `health`. Workers get
 * `maxRetriesPerRequest: null` (BullMQ requires it: they wait out an outage); producers fail a command after about
 * 20 reconnect attempts (~10 s), so callers see a long outage instead of hanging.
 */
export class RedisConnections {
  readonly health: RedisHealthLog;
  private readonly open = new Map<ConnectionRole, Redis>();

  constructor(
    private readonly url: string,
    private readonly prefix: string,
    log: Logger,
  ) {
    this.health = new RedisHealthLog(log);
  }

  get(role: ConnectionRole): Redis {
    let redis = this.open.get(role);
    if (redis === undefined) {
      const source = `redis ${role}`;
      const maxRetriesPerRequest = role === 'workers' ? null : 20;
      redis = new Redis(this.url, { connectionName: `${this.prefix}:${role}`, maxRetriesPerRequest });
      redis.on('error', (error: unknown) => this.health.error(source, error));
      redis.on('close', () => this.health.lost(source));
      redis.on('ready', () => this.health.restored(source));
      this.open.set(role, redis);
    }
    return redis;
  }

  /** QUIT when Redis answers, otherwise (or when QUIT hangs for a second) drop the socket. */
  async close(): Promise<void> {
    this.health.stop();
    const connections = [...this.open.values()];
    this.open.clear();
    await Promise.all(
      connections.map(async (redis) => {
        if (redis.status === 'ready' && (await settlesWithin(redis.quit(), 1000))) return;
        redis.disconnect();
      }),
    );
  }
}

/** Resolves with `ready`, or fails with a TRANSIENT error naming `what` when it takes longer than `ms`. */
export async function withConnectTimeout(ready: Promise<unknown>, ms: number, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(
        new AppError('TRANSIENT', `${what}: Redis not reachable within ${ms} ms; check redis.url and that Redis runs`),
      );
    }, ms);
  });
  try {
    await Promise.race([ready, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** True when `work` settles (resolves or rejects) within `ms`. */
export async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([work.then(settled, settled), expired]);
  } finally {
    clearTimeout(timer);
  }
}

const settled = (): true => true;
