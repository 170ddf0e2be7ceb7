import { lstat } from 'node:fs/promises';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { DetectionJob, JobQueue } from '../queue/contracts.js';
import type { Db } from '../storage/database.js';
import { isKnownFile, listPending } from '../storage/media-file.repository.js';
import { detectionJobId, type IngestService, relativeMediaPath } from './ingest.service.js';
import { scanMediaFiles } from './watcher.js';

export interface ReconcileDeps {
  db: Db;
  queue: JobQueue<DetectionJob>;
  ingest: IngestService;
  log: Logger;
  clock: Clock;
  mediaRoot: string;
}

export interface ReconcileReport {
  requeued: number;
  scanned: number;
  ingested: number;
  durationMs: number;
}

/**
 * Puts rows left `queued` or `processing` back on the queue (job ids make this idempotent: a job still waiting or
 * running is not added twice). With `olderThanMs`, only rows untouched for that long: the periodic sweep that
 * repairs jobs lost with a Redis restart.
 */
export async function requeuePending(deps: ReconcileDeps, olderThanMs?: number): Promise<number> {
  const olderThan = olderThanMs === undefined ? undefined : new Date(deps.clock.now() - olderThanMs);
  const rows = await listPending(deps.db, olderThan);
  for (const row of rows) {
    await deps.queue.add(
      { mediaFileId: row.id, cameraId: row.camera_id, path: row.path, queuedAt: deps.clock.now() },
      { jobId: detectionJobId(row.id) },
    );
  }
  return rows.length;
}

/**
 * Files whose ingest failed (database or queue unreachable) are tried again, so an upload that arrived during an
 * outage does not wait for the next start. A file leaves `files` once it is known (row, alias or rejection), has
 * been ingested or has vanished; a try that throws leaves it (and the rest) for the next sweep.
 */
export async function retryFailedIngests(deps: ReconcileDeps, files: Set<string>): Promise<number> {
  let ingested = 0;
  for (const file of [...files]) {
    const stats = await lstat(file).catch(() => undefined);
    if (stats !== undefined) {
      const rel = relativeMediaPath(deps.mediaRoot, file);
      if (!(await isKnownFile(deps.db, rel, stats.size, stats.mtime))) {
        const outcome = await deps.ingest.ingest(file);
        if (outcome.kind === 'queued') ingested += 1;
      }
    }
    files.delete(file);
  }
  return ingested;
}

/**
 * Start-up reconciliation: requeue unfinished rows, then ingest every file on disk that the database does not know
 * (uploads that arrived while HSI was down). Progress is logged for long backlogs.
 */
export async function reconcile(deps: ReconcileDeps, progressEvery = 500): Promise<ReconcileReport> {
  const started = deps.clock.now();
  const requeued = await requeuePending(deps);
  let scanned = 0;
  let ingested = 0;
  for await (const file of scanMediaFiles(deps.mediaRoot)) {
    scanned += 1;
    const stats = await lstat(file).catch(() => undefined);
    if (stats === undefined) continue;
    const rel = relativeMediaPath(deps.mediaRoot, file);
    if (await isKnownFile(deps.db, rel, stats.size, stats.mtime)) continue;
    const outcome = await deps.ingest.ingest(file);
    if (outcome.kind === 'queued') ingested += 1;
    if (scanned % progressEvery === 0) deps.log.info({ scanned, ingested }, 'reconciling media folder');
  }
  const report = { requeued, scanned, ingested, durationMs: deps.clock.now() - started };
  deps.log.info(report, 'reconciliation done');
  return report;
}
