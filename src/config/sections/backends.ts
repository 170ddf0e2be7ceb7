import type { JSONSchemaType } from 'ajv';

export interface DatabaseConfig {
  url: string;
  pool_size: number;
  embedded_cache_mb: number;
}

export interface RedisConfig {
  url: string;
  prefix: string;
}

export interface QueueConfig {
  attempts: number;
  backoff_ms: number;
}

export const databaseSchema: JSONSchemaType<DatabaseConfig> = {
  type: 'object',
  title: 'Database',
  description: 'Where events, detections and media bookkeeping are stored.',
  additionalProperties: false,
  required: ['url', 'pool_size', 'embedded_cache_mb'],
  properties: {
    url: {
      type: 'string',
      title: 'PostgreSQL URL',
      description: "'' runs the embedded PGlite database under `data_dir`; else `postgres://user:pass@host:5432/db`.",
      pattern: '^$|^postgres(ql)?://',
      'x-hint': "'' or a postgres:// URL",
      default: '',
    },
    pool_size: {
      type: 'integer',
      title: 'Connection pool size',
      description: 'Maximum PostgreSQL connections this process opens (ignored by PGlite).',
      minimum: 1,
      maximum: 1000,
      default: 10,
    },
    embedded_cache_mb: {
      type: 'integer',
      title: 'Embedded database cache (MB)',
      description:
        "Memory PGlite keeps for table and index pages (its PostgreSQL `shared_buffers`); the operating system's " +
        "file cache holds the rest. 16 MB keeps HSI about 110 MB smaller than PostgreSQL's 128 MB default at the " +
        'same write speed; raise it for very large histories. Ignored with `database.url`.',
      minimum: 1,
      maximum: 4096,
      default: 16,
    },
  },
};

export const redisSchema: JSONSchemaType<RedisConfig> = {
  type: 'object',
  title: 'Redis',
  description: 'Queues, batch state and the cross-process event bus. Required to split roles across processes.',
  additionalProperties: false,
  required: ['url', 'prefix'],
  properties: {
    url: {
      type: 'string',
      title: 'Redis URL',
      description: "'' uses the in-process queue; else `redis://[:password@]host:6379[/db]` (or `rediss://`).",
      pattern: '^$|^rediss?://',
      'x-hint': "'' or a redis:// URL",
      default: '',
    },
    prefix: {
      type: 'string',
      title: 'Key prefix',
      description: 'Prefix of every Redis key and channel, so several installations can share one Redis.',
      pattern: '^[A-Za-z0-9_.:-]+$',
      'x-hint': 'letters, digits and _ . : -',
      default: 'hsi',
    },
  },
};

export const queueSchema: JSONSchemaType<QueueConfig> = {
  type: 'object',
  title: 'Job queue',
  description: 'Retries of detection and analysis jobs after transient failures (database, Redis, LLM down).',
  additionalProperties: false,
  required: ['attempts', 'backoff_ms'],
  properties: {
    attempts: {
      type: 'integer',
      title: 'Attempts',
      description: 'Runs of a job before it becomes a dead letter (1 = no retry).',
      minimum: 1,
      maximum: 100,
      default: 5,
    },
    backoff_ms: {
      type: 'integer',
      title: 'Backoff (ms)',
      description: 'Delay before the first retry; it doubles on each further attempt.',
      minimum: 0,
      default: 2000,
    },
  },
};
