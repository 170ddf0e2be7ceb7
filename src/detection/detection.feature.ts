import path from 'node:path';
import { clipFrameExtractor } from '../adapters.js';
import { defineFeature, type Feature } from '../feature.js';
import type { Clock } from '../lib/clock.js';
import type { Db } from '../storage/database.js';
import { listZones, type StoredZone } from '../storage/zone.repository.js';
import { createDetectionHandler } from './detection.worker.js';
import { writeThumbnails } from './thumbnail.js';
import { ThumbnailBacklog } from './thumbnail-backlog.js';

/**
 * The detection stage: the configured detector (from the shared model runtime) on the detection queue, and the
 * backlog that writes thumbnails while it is idle.
 */
export function detectionFeature(): Feature {
  return defineFeature({
    name: 'detection',
    roles: ['detect'],
    async start(ctx, stop) {
      const { config, db, bus, log, clock } = ctx;
      const detector = await ctx.models.detector();
      ctx.running.detector = detector;
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
      ctx.queues.detection.process(
        async (job, jobCtx) => {
          activity.running += 1;
          activity.lastStart = clock.now();
          try {
            await handler(job, jobCtx);
          } finally {
            activity.running -= 1;
          }
        },
        { concurrency: config.detector.concurrency },
      );
      stop.push('thumbnail backlog', async () => backlog?.stop());
    },
  });
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
