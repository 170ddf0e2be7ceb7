import { lstat } from 'node:fs/promises';
import path from 'node:path';
import readExif from 'exif-reader';
import { cameraForPath } from '../domain/camera-id.js';
import { captureTimeOf, saneCaptureTime, type WallTime } from '../domain/capture-time.js';
import type { BusEvents } from '../domain/events.js';
import type { Clock } from '../lib/clock.js';
import type { EventBus } from '../lib/event-bus.js';
import type { Logger } from '../lib/logger.js';
import type { DetectionJob, JobQueue } from '../queue/contracts.js';
import { ensureCamera, touchCamera } from '../storage/camera.repository.js';
import type { Db } from '../storage/database.js';
import { addAlias, findMediaBySha, insertMediaFile, recordRejection } from '../storage/media-file.repository.js';
import { type InspectedMedia, inspectMediaFile } from './inspect-file.js';

export interface IngestLimits {
  maxFileBytes: number;
  maxPixels: number;
}

export interface IngestDeps {
  db: Db;
  queue: JobQueue<DetectionJob>;
  bus: EventBus<BusEvents>;
  log: Logger;
  clock: Clock;
  mediaRoot: string;
  limits: IngestLimits;
  /** The site's IANA timezone: a camera's wall-clock times (EXIF without offset, file names) are read in it. */
  timeZone: string;
}

export type IngestOutcome =
  | { kind: 'queued'; mediaFileId: number; cameraId: string }
  | { kind: 'duplicate'; duplicateOf: number; cameraId: string }
  /** The file is already stored under this very path (seen again: listed twice, touched, reconciled at start). */
  | { kind: 'known'; mediaFileId: number; cameraId: string }
  | { kind: 'rejected'; code: string; reason: string }
  | { kind: 'skipped'; code: string; reason: string };

const SKIP_CODES: ReadonlySet<string> = new Set(['TRANSIENT', 'MEDIA_GONE']);

export const detectionJobId = (mediaFileId: number): string => `media-${mediaFileId}`;

/**
 * Queues a detection job for a media file put back to `queued` (the API's dead-letter requeue): a job still held as
 * a dead letter is moved back with fresh attempts, anything else is added under the file's job id (`media-<id>`),
 * so a requeue never runs a file twice.
 */
export function detectionEnqueuer(
  queue: Pick<JobQueue<DetectionJob>, 'add' | 'requeue'>,
): (job: DetectionJob) => Promise<void> {
  return async (job) => {
    const jobId = detectionJobId(job.mediaFileId);
    if (!(await queue.requeue(jobId))) await queue.add(job, { jobId });
  };
}

/** Path relative to the media root with forward slashes: how files are named in the database. */
export function relativeMediaPath(mediaRoot: string, file: string): string {
  return path.relative(mediaRoot, file).split(path.sep).join('/');
}

/**
 * Turns one stable file into a `media_files` row and a detection job, or records why it was refused.
 * The row is written before the job is queued, so a crash in between is repaired by reconciliation.
 */
export class IngestService {
  /** Cameras known to exist (ids), so a busy camera's uploads skip the upsert. */
  private readonly knownCameras = new Set<string>();

  constructor(private readonly deps: IngestDeps) {}

  async ingest(file: string, stableAt = this.deps.clock.now()): Promise<IngestOutcome> {
    const { db, log, mediaRoot, limits } = this.deps;
    const relPath = relativeMediaPath(mediaRoot, file);
    const camera = cameraForPath(mediaRoot, file);
    const info = await inspectMediaFile(file, {
      mediaRoot,
      maxFileBytes: limits.maxFileBytes,
      maxPixels: limits.maxPixels,
    });
    if ('error' in camera) return this.reject(file, relPath, null, camera.code, camera.error);
    if (!info.ok && SKIP_CODES.has(info.code)) {
      // Still being written, or already gone: nothing to record; the watcher fires again once it is stable.
      log.debug({ path: relPath, code: info.code }, `file skipped: ${info.reason}`);
      return { kind: 'skipped', code: info.code, reason: info.reason };
    }
    if (!info.ok) return this.reject(file, relPath, camera.cameraId, info.code, info.reason);

    const cameraId = await this.ensureCamera(camera);
    const inserted = await insertMediaFile(db, {
      camera_id: cameraId,
      path: relPath,
      sha256: info.sha256,
      size: info.size,
      media_type: info.kind,
      width: info.width ?? null,
      height: info.height ?? null,
      captured_at: info.mtime,
      ...takenAt(info, relPath, this.deps.timeZone, this.deps.clock.now(), log),
      error_code: null,
      error: null,
      processed_at: null,
    });
    if (inserted === undefined) return this.sameContent(relPath, cameraId, info.sha256, info.size, info.mtime);
    // The camera's last_seen_at moves when the detection worker commits the file.
    await this.deps.queue.add(
      { mediaFileId: inserted.id, cameraId, path: relPath, queuedAt: stableAt },
      { jobId: detectionJobId(inserted.id) },
    );
    log.debug({ camera_id: cameraId, media_file_id: inserted.id, path: relPath }, 'queued for detection');
    this.deps.bus.emit('media.ingested', { mediaFileId: inserted.id, cameraId, path: relPath, mediaType: info.kind });
    return { kind: 'queued', mediaFileId: inserted.id, cameraId };
  }

  private async ensureCamera(camera: { cameraId: string; cameraName: string; folderPath: string }): Promise<string> {
    if (this.knownCameras.has(camera.cameraId)) return camera.cameraId;
    const { db, log, bus } = this.deps;
    const { camera: row, created } = await ensureCamera(db, {
      id: camera.cameraId,
      name: camera.cameraName,
      folderPath: camera.folderPath,
    });
    if (created) {
      log.info({ camera_id: row.id, folder: camera.folderPath }, 'new camera');
      bus.emit('camera.created', { cameraId: row.id, name: row.name, folderPath: row.folder_path });
    }
    this.knownCameras.add(row.id);
    return row.id;
  }

  /**
   * The content is stored already. Under another path it is a duplicate upload (an alias to the stored file); under
   * this path it is the same file seen again (a second listing, a touch that changed its mtime, reconciliation at
   * start), which is neither a duplicate nor a new upload: nothing is recorded.
   */
  private async sameContent(
    relPath: string,
    cameraId: string,
    sha256: string,
    size: number,
    mtime: Date,
  ): Promise<IngestOutcome> {
    const { db, log } = this.deps;
    const original = await findMediaBySha(db, sha256);
    if (original === undefined) throw new Error(`no media file with sha256 ${sha256}`);
    if (original.path === relPath) {
      log.debug({ camera_id: cameraId, media_file_id: original.id, path: relPath }, 'file already stored');
      return { kind: 'known', mediaFileId: original.id, cameraId };
    }
    await touchCamera(db, cameraId, mtime);
    await addAlias(db, relPath, original.id, size);
    log.info(
      { camera_id: cameraId, path: relPath, duplicate_of: original.id },
      'duplicate content, not processed again',
    );
    this.deps.bus.emit('media.duplicate', { cameraId, path: relPath, duplicateOf: original.id });
    return { kind: 'duplicate', duplicateOf: original.id, cameraId };
  }

  private async reject(
    file: string,
    relPath: string,
    cameraId: string | null,
    code: string,
    reason: string,
  ): Promise<IngestOutcome> {
    const { db, log, clock } = this.deps;
    log.warn({ camera_id: cameraId, path: relPath, code }, `file rejected: ${reason}`);
    // Remember the file by size and mtime so reconciliation does not inspect it again at every start.
    const stats = await lstat(file).catch(() => undefined);
    await recordRejection(db, {
      path: relPath,
      cameraId,
      size: stats?.size ?? 0,
      modifiedAt: stats?.mtime ?? new Date(clock.now()),
      code,
      reason,
    });
    this.deps.bus.emit('media.rejected', { mediaFileId: null, cameraId, path: relPath, code, reason });
    return { kind: 'rejected', code, reason };
  }
}

/**
 * When the camera took the upload (`captureTimeOf`: EXIF, its name, its file time), as the row stores it: judged
 * once, here, so every reader (detections, Home Assistant, identity) sees the same time. A time that is not believed
 * (in the future, before 2001: `saneCaptureTime`) is replaced by the arrival and stored as such. EXIF that cannot be
 * read, or whose date is not a real one, is logged and the next source used: a bad EXIF block never refuses an image.
 */
function takenAt(info: InspectedMedia, relPath: string, timeZone: string, arrived: number, log: Logger) {
  let exif: { dateTimeOriginal?: WallTime; offset?: string } | undefined;
  if (info.exif !== undefined) {
    try {
      const photo = readExif(info.exif).Photo;
      const original = photo?.DateTimeOriginal;
      const wall =
        original instanceof Date && Number.isFinite(original.getTime()) ? wallTimeOfUtcFields(original) : undefined;
      exif = {
        ...(wall !== undefined && stored(info.exif, wall) ? { dateTimeOriginal: wall } : {}),
        ...(typeof photo?.OffsetTimeOriginal === 'string' ? { offset: photo.OffsetTimeOriginal } : {}),
      };
    } catch (error) {
      log.debug({ path: relPath, err: error }, 'EXIF unreadable: the capture time comes from the name or file time');
    }
  }
  const taken = captureTimeOf({ exif, relPath, fileTime: info.mtime.getTime(), timeZone });
  const sane = saneCaptureTime(taken.at, arrived);
  return { taken_at: new Date(sane.at), taken_source: sane.clamped ? ('arrival' as const) : taken.source };
}

/**
 * Whether the EXIF block holds this wall time as written. exif-reader rolls impossible dates over (2023:02:30 is
 * read as March 2nd, 25:61 as the next day's 02:01), so a date it returns is believed only when its text is there.
 */
function stored(exif: Buffer, w: WallTime): boolean {
  const p = (n: number, width = 2) => String(n).padStart(width, '0');
  const text = `${p(w.year, 4)}:${p(w.month)}:${p(w.day)} ${p(w.hour)}:${p(w.minute)}:${p(w.second)}`;
  return exif.includes(Buffer.from(text, 'ascii'));
}

/** exif-reader gives a camera's wall time as a Date whose UTC fields are that wall time. */
function wallTimeOfUtcFields(d: Date): WallTime {
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
  };
}
