import { batchStoreFor } from '../adapters.js';
import { saneCaptureTime } from '../domain/capture-time.js';
import { defineFeature, type Feature, type FeatureContext } from '../feature.js';
import type { StopStack } from '../lib/stop-stack.js';
import { mediaAwaitingEnrichment } from '../storage/enrichment.repository.js';
import { openEventDetections, unlinkedDetections } from '../storage/event.repository.js';
import { type AggregatedDetection, BatchAggregator } from './batch-aggregator.js';

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
 * The aggregation stage: detections are grouped per camera into visits (batches) and handed to the analysis queue.
 * Fed by `detection.created`, or by `detection.enriched` when a frame processor is enabled (the batch then holds
 * what the processors found). On embedded backends every detection not yet in an event is re-batched at start
 * (in-memory batches and jobs died with the process); with Redis the batches and jobs survive, and the sweep
 * re-batches only orphans.
 */
export function aggregationFeature(): Feature {
  return defineFeature({
    name: 'aggregation',
    roles: ['detect', 'enrich', 'analyze'],
    async start(ctx, stop) {
      ctx.running.aggregator = await startAggregator(ctx, stop);
    },
  });
}

async function startAggregator(ctx: FeatureContext, stack: StopStack): Promise<BatchAggregator> {
  const { config, db, bus, log, clock } = ctx;
  const queue = ctx.queues.analysis;
  const batches = batchStoreFor(config, log);
  stack.push('batch store', () => batches.close());
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
  // With a frame processor enabled, detections reach the batch once enriched; by then they hold its results.
  const processors = ctx.contributions.frameProcessors.map((p) => p.name);
  const source = processors.length > 0 ? 'detection.enriched' : 'detection.created';
  // A camera whose clock is not believed (the future, before 2001) is named in the log, once an hour per camera.
  const clockWarned = new Map<string, number>();
  const judgedAt = (d: { cameraId: string; detectedAt: Date }, arrived: number) => {
    const sane = saneCaptureTime(d.detectedAt.getTime(), arrived);
    if (sane.clamped && arrived - (clockWarned.get(d.cameraId) ?? Number.NEGATIVE_INFINITY) >= 3_600_000) {
      clockWarned.set(d.cameraId, arrived);
      ctx.log.warn(
        { camera_id: d.cameraId, captured_at: d.detectedAt.toISOString() },
        "the camera's capture time is not believed (in the future or before 2001): judged at arrival; set its clock",
      );
    }
    return sane.at;
  };
  const off = bus.on(source, async ({ detections }, meta) => {
    if (meta.remote) return; // batched by the process that detected (or enriched) it
    const arrived = clock.now();
    await aggregator.add(detections.map((d) => ({ ...batchable(d), capturedAt: judgedAt(d, arrived) })));
  });
  stack.push('aggregator', async () => {
    off();
    await aggregator.stop();
  });
  await aggregator.start();
  const recover = async (graceMs: number) => {
    const cutoff = clock.now() - graceMs;
    const queued = new Set((await queue.pending()).flatMap((job) => job.detectionIds));
    // A file still waiting for its enrichment (no run yet of some processor, detected within the enrichment
    // window) is not an orphan: its detections come with `detection.enriched`, also after a restart.
    const enriching = new Set((await mediaAwaitingEnrichment(db, processors, clock.now(), 0, 10_000)).map((m) => m.id));
    const settled = (d: { id: number; mediaFileId: number; createdAt: Date }) =>
      d.createdAt.getTime() <= cutoff && !queued.has(d.id) && !enriching.has(d.mediaFileId);
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
  const timer = setInterval(() => {
    recover(ORPHAN_GRACE_MS).catch((error: unknown) => log.warn({ err: error }, 'orphan detection sweep failed'));
  }, ORPHAN_SWEEP_MS);
  timer.unref();
  stack.push('orphan sweep', async () => clearInterval(timer));
  return aggregator;
}
