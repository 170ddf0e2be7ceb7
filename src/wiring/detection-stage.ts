import path from 'node:path';
import type { Config } from '../config/schema.js';
import { extractClipFrames } from '../detection/clip-frames.js';
import { loadLabels } from '../detection/coco-labels.js';
import { createDetectionHandler } from '../detection/detection.worker.js';
import type { ObjectDetector } from '../detection/object-detector.js';
import { OnnxObjectDetector } from '../detection/onnx-detector.js';
import { ThreadedDetector } from '../detection/threaded-detector.js';
import { writeThumbnails } from '../detection/thumbnail.js';
import { ThumbnailBacklog } from '../detection/thumbnail-backlog.js';
import type { BusEvents } from '../domain/events.js';
import { IngestService } from '../ingest/ingest.service.js';
import { type ReconcileDeps, reconcile, requeuePending, retryFailedIngests } from '../ingest/reconcile.js';
import { MediaWatcher, type RootHealth } from '../ingest/watcher.js';
import type { Clock } from '../lib/clock.js';
import type { EventBus } from '../lib/event-bus.js';
import type { Logger } from '../lib/logger.js';
import type { DetectionJob, JobQueue } from '../queue/contracts.js';
import type { Db } from '../storage/database.js';
import { listZones, type StoredZone } from '../storage/zone.repository.js';
import type { StopStack } from './stop-stack.js';

export async function createDetector(config: Config, log: Logger): Promise<ObjectDetector> {
  const d = config.detector;
  const create = d.worker_thread ? ThreadedDetector.create : OnnxObjectDetector.create;
  return create({
    modelPath: d.model,
    modelType: d.model_type,
    device: d.device,
    labels: d.labels === '' ? undefined : await loadLabels(d.labels),
    // Decode a little below the lowest configured threshold; the class filter decides what is kept.
    scoreThreshold: Math.min(d.confidence, ...Object.values(d.class_confidence), 0.25),
    nmsIou: d.nms_iou,
    maxPixels: config.ingest.max_pixels,
    threads: d.threads === 0 ? undefined : d.threads,
    log,
  });
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

export interface DetectionStageParts {
  db: Db;
  detector: ObjectDetector;
  queue: JobQueue<DetectionJob>;
  bus: EventBus<BusEvents>;
  log: Logger;
  clock: Clock;
}

/**
 * The detection worker on the queue, and the backlog that writes thumbnails while it is idle. Returns what stops the
 * backlog.
 */
export function startDetectionWorker(config: Config, parts: DetectionStageParts): { stop(): Promise<void> } {
  const { db, detector, queue, bus, log, clock } = parts;
  const activity = { running: 0, lastStart: 0 };
  // Idle: no detection running and none started for a moment (the queue hands the next job over at once).
  const idle = () => activity.running === 0 && clock.now() - activity.lastStart > 300;
  const backlog = config.detector.thumbnails
    ? new ThumbnailBacklog({ db, log, clock, write: writeThumbnails, idle })
    : undefined;
  const handler = createDetectionHandler({
    db,
    detector,
    bus,
    log,
    clock,
    mediaRoot: config.media_root,
    filter: {
      classes: config.detector.classes,
      confidence: config.detector.confidence,
      perClass: config.detector.class_confidence,
    },
    thumbnailsDir: config.detector.thumbnails ? path.join(config.data_dir, 'thumbnails') : undefined,
    writeThumbnails,
    deferThumbnails: backlog === undefined ? undefined : (task) => backlog.add(task),
    extractFrames: clipFrameExtractor(config),
    zonesFor: cachedZones(db, clock),
    cameraSeen: lastSeenThrottle(clock),
  });
  queue.process(
    async (job, ctx) => {
      activity.running += 1;
      activity.lastStart = clock.now();
      try {
        await handler(job, ctx);
      } finally {
        activity.running -= 1;
      }
    },
    { concurrency: config.detector.concurrency },
  );
  return { stop: async () => backlog?.stop() };
}

/** last_seen_at is written at most every 10 s per camera (it drives a 1 h offline timeout): one write less per file. */
function lastSeenThrottle(clock: Clock, everyMs = 10_000) {
  const written = new Map<string, number>();
  return (cameraId: string, _at: Date): boolean => {
    const last = written.get(cameraId);
    if (last !== undefined && clock.now() - last < everyMs) return false;
    written.set(cameraId, clock.now());
    return true;
  };
}

/** A camera's zones, read at most every few seconds: zones change rarely, files arrive many per second. */
function cachedZones(db: Db, clock: Clock, ttlMs = 5000) {
  const cache = new Map<string, { at: number; zones: Promise<StoredZone[]> }>();
  return (cameraId: string): Promise<StoredZone[]> => {
    const hit = cache.get(cameraId);
    if (hit !== undefined && clock.now() - hit.at < ttlMs) return hit.zones;
    const zones = listZones(db, cameraId);
    cache.set(cameraId, { at: clock.now(), zones });
    zones.catch(() => cache.delete(cameraId));
    return zones;
  };
}

/** The watcher, start-up reconciliation and the periodic sweep: uploads become rows and detection jobs. */
export function startIngest(
  config: Config,
  parts: Omit<DetectionStageParts, 'detector'>,
  stack: StopStack,
): { ingest: IngestService; reconciled: Promise<void>; health: () => RootHealth } {
  const { db, queue, bus, log, clock } = parts;
  const ingest = new IngestService({
    db,
    queue,
    bus,
    log,
    clock,
    mediaRoot: config.media_root,
    limits: { maxFileBytes: config.ingest.max_file_mb * 1024 * 1024, maxPixels: config.ingest.max_pixels },
  });
  const watcher = new MediaWatcher({
    root: config.media_root,
    stableMs: config.ingest.stable_ms,
    polling: config.ingest.polling,
    pollIntervalMs: config.ingest.poll_interval_ms,
    log,
    clock,
  });
  // Files whose ingest threw (database or queue down): tried again by the pending sweep.
  const failed = new Set<string>();
  watcher.onReady((file) => {
    ingest.ingest(file).then(
      () => failed.delete(file),
      (error: unknown) => {
        failed.add(file);
        log.error({ err: error, file }, 'ingest failed; tried again at the next pending sweep');
      },
    );
  });
  stack.push('watcher', () => watcher.stop());
  const deps: ReconcileDeps = { db, queue, ingest, log, clock, mediaRoot: config.media_root };
  // Reconcile after the watcher is up, so nothing uploaded during the scan is missed (sha256 dedups the overlap).
  const reconciled = watcher.start().then(async () => {
    await reconcile(deps);
  });
  reconciled.catch((error: unknown) => log.error({ err: error }, 'start-up reconciliation failed'));
  // A media root that came back (or was replaced) may hold files written while nothing watched it.
  watcher.onRootChange((health) => {
    if (!health.ok) return;
    reconcile(deps).catch((error: unknown) => log.error({ err: error }, 'reconciliation of the media root failed'));
  });
  startPendingSweep(config.ingest.reconcile_interval_s * 1000, deps, failed, stack);
  return { ingest, reconciled: reconciled.catch(() => undefined), health: () => watcher.health() };
}

/**
 * Every `intervalMs`, rows left `queued`/`processing` for that long are queued again: this repairs jobs lost with
 * a Redis restart (Redis keeps the queue in memory). Files whose ingest failed (database down) are ingested
 * again. 0 turns the sweep off.
 */
function startPendingSweep(intervalMs: number, deps: ReconcileDeps, failed: Set<string>, stack: StopStack): void {
  if (intervalMs <= 0) return;
  const sweep = async () => {
    const requeued = await requeuePending(deps, intervalMs);
    if (requeued > 0) deps.log.info({ requeued }, 'requeued files left pending');
    if (failed.size === 0) return;
    const ingested = await retryFailedIngests(deps, failed);
    deps.log.info({ ingested, left: failed.size }, 'ingested again files whose ingest had failed');
  };
  const timer = setInterval(() => {
    sweep().catch((error: unknown) => deps.log.warn({ err: error }, 'pending sweep failed'));
  }, intervalMs);
  timer.unref();
  stack.push('pending sweep', async () => clearInterval(timer));
}
