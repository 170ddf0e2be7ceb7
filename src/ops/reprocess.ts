import { randomUUID } from 'node:crypto';
import { lstat, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Clock } from '../lib/clock.js';
import { AppError, errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { getCamera } from '../storage/camera.repository.js';
import type { Db, DbOrTx } from '../storage/database.js';
import { findUnfinishedJob, startJob, updateJob } from '../storage/job.repository.js';
import { listScope, type MediaScope, resetMediaForReprocess, scopeSize } from '../storage/reprocess.repository.js';
import type { MediaFileRow } from '../storage/tables/media-file.table.js';
import { isInside, removeThumbnail } from './remove-file.js';

/**
 * `hsi reprocess <folder|camera>`: runs detection again on stored media (after a model or threshold change). For
 * every finished media file (`done|failed|rejected`) of the camera, or under the folder, whose file is still on
 * disk: its detections and their thumbnails are deleted, the row goes back to `queued` with 0 attempts, and its
 * detection job is queued through `enqueue`. Rows already `queued|processing` are skipped (the current detector is
 * about to run them anyway); rows whose file is gone are left as they are (their detections are all that is left).
 *
 * Events: reprocessing replaces the events it supersedes. A deleted detection leaves the event it belonged to; an
 * event left with no detection (every one came from reprocessed files) is superseded: it is soft-deleted (lists,
 * search and "recent activity" no longer see it; its alerts, feedback and notes stay in the database) and the new
 * detections form new batches and so new events. An event that keeps detections of files not reprocessed stays, with
 * `detection_count` set to the links it still has.
 *
 * Resumable: the run is a `jobs` row (`job_type` 'reprocess', `result` = its cursor and counters, written in the
 * transaction that resets each row and queues its job). Running the same target again while that row is `running`
 * or `failed` (interrupted) continues after the last row it requeued, up to the highest id that existed when it
 * started; with no unfinished run for the target, a new run starts.
 */

export const REPROCESS_JOB_TYPE = 'reprocess';

export type ReprocessTarget = MediaScope;

export interface ReprocessDeps {
  db: Db;
  mediaRoot: string;
  /** Where thumbnails live (`<dataDir>/thumbnails`): the deleted detections' crops are removed. */
  dataDir: string;
  log: Logger;
  clock: Clock;
  /** Queues the detection job of a row just set back to `queued`. */
  enqueue: (row: MediaFileRow) => Promise<void>;
  onProgress?: (done: number, total: number) => void;
}

interface ReprocessState {
  [key: string]: unknown;
  target: string;
  maxId: number;
  lastId: number;
  total: number;
  done: number;
  requeued: number;
  skipped: number;
  missing: number;
  detections: number;
  /** Events superseded (soft-deleted); absent in runs started before it was counted. */
  eventsReplaced?: number;
}

export interface ReprocessReport {
  jobId: string;
  /** `camera:<id>` or `folder:<path below the media root>` ('' = all of it). */
  target: string;
  resumed: boolean;
  total: number;
  requeued: number;
  skipped: number;
  missing: number;
  /** Detections deleted. */
  detections: number;
  /** Events left with no detection, soft-deleted: the new detections make their new events. */
  eventsReplaced: number;
}

/** A camera id first, else a folder (absolute, relative to the working directory, or to the media root). */
export async function resolveReprocessTarget(db: DbOrTx, mediaRoot: string, target: string): Promise<ReprocessTarget> {
  if (target.trim() === '') throw new AppError('INVALID_INPUT', 'name a camera id or a folder under the media root');
  const camera = await getCamera(db, target);
  if (camera !== undefined) return { kind: 'camera', cameraId: camera.id };
  const root = path.resolve(mediaRoot);
  for (const candidate of [path.resolve(target), path.resolve(root, target)]) {
    const stats = await stat(candidate).catch(() => undefined);
    if (stats?.isDirectory() !== true) continue;
    if (candidate === root) return { kind: 'folder', prefix: '' };
    if (isInside(root, candidate)) {
      return { kind: 'folder', prefix: path.relative(root, candidate).split(path.sep).join('/') };
    }
  }
  throw new AppError(
    'NOT_FOUND',
    `"${target}" is neither a camera id nor a folder under the media root ${root}; see \`hsi status\` for cameras`,
  );
}

const targetKey = (t: ReprocessTarget) => (t.kind === 'camera' ? `camera:${t.cameraId}` : `folder:${t.prefix}`);

async function openState(deps: ReprocessDeps, target: ReprocessTarget): Promise<{ id: string; state: ReprocessState }> {
  const key = targetKey(target);
  const unfinished = await findUnfinishedJob(deps.db, REPROCESS_JOB_TYPE, key);
  if (unfinished !== undefined) {
    await updateJob(deps.db, unfinished.id, { status: 'running', error: null });
    return { id: unfinished.id, state: unfinished.result as ReprocessState };
  }
  const scope = await scopeSize(deps.db, target);
  const state: ReprocessState = {
    ...{ target: key, maxId: scope.maxId, lastId: 0, total: scope.count, done: 0 },
    ...{ requeued: 0, skipped: 0, missing: 0, detections: 0, eventsReplaced: 0 },
  };
  const id = `reprocess-${randomUUID()}`;
  await startJob(deps.db, { id, jobType: REPROCESS_JOB_TYPE, startedAt: new Date(deps.clock.now()), result: state });
  return { id, state };
}

/** One media row: requeued, skipped (busy) or missing (file gone). Advances the job's cursor past it. */
async function reprocessRow(deps: ReprocessDeps, jobId: string, state: ReprocessState, row: MediaFileRow) {
  const present = await lstat(path.join(deps.mediaRoot, row.path)).then(
    () => true,
    () => false,
  );
  const cursor = { lastId: row.id, done: state.done + 1 };
  const progress = (s: ReprocessState) => (s.total === 0 ? 100 : (100 * s.done) / s.total);
  if (!present || row.status === 'queued' || row.status === 'processing') {
    Object.assign(state, cursor, present ? { skipped: state.skipped + 1 } : { missing: state.missing + 1 });
    await updateJob(deps.db, jobId, { progress: progress(state), result: state });
    return;
  }
  // The job is queued inside the transaction: if queueing fails nothing changed and a resumed run redoes the row; a
  // worker that takes the job at once waits for this row's lock, so it sees the row `queued`.
  const reset = await resetMediaForReprocess(deps.db, row.id, async (tx, done) => {
    const next: ReprocessState = { ...state, ...cursor };
    if (done === undefined) next.skipped += 1;
    else {
      Object.assign(next, {
        requeued: state.requeued + 1,
        detections: state.detections + done.thumbnails.length,
        eventsReplaced: (state.eventsReplaced ?? 0) + done.eventsReplaced,
      });
    }
    await updateJob(tx, jobId, { progress: progress(next), result: next });
    if (done !== undefined) await deps.enqueue(done.row);
    return { next, done };
  });
  Object.assign(state, reset.next);
  for (const thumbnail of reset.done?.thumbnails ?? []) await removeThumbnail(deps.dataDir, thumbnail);
}

/** Reprocesses every media file of a camera or under a folder (see the top of this file). */
export async function reprocess(target: string, deps: ReprocessDeps): Promise<ReprocessReport> {
  const resolved = await resolveReprocessTarget(deps.db, deps.mediaRoot, target);
  const { id: jobId, state } = await openState(deps, resolved);
  const resumed = state.done > 0;
  const log = deps.log.child({ job_id: jobId });
  log.info({ target: state.target, total: state.total, resumed }, 'reprocessing media');
  deps.onProgress?.(state.done, state.total);
  try {
    for (;;) {
      const rows = await listScope(deps.db, resolved, { after: state.lastId, upTo: state.maxId, limit: 200 });
      if (rows.length === 0) break;
      for (const row of rows) {
        await reprocessRow(deps, jobId, state, row);
        deps.onProgress?.(Math.min(state.done, state.total), state.total);
      }
    }
  } catch (error) {
    await updateJob(deps.db, jobId, { status: 'failed', error: errorMessage(error) }).catch(() => undefined);
    throw error;
  }
  const { target: key, requeued, skipped, missing, detections } = state;
  const eventsReplaced = state.eventsReplaced ?? 0;
  const message =
    `requeued ${requeued} file(s), ${skipped} already queued, ${missing} missing on disk` +
    (eventsReplaced > 0 ? `, ${eventsReplaced} event(s) replaced` : '');
  await updateJob(deps.db, jobId, {
    status: 'completed',
    progress: 100,
    message,
    completedAt: new Date(deps.clock.now()),
  });
  log.info({ requeued, skipped, missing, detections, events_replaced: eventsReplaced }, 'reprocess queued');
  return { jobId, target: key, resumed, total: state.total, requeued, skipped, missing, detections, eventsReplaced };
}
