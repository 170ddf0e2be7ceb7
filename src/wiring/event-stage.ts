import { type AggregatedDetection, BatchAggregator } from '../aggregation/batch-aggregator.js';
import type { BatchStore } from '../aggregation/batch-store.js';
import type { AlertService } from '../alerts/alert.service.js';
import { catchUpAlerts, createAnalysisHandler } from '../analysis/analysis.worker.js';
import { type LlmClient, OpenAiLlmClient } from '../analysis/llm-client.js';
import type { Config } from '../config/schema.js';
import { saneCaptureTime } from '../domain/capture-time.js';
import type { SiteLocation } from '../domain/daylight.js';
import type { BusEvents } from '../domain/events.js';
import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import type { EventBus } from '../lib/event-bus.js';
import type { Logger } from '../lib/logger.js';
import type { AnalysisJob, JobQueue } from '../queue/contracts.js';
import type { Db } from '../storage/database.js';
import { eventsWithAlertsDue, openEventDetections, unlinkedDetections } from '../storage/event.repository.js';
import type { StopStack } from './stop-stack.js';

export interface EventStageParts {
  db: Db;
  queue: JobQueue<AnalysisJob>;
  batches: BatchStore;
  alerts: AlertService;
  bus: EventBus<BusEvents>;
  log: Logger;
  clock: Clock;
}

/** The site's IANA timezone: configured, else the process's (TZ). */
export function siteTimeZone(config: Config): string {
  return config.site.timezone === '' ? Intl.DateTimeFormat().resolvedOptions().timeZone : config.site.timezone;
}

/** The site's location for the sun (night from dusk to dawn), or null (night is 22:00-05:59). */
export function siteLocation(config: Config): SiteLocation | null {
  const latitude = config.site.latitude ?? null;
  const longitude = config.site.longitude ?? null;
  if (latitude === null && longitude === null) return null;
  if (latitude === null || longitude === null) {
    throw new AppError(
      'CONFIG_INVALID',
      `site.latitude and site.longitude go together: set both (night from dusk to dawn) or neither (22:00-05:59); ` +
        `got latitude ${String(latitude)}, longitude ${String(longitude)}`,
    );
  }
  return { latitude, longitude };
}

export function createLlmClient(config: Config, log: Logger): LlmClient | undefined {
  const a = config.analysis;
  if (a.provider === 'rules') return undefined;
  if (a.url === '' || a.model === '') {
    throw new AppError('CONFIG_INVALID', 'analysis.provider is openai: set analysis.url and analysis.model too');
  }
  return new OpenAiLlmClient({ url: a.url, model: a.model, apiKey: a.api_key, timeoutMs: a.timeout_ms, log });
}

/** What the aggregator needs of a detection (from the bus or the database). */
const batchable = (d: AggregatedDetection): AggregatedDetection => ({
  id: d.id,
  cameraId: d.cameraId,
  objectType: d.objectType,
  confidence: d.confidence,
  mediaFileId: d.mediaFileId,
  frameIndex: d.frameIndex,
});

/**
 * A detection outside every event, open batch and pending analysis job for this long is an orphan: its process died
 * between committing it and batching it, or its job was lost with Redis. The sweep re-batches orphans; a detection
 * batched twice by a race is still linked once (the analysis stage links only unclaimed detections).
 */
const ORPHAN_GRACE_MS = 30_000;
const ORPHAN_SWEEP_MS = 15_000;

/**
 * The aggregator fed by `detection.created`, and the analysis worker. On embedded backends every detection not
 * yet in an event is re-batched at start (in-memory batches and jobs died with the process); with Redis the
 * batches and jobs survive, and the sweep re-batches only orphans.
 */
export async function startEventStage(
  config: Config,
  parts: EventStageParts,
  llm: LlmClient | undefined,
  options: { analyze: boolean },
  stack: StopStack,
) {
  const { db, queue, batches, alerts, bus, log, clock } = parts;
  const b = config.batching;
  const aggregator = new BatchAggregator({
    store: batches,
    queue,
    clock,
    log,
    config: {
      windowSeconds: b.window_seconds,
      idleSeconds: b.idle_seconds,
      maxDetections: b.max_detections,
      fastPathTypes: b.fast_path_types,
      fastPathConfidence: b.fast_path_confidence,
    },
  });
  let catchUp: (graceMs: number) => Promise<void> = async () => undefined;
  if (options.analyze) {
    const site = { timeZone: siteTimeZone(config), location: siteLocation(config) };
    const analysis = { db, bus, log, clock, alerts, llm, ...site };
    queue.process(createAnalysisHandler(analysis), { concurrency: config.analysis.concurrency });
    // The alert step of events whose process died between storing the analysis and evaluating its alerts.
    catchUp = async (graceMs) => {
      for (const event of await eventsWithAlertsDue(db, new Date(clock.now() - graceMs))) {
        log.info(
          { event_id: event.id, camera_id: event.cameraId },
          'evaluating the alerts of an event analysed before a restart',
        );
        await catchUpAlerts(analysis, event);
      }
    };
  }
  const off = bus.on('detection.created', async ({ detections }, meta) => {
    if (meta.remote) return; // batched by the process that detected it
    const arrived = clock.now();
    await aggregator.add(
      detections.map((d) => ({ ...batchable(d), capturedAt: saneCaptureTime(d.detectedAt.getTime(), arrived).at })),
    );
  });
  stack.push('aggregator', async () => {
    off();
    await aggregator.stop();
  });
  await aggregator.start();
  const recover = async (graceMs: number) => {
    const cutoff = clock.now() - graceMs;
    const queued = new Set((await queue.pending()).flatMap((job) => job.detectionIds));
    const settled = (d: { id: number; createdAt: Date }) => d.createdAt.getTime() <= cutoff && !queued.has(d.id);
    // An open visit's event holds the first detections of its batch: when the batch died (with the process, or
    // with Redis), they go back into the rebuilt batch with the orphans, so it gets the same id and the visit
    // still closes as one event. The aggregator skips those still in an open batch.
    const orphans = [...(await openEventDetections(db)), ...(await unlinkedDetections(db))].filter(settled);
    await aggregator.recover(
      orphans.map((d) => {
        const at = d.createdAt.getTime();
        return { ...batchable(d), at, capturedAt: saneCaptureTime(d.detectedAt.getTime(), at).at };
      }),
    );
  };
  // At start every orphan is re-batched at once (a detection another process is batching right now may end up in
  // two batches; only one of them links it).
  await recover(0);
  await catchUp(0);
  const timer = setInterval(() => {
    recover(ORPHAN_GRACE_MS).catch((error: unknown) => log.warn({ err: error }, 'orphan detection sweep failed'));
    catchUp(ORPHAN_GRACE_MS).catch((error: unknown) => log.warn({ err: error }, 'alert catch-up sweep failed'));
  }, ORPHAN_SWEEP_MS);
  timer.unref();
  stack.push('orphan sweep', async () => clearInterval(timer));
  return aggregator;
}
