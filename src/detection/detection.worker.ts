import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type ClassFilter, filterDetections, type RawDetection } from '../domain/detection.js';
import type { BusEvents } from '../domain/events.js';
import { type Zone, zonesHit } from '../domain/zones.js';
import type { Clock } from '../lib/clock.js';
import { AppError, errorMessage, isPermanent, permanentError } from '../lib/errors.js';
import type { EventBus } from '../lib/event-bus.js';
import type { Logger } from '../lib/logger.js';
import type { DetectionJob, JobContext, JobHandler } from '../queue/contracts.js';
import { touchCamera } from '../storage/camera.repository.js';
import type { Db } from '../storage/database.js';
import { replaceDetections } from '../storage/detection.repository.js';
import { detectionRowToRecord } from '../storage/detection-record.js';
import { claimForProcessing, markDoneIfPending, markError } from '../storage/media-file.repository.js';
import type { DetectionRow, NewDetection } from '../storage/tables/detection.table.js';
import type { MediaFileRow } from '../storage/tables/media-file.table.js';
import type { ObjectDetector } from './object-detector.js';
import type { ThumbnailTask } from './thumbnail-backlog.js';

export interface DetectionWorkerDeps {
  db: Db;
  detector: ObjectDetector;
  bus: EventBus<BusEvents>;
  log: Logger;
  clock: Clock;
  mediaRoot: string;
  filter: ClassFilter;
  /** Where per-detection crops go; undefined disables thumbnails. */
  thumbnailsDir: string | undefined;
  writeThumbnails: (image: Buffer, boxes: RawDetection[], dir: string, baseName: string) => Promise<string[]>;
  /**
   * When set, the crops of a still image are written after its detections are committed (a ThumbnailBacklog, when
   * the detector is idle) instead of before; clips keep writing theirs inline (their frames exist only in memory).
   */
  deferThumbnails?: (task: ThumbnailTask) => void;
  extractFrames: (file: string) => Promise<Buffer[]>;
  /** True when the camera's last_seen_at should be written now (the wiring throttles it per camera). */
  cameraSeen: (cameraId: string, at: Date) => boolean;
  /** The camera's zones: each detection records the ids of the zones its box's bottom-centre is in. */
  zonesFor: (cameraId: string) => Promise<readonly Zone[]>;
}

interface FrameResult {
  frameIndex: number | null;
  image: Buffer;
  width: number;
  height: number;
  kept: RawDetection[];
  timings: { preprocessMs: number; inferenceMs: number; postprocessMs: number };
}

/**
 * The detection stage: reads the file a job points at, runs the detector, and commits every detection of the file
 * with the file's `done` status in one transaction. Bad input ends the file `rejected` (no retry); anything else is
 * rethrown for the queue to retry, and the last failed attempt ends the file `failed` (a dead letter).
 */
export function createDetectionHandler(deps: DetectionWorkerDeps): JobHandler<DetectionJob> {
  return async (job, ctx) => {
    const log = deps.log.child({ camera_id: job.cameraId, media_file_id: job.mediaFileId });
    const claimed = await claimForProcessing(deps.db, job.mediaFileId);
    if (claimed === undefined) return; // gone, or already done/rejected: a replayed job
    const { detection_enabled: detectionEnabled, ...row } = claimed;
    try {
      await processFile(deps, job, row, detectionEnabled !== false, log);
    } catch (error) {
      await handleFailure(deps, row, ctx, error, log);
    }
  };
}

async function processFile(
  deps: DetectionWorkerDeps,
  job: DetectionJob,
  row: MediaFileRow,
  detectionEnabled: boolean,
  log: Logger,
) {
  // Detection switched off for the camera: the upload is still recorded, done with no detections.
  const frames = detectionEnabled ? await detectFrames(deps, row) : [];
  const records = frames.flatMap((frame) => frame.kept.map((d) => ({ frame, d })));
  const defer = deps.deferThumbnails !== undefined && row.media_type !== 'video';
  const thumbnails = defer ? [] : await thumbnailsFor(deps, row, frames, log);
  const zones = records.length === 0 ? [] : await deps.zonesFor(row.camera_id);
  const now = new Date(deps.clock.now());
  const values: NewDetection[] = records.map(({ frame, d }, i) => ({
    camera_id: row.camera_id,
    media_file_id: row.id,
    file_path: row.path,
    file_type: path.extname(row.path).slice(1).toLowerCase() || null,
    // When the camera took it (EXIF, its name, else the file time): visits, night and schedules follow from it.
    detected_at: row.taken_at ?? row.captured_at,
    object_type: d.label,
    confidence: d.confidence,
    bbox_x: Math.round(d.box.x),
    bbox_y: Math.round(d.box.y),
    bbox_width: Math.round(d.box.width),
    bbox_height: Math.round(d.box.height),
    thumbnail_path: thumbnails[i] ?? null,
    media_type: row.media_type,
    frame_index: frame.frameIndex,
    duration: null,
    video_codec: null,
    video_width: row.media_type === 'video' ? (row.width ?? null) : null,
    video_height: row.media_type === 'video' ? (row.height ?? null) : null,
    zone_ids: zonesHit(d.box, frame.width, frame.height, zones).map((z) => z.id),
    enrichment_data: null,
  }));
  const inserted = await deps.db.transaction().execute(async (tx) => {
    // Marking the row done first takes its row lock: a second run of the same file waits here, then finds it done.
    if (!(await markDoneIfPending(tx, row.id, values.length, now))) return undefined;
    const detections = await replaceDetections(tx, row.id, values);
    // Last seen is when the upload arrived (now), never the camera's own clock: a camera set to 2099 would stay
    // online for ever, one counting from 1970 offline.
    if (deps.cameraSeen(row.camera_id, now)) await touchCamera(tx, row.camera_id, now);
    return detections;
  });
  if (inserted === undefined) return;
  announce(deps, job, row, frames, inserted);
  if (defer && deps.thumbnailsDir !== undefined && inserted.length > 0) {
    deps.deferThumbnails?.({
      cameraId: row.camera_id,
      file: path.join(deps.mediaRoot, row.path),
      dir: path.join(deps.thumbnailsDir, row.camera_id),
      // The first detection id makes the names unique to this run of the file (a reprocess gets new ones).
      baseName: `${row.id}_${inserted[0]?.id}`,
      detections: inserted.map((d) => ({
        id: d.id,
        box: { x: d.bbox_x, y: d.bbox_y, width: d.bbox_width, height: d.bbox_height },
      })),
    });
  }
  // The line a user watches (info): each processed file with what was found in it, or why nothing was.
  const objects: Record<string, number> = {};
  for (const d of inserted) objects[d.object_type] = (objects[d.object_type] ?? 0) + 1;
  const found = Object.entries(objects).map(([label, n]) => `${n} ${label}`);
  const summary = !detectionEnabled ? 'detection off for this camera' : found.join(', ') || 'no targets';
  log.info({ path: row.path, detections: inserted.length, objects, summary }, 'file processed');
}

async function detectFrames(deps: DetectionWorkerDeps, row: MediaFileRow): Promise<FrameResult[]> {
  const file = path.join(deps.mediaRoot, row.path);
  if (row.media_type === 'video') {
    const frames = await deps.extractFrames(file);
    const results: FrameResult[] = [];
    for (const [i, image] of frames.entries()) results.push(await detectOne(deps, image, i));
    return results;
  }
  const image = await readFile(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw permanentError('MEDIA_GONE', `${row.path} was deleted before detection`);
    throw new AppError('MEDIA_UNREADABLE', `cannot read ${row.path}: ${error.message}`, { cause: error });
  });
  // A camera may overwrite a file under the same name: the new bytes are a new row, not this one.
  if (createHash('sha256').update(image).digest('hex') !== row.sha256) {
    throw permanentError(
      'MEDIA_GONE',
      `${row.path} changed after it was queued; the new content is ingested separately`,
    );
  }
  return [await detectOne(deps, image, null)];
}

async function detectOne(deps: DetectionWorkerDeps, image: Buffer, frameIndex: number | null): Promise<FrameResult> {
  const result = await deps.detector.detect(image);
  return {
    frameIndex,
    image,
    width: result.width,
    height: result.height,
    kept: filterDetections(result.detections, deps.filter),
    timings: result.timings,
  };
}

async function thumbnailsFor(deps: DetectionWorkerDeps, row: MediaFileRow, frames: FrameResult[], log: Logger) {
  const dir = deps.thumbnailsDir;
  if (dir === undefined) return [];
  const paths: string[] = [];
  try {
    for (const frame of frames) {
      if (frame.kept.length === 0) continue;
      const base = frame.frameIndex === null ? `${row.id}` : `${row.id}_f${frame.frameIndex}`;
      paths.push(...(await deps.writeThumbnails(frame.image, frame.kept, path.join(dir, row.camera_id), base)));
    }
    return paths;
  } catch (error) {
    // Crops are a convenience: the detections still count without them.
    log.warn({ err: error }, 'thumbnails not written');
    return [];
  }
}

function announce(
  deps: DetectionWorkerDeps,
  job: DetectionJob,
  row: MediaFileRow,
  frames: FrameResult[],
  inserted: DetectionRow[],
) {
  const sum = (key: keyof FrameResult['timings']) => frames.reduce((acc, f) => acc + f.timings[key], 0);
  const timings = {
    preprocessMs: sum('preprocessMs'),
    inferenceMs: sum('inferenceMs'),
    postprocessMs: sum('postprocessMs'),
  };
  if (inserted.length > 0) {
    deps.bus.emit('detection.created', {
      cameraId: row.camera_id,
      mediaFileId: row.id,
      detections: inserted.map(detectionRowToRecord),
      media: { path: row.path, sha256: row.sha256, size: Number(row.size) },
    });
  }
  deps.bus.emit('media.processed', {
    mediaFileId: row.id,
    cameraId: row.camera_id,
    path: row.path,
    detectionCount: inserted.length,
    latencyMs: deps.clock.now() - job.queuedAt,
    timings,
  });
}

async function handleFailure(
  deps: DetectionWorkerDeps,
  row: MediaFileRow,
  ctx: JobContext,
  error: unknown,
  log: Logger,
) {
  const now = new Date(deps.clock.now());
  const code = error instanceof AppError ? error.code : 'TRANSIENT';
  const reason = errorMessage(error);
  if (isPermanent(error)) {
    log.warn({ code }, `file rejected: ${reason}`);
    await markError(deps.db, row.id, 'rejected', code, reason, now);
    deps.bus.emit('media.rejected', { mediaFileId: row.id, cameraId: row.camera_id, path: row.path, code, reason });
    return;
  }
  const last = ctx.attempt >= ctx.maxAttempts;
  log.warn(
    { err: error, attempt: ctx.attempt, of: ctx.maxAttempts },
    last ? 'detection failed for good' : 'detection failed, will retry',
  );
  // Best effort: when the database itself is down this write fails too, and the queue's retry carries the job.
  await markError(deps.db, row.id, last ? 'failed' : 'queued', code, reason, now).catch(() => undefined);
  if (last) deps.bus.emit('media.failed', { mediaFileId: row.id, cameraId: row.camera_id, path: row.path, reason });
  throw error;
}
