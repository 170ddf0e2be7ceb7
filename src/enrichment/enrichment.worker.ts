import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import type { BusEvents, DetectionRecord } from '../domain/events.js';
import type { Clock } from '../lib/clock.js';
import { errorMessage, isPermanent, permanentError } from '../lib/errors.js';
import type { EventBus } from '../lib/event-bus.js';
import type { Logger } from '../lib/logger.js';
import type { EnrichmentJob, JobHandler } from '../queue/contracts.js';
import type { Db } from '../storage/database.js';
import { detectionRowToRecord } from '../storage/detection-record.js';
import {
  detectionsOfMedia,
  enrichmentRunsOf,
  recordEnrichmentRun,
  storeEnrichmentRun,
} from '../storage/enrichment.repository.js';
import { getMediaFile } from '../storage/media-file.repository.js';
import type { MediaFileRow } from '../storage/tables/media-file.table.js';
import type { DecodedFrame, EnrichmentOutcome, EnrichmentResult, FrameProcessor } from './contract.js';

export interface EnrichmentWorkerDeps {
  db: Db;
  bus: EventBus<BusEvents>;
  log: Logger;
  clock: Clock;
  mediaRoot: string;
  /** Loaded processors, in feature order. */
  processors: readonly FrameProcessor[];
  /**
   * Processors that did not load (a model missing): each file records them `failed` with this reason, so nothing
   * waits for them (the orphan sweep, a replay) and the run table says why they did not run.
   */
  unavailable?: readonly { name: string; error: string }[];
  /** Frames sampled from a clip, as detection sampled them (same settings: the same frame indices). */
  extractFrames: (file: string) => Promise<Buffer[]>;
}

/**
 * The enrichment stage: for a detected file, decodes each frame that has detections once, runs every processor that
 * has not run on the file yet on it, and stores each processor's results with its `enrichment_runs` row in one
 * transaction per processor. A processor that throws on a frame fails that frame only (`partial`) or all of them
 * (`failed`); the others are unaffected. Then `detection.enriched` carries the file's detections on to the
 * aggregator. A replayed job skips the processors already recorded and announces nothing twice. A file that cannot
 * be read any more (deleted by retention, replaced) ends every processor `failed` with the reason: the detections
 * still go on to the events.
 */
export function createEnrichmentHandler(deps: EnrichmentWorkerDeps): JobHandler<EnrichmentJob> {
  return async (job) => {
    const log = deps.log.child({ camera_id: job.cameraId, media_file_id: job.mediaFileId });
    const media = await getMediaFile(deps.db, job.mediaFileId);
    if (media === undefined) return; // removed since (retention): nothing to enrich, nothing to announce
    const detections = (await detectionsOfMedia(deps.db, media.id)).map(detectionRowToRecord);
    if (detections.length === 0) return;
    const done = new Set((await enrichmentRunsOf(deps.db, media.id)).map((r) => r.processor));
    const todo = deps.processors.filter((p) => !done.has(p.name));
    const missing = (deps.unavailable ?? []).filter((u) => !done.has(u.name));
    if (todo.length === 0 && missing.length === 0) return; // a replay: the first run announced it
    const outcomes = [
      ...(todo.length === 0 ? [] : await enrich(deps, media, detections, todo, log)),
      ...(await recordUnavailable(deps, media.id, missing)),
    ];
    deps.bus.emit('detection.enriched', {
      cameraId: media.camera_id,
      mediaFileId: media.id,
      detections,
      outcomes: outcomes.map(({ processor, status }) => ({ processor, status })),
    });
  };
}

async function enrich(
  deps: EnrichmentWorkerDeps,
  media: MediaFileRow,
  detections: readonly DetectionRecord[],
  processors: readonly FrameProcessor[],
  log: Logger,
): Promise<EnrichmentOutcome[]> {
  let frames: DecodedFrame[];
  try {
    frames = await decodeFrames(deps, media, framesNeeded(detections, processors));
  } catch (error) {
    // A passing failure (a busy disk, ffmpeg timing out under load) is the queue's to retry; only a file that is
    // gone or unreadable for good ends every processor `failed`.
    if (!isPermanent(error) && !isGone(error)) throw error;
    const reason = errorMessage(error);
    log.warn({ err: error }, 'enrichment skipped: the file cannot be decoded again');
    const failed = processors.map((p) => ({
      processor: p.name,
      status: 'failed' as const,
      error: reason,
      results: 0,
      ms: 0,
    }));
    for (const outcome of failed) await store(deps, media.id, outcome, [], undefined);
    return failed;
  }
  const outcomes: EnrichmentOutcome[] = [];
  for (const processor of processors) {
    const { outcome, results } = await runProcessor(processor, frames, detections);
    if (outcome.error !== null) log.warn({ processor: processor.name, status: outcome.status }, outcome.error);
    outcomes.push(await store(deps, media.id, outcome, results, processor));
  }
  return outcomes;
}

/** The processors that did not load, recorded `failed` on the file with the reason. */
async function recordUnavailable(
  deps: EnrichmentWorkerDeps,
  mediaFileId: number,
  missing: readonly { name: string; error: string }[],
): Promise<EnrichmentOutcome[]> {
  const outcomes: EnrichmentOutcome[] = [];
  for (const { name, error } of missing) {
    const outcome = {
      processor: name,
      status: 'failed' as const,
      error: `${name} did not load: ${error}`,
      results: 0,
      ms: 0,
    };
    outcomes.push(await store(deps, mediaFileId, outcome, [], undefined));
  }
  return outcomes;
}

/** One processor over every frame; a frame that throws is that frame's failure. */
async function runProcessor(
  processor: FrameProcessor,
  frames: readonly DecodedFrame[],
  detections: readonly DetectionRecord[],
): Promise<{ outcome: EnrichmentOutcome; results: EnrichmentResult[] }> {
  const started = performance.now();
  const results: EnrichmentResult[] = [];
  let attempted = 0;
  let failures = 0;
  let firstError: string | null = null;
  for (const frame of frames) {
    const own = detections.filter(
      (d) =>
        d.frameIndex === frame.frameIndex &&
        (processor.appliesTo === 'frame' || processor.appliesTo.includes(d.objectType)),
    );
    if (processor.appliesTo !== 'frame' && own.length === 0) continue;
    attempted += 1;
    try {
      results.push(...(await processor.process(frame, own)));
    } catch (error) {
      failures += 1;
      firstError ??= `${processor.name}: ${errorMessage(error)}`;
    }
  }
  const status = failures === 0 ? 'success' : failures >= attempted ? 'failed' : 'partial';
  const ms = Math.round(performance.now() - started);
  return { outcome: { processor: processor.name, status, error: firstError, results: results.length, ms }, results };
}

/** A processor's results and its run row, in one transaction; a failing `persist` makes the run `failed`. */
async function store(
  deps: EnrichmentWorkerDeps,
  mediaFileId: number,
  outcome: EnrichmentOutcome,
  results: readonly EnrichmentResult[],
  processor: FrameProcessor | undefined,
): Promise<EnrichmentOutcome> {
  const row = (o: EnrichmentOutcome) => ({
    media_file_id: mediaFileId,
    processor: o.processor,
    status: o.status,
    error: o.error,
    results: o.results,
    duration_ms: o.ms,
  });
  try {
    await storeEnrichmentRun(deps.db, row(outcome), async (tx) => {
      if (processor !== undefined && results.length > 0) await processor.persist(tx, mediaFileId, results);
    });
    return outcome;
  } catch (error) {
    const failed = { ...outcome, status: 'failed' as const, error: `${outcome.processor}: ${errorMessage(error)}` };
    deps.log.warn({ err: error, processor: outcome.processor }, 'enrichment results not stored');
    // The run row alone: if this fails too the database is down, and the job's retry carries the file.
    await recordEnrichmentRun(deps.db, row(failed));
    return failed;
  }
}

/** The frames some processor will look at: every frame with a detection of a type one of them applies to. */
function framesNeeded(detections: readonly DetectionRecord[], processors: readonly FrameProcessor[]): Set<number> {
  const wanted = detections.filter((d) =>
    processors.some((p) => p.appliesTo === 'frame' || p.appliesTo.includes(d.objectType)),
  );
  return new Set(wanted.map((d) => d.frameIndex ?? 0));
}

/** A file removed or replaced since detection: it will not come back, so retrying is pointless. */
const isGone = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

/** The `wanted` frames decoded once to RGB: the photo, or those of the clip's sampled frames. */
async function decodeFrames(
  deps: EnrichmentWorkerDeps,
  media: MediaFileRow,
  wanted: ReadonlySet<number>,
): Promise<DecodedFrame[]> {
  if (wanted.size === 0) return [];
  const file = path.join(deps.mediaRoot, media.path);
  if (media.media_type === 'image') return [await decode(await readFile(file), null)];
  const images = await deps.extractFrames(file);
  const frames: DecodedFrame[] = [];
  for (const [index, image] of images.entries()) {
    if (wanted.has(index)) frames.push(await decode(image, index));
  }
  if (frames.length === 0)
    throw permanentError('MEDIA_CORRUPT', `${media.path}: none of the detected frames could be sampled again`);
  return frames;
}

async function decode(image: Buffer, frameIndex: number | null): Promise<DecodedFrame> {
  const { data, info } = await sharp(image).rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { frameIndex, width: info.width, height: info.height, data };
}
