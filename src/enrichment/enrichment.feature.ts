import { clipFrameExtractor } from '../adapters.js';
import { defineFeature, type Feature, type FeatureContext } from '../feature.js';
import { errorMessage } from '../lib/errors.js';
import type { StopStack } from '../lib/stop-stack.js';
import { enrichmentJobId } from '../queue/contracts.js';
import { mediaAwaitingEnrichment } from '../storage/enrichment.repository.js';
import type { FrameProcessor } from './contract.js';
import { createEnrichmentHandler } from './enrichment.worker.js';

/** A file detected this long ago without its runs has lost its job (queued jobs keep their id: re-adding is a no-op). */
const SWEEP_GRACE_MS = 60_000;

/**
 * The enrichment stage: runs every enabled feature's frame processors on each detected file, between detection
 * and the events. In the detecting process it queues a job per file with detections; in the `enrich` process it
 * loads the processors through the shared model runtime, works the queue, and queues again the files whose job
 * was lost. With no processor enabled it starts nothing, and the aggregator batches straight from detection.
 */
export function enrichmentFeature(): Feature {
  return defineFeature({
    name: 'enrichment',
    roles: ['detect', 'enrich'],
    async start(ctx, stop) {
      const processors = ctx.contributions.frameProcessors;
      if (processors.length === 0) return;
      if (ctx.roles.has('detect')) queueDetectedFiles(ctx, stop);
      if (ctx.roles.has('enrich')) await startWorker(ctx, processors, stop);
    },
  });
}

/** Each file the detector of this process committed detections for becomes an enrichment job. */
function queueDetectedFiles(ctx: FeatureContext, stop: StopStack): void {
  const off = ctx.bus.on('detection.created', async ({ cameraId, mediaFileId }, meta) => {
    if (meta.remote) return; // queued by the process that detected it
    const job = { mediaFileId, cameraId, queuedAt: ctx.clock.now() };
    await ctx.queues.enrichment.add(job, { jobId: enrichmentJobId(mediaFileId) });
  });
  stop.push('enrichment dispatch', async () => off());
}

async function startWorker(ctx: FeatureContext, processors: readonly FrameProcessor[], stop: StopStack) {
  const log = ctx.log.child({ component: 'enrichment' });
  const loaded: FrameProcessor[] = [];
  const unavailable: { name: string; error: string }[] = [];
  for (const processor of processors) {
    try {
      await processor.load(ctx.models);
    } catch (error) {
      unavailable.push({ name: processor.name, error: errorMessage(error) });
      // A processor that cannot start (a model file missing or wrong) is left out, loudly; detection, the other
      // processors and the events go on without it.
      log.error(
        { err: error, processor: processor.name },
        `frame processor ${processor.name} did not start and is left out: ${errorMessage(error)}`,
      );
      await processor.close().catch(() => undefined);
      continue;
    }
    loaded.push(processor);
    stop.push(`processor ${processor.name}`, () => processor.close());
  }
  const handler = createEnrichmentHandler({
    db: ctx.db,
    bus: ctx.bus,
    log,
    clock: ctx.clock,
    mediaRoot: ctx.config.media_root,
    processors: loaded,
    unavailable,
    extractFrames: clipFrameExtractor(ctx.config),
  });
  ctx.queues.enrichment.process(handler, { concurrency: 1 });
  // Stopped before the processors close (unwound first), so no job runs on a closed processor.
  stop.push('enrichment worker', () => ctx.queues.enrichment.close());
  // Every processor, loaded or not: a file lacking the run of one that did not load gets it (recorded failed).
  const names = processors.map((p) => p.name);
  const sweep = async () => {
    const now = ctx.clock.now();
    const lost = await mediaAwaitingEnrichment(ctx.db, names, now, SWEEP_GRACE_MS);
    for (const m of lost) {
      await ctx.queues.enrichment.add(
        { mediaFileId: m.id, cameraId: m.cameraId, queuedAt: now },
        { jobId: enrichmentJobId(m.id) },
      );
    }
    if (lost.length > 0) log.info({ requeued: lost.length }, 'queued again files whose enrichment job was lost');
  };
  const intervalMs = ctx.config.ingest.reconcile_interval_s * 1000;
  if (intervalMs > 0) {
    const timer = setInterval(() => {
      sweep().catch((error: unknown) => log.warn({ err: error }, 'enrichment sweep failed'));
    }, intervalMs);
    timer.unref();
    stop.push('enrichment sweep', async () => clearInterval(timer));
  }
  log.info({ processors: loaded.map((p) => p.name), unavailable: unavailable.map((u) => u.name) }, 'enrichment ready');
}
