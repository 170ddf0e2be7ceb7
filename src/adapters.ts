import { type BatchStore, MemoryBatchStore } from './aggregation/batch-store.js';
import { RedisBatchStore } from './aggregation/redis-batch.store.js';
import { type LlmClient, OpenAiLlmClient } from './analysis/llm-client.js';
import type { Config } from './config/schema.js';
import { extractClipFrames } from './detection/clip-frames.js';
import type { Clock } from './lib/clock.js';
import { AppError } from './lib/errors.js';
import type { Logger } from './lib/logger.js';
import {
  type AnalysisJob,
  type DetectionJob,
  ENRICHMENT_QUEUE,
  type EnrichmentJob,
  type JobQueue,
  QUEUE_NAMES,
  type QueueFactory,
} from './queue/contracts.js';
import { createQueueFactory } from './queue/factory.js';
import { openStore, storeOptionsFrom } from './storage/connect.js';
import type { Store } from './storage/database.js';
import { migrate } from './storage/migrate.js';

/**
 * The adapters HSI is built from, each made from the configuration in one function: the service (`src/main.ts`)
 * and the one-off commands (`src/ops/`) build them the same way, so a command sees the same database, queues and
 * key prefix as the running service.
 */

/** The database the configuration names (PostgreSQL, or PGlite under data_dir), migrated to the latest version. */
export async function openMigratedStore(config: Config, log: Logger, poolSize?: number): Promise<Store> {
  const store = await openStore(storeOptionsFrom(config, log, poolSize));
  try {
    await migrate(store, log);
    return store;
  } catch (error) {
    await store.close();
    throw error;
  }
}

/** BullMQ on `redis.url`, else the in-process queue. */
export function queueFactoryFor(config: Config, log: Logger, clock: Clock): QueueFactory {
  return createQueueFactory({ redisUrl: config.redis.url, prefix: config.redis.prefix, log, clock });
}

const policyOf = (config: Config) => ({ attempts: config.queue.attempts, backoffMs: config.queue.backoff_ms });

export function detectionQueueOf(factory: QueueFactory, config: Config): JobQueue<DetectionJob> {
  return factory.create<DetectionJob>(QUEUE_NAMES.detection, policyOf(config));
}

export function enrichmentQueueOf(factory: QueueFactory, config: Config): JobQueue<EnrichmentJob> {
  return factory.create<EnrichmentJob>(ENRICHMENT_QUEUE, policyOf(config));
}

export function analysisQueueOf(factory: QueueFactory, config: Config): JobQueue<AnalysisJob> {
  return factory.create<AnalysisJob>(QUEUE_NAMES.analysis, policyOf(config));
}

/** Open batches in Redis (they survive a restart of HSI), else in memory. */
export function batchStoreFor(config: Config, log: Logger): BatchStore {
  return config.redis.url === ''
    ? new MemoryBatchStore()
    : new RedisBatchStore(config.redis.url, config.redis.prefix, log);
}

/** The configured OpenAI-compatible LLM, or undefined for the built-in rules scorer. */
export function createLlmClient(config: Config, log: Logger): LlmClient | undefined {
  const a = config.analysis;
  if (a.provider === 'rules') return undefined;
  if (a.url === '' || a.model === '') {
    throw new AppError('CONFIG_INVALID', 'analysis.provider is openai: set analysis.url and analysis.model too');
  }
  return new OpenAiLlmClient({ url: a.url, model: a.model, apiKey: a.api_key, timeoutMs: a.timeout_ms, log });
}

/** Frames sampled from a clip (ffmpeg), as the configuration says. */
export function clipFrameExtractor(config: Config): (file: string) => Promise<Buffer[]> {
  return (file) =>
    extractClipFrames(file, {
      ffmpegPath: config.ingest.ffmpeg_path,
      fps: config.ingest.video_fps,
      maxFrames: config.ingest.video_max_frames,
      timeoutMs: 60_000,
      maxBytes: config.ingest.max_file_mb * 1024 * 1024,
    });
}
