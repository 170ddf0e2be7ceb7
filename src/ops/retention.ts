import { randomUUID } from 'node:crypto';
import type { RetentionConfig } from '../config/sections/http.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { Db } from '../storage/database.js';
import { deleteGpuStatsBefore } from '../storage/gpu-stats.repository.js';
import { startJob, updateJob } from '../storage/job.repository.js';
import { lockIdentityWrites } from '../storage/locks.js';
import { deleteLogsBefore } from '../storage/log.repository.js';
import { deleteExpiredEvents, deleteExpiredIdentity } from '../storage/retention.repository.js';
import { expireDetections, expireMedia, expireRejections, type FileFailure } from './retention-files.js';

/**
 * Data retention. Age is storage age: how long ago HSI stored a row (`created_at`), so footage imported from an old
 * archive is kept as long as live footage. A setting of 0 days keeps that kind of data forever. In order:
 *
 * 1. events stored more than `events_days` ago are deleted (soft-deleted ones too, for good) with their links,
 *    alerts, feedback and audits, EXCEPT events with an alert still `pending` or `delivered`;
 * 2. detections stored more than `detections_days` ago are deleted with their thumbnails, except those linked to an
 *    event that is still there after step 1 (a kept event keeps its evidence); their re-identification vectors and
 *    faces go with them, and then the unknown people (entities, unknown-face clusters) none of whose sightings is
 *    left (the household and named people stay);
 * 3. media files stored more than `media_days` ago, finished (`done|failed|rejected`) and with no detection left
 *    after step 2, lose their file on disk, their duplicate copies (aliases), their row and alias rows together. A
 *    media file whose detections are kept is kept whole, so every kept detection can still show its image. Uploads
 *    refused without a row (`media_rejections`) older than `media_days` go with their record too;
 * 4. GPU samples and stored log lines older than `telemetryDays` (default 7).
 *
 * A file HSI did not write (a camera reused the name, or changed it since) is never unlinked. Idempotent: a second
 * run removes nothing more. Each run is one `jobs` row (`job_type` 'retention') with its report as `result`.
 */

export const RETENTION_JOB_TYPE = 'retention';
const DAY_MS = 86_400_000;
const FIRST_RUN_DELAY_MS = 60_000;
const MAX_REPORTED_FAILURES = 50;

export interface RetentionDeps {
  db: Db;
  mediaRoot: string;
  dataDir: string;
  config: RetentionConfig;
  clock: Clock;
  log: Logger;
  /** Days GPU samples and stored log lines are kept (default 7; 0 keeps them forever). */
  telemetryDays?: number;
  /** Rows per transaction (default 500). */
  batchSize?: number;
}

export interface RetentionReport {
  jobId: string;
  events: number;
  detections: number;
  thumbnails: number;
  /** Entities and unknown-face clusters removed (their vectors with them). */
  identity: number;
  /** `media_files` rows removed. */
  mediaFiles: number;
  /** Files removed from the media root: uploads, their duplicate copies, refused uploads. */
  files: number;
  /** `media_rejections` records removed. */
  rejections: number;
  gpuStats: number;
  logs: number;
  /** Files that could not be removed (their rows were kept); at most 50 listed, all counted. */
  failures: FileFailure[];
  failureCount: number;
}

const cutoff = (now: number, days: number): Date | undefined => (days > 0 ? new Date(now - days * DAY_MS) : undefined);

/** Deletes expired events in batches; one statement per batch re-checks the alert exception. */
async function expireEvents(db: Db, before: Date, batchSize: number): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await deleteExpiredEvents(db, before, batchSize);
    total += n;
    if (n < batchSize) return total;
  }
}

async function runSteps(deps: RetentionDeps, jobId: string, report: RetentionReport): Promise<void> {
  const { db, config } = deps;
  const now = deps.clock.now();
  const files = { db, mediaRoot: deps.mediaRoot, dataDir: deps.dataDir, batchSize: deps.batchSize ?? 500 };
  const progress = (percent: number) => updateJob(db, jobId, { progress: percent });
  const failed = (list: FileFailure[]) => {
    report.failureCount += list.length;
    report.failures.push(...list.slice(0, MAX_REPORTED_FAILURES - report.failures.length));
  };

  const events = cutoff(now, config.events_days);
  if (events !== undefined) report.events = await expireEvents(db, events, files.batchSize);
  await progress(25);
  const detections = cutoff(now, config.detections_days);
  if (detections !== undefined) {
    const r = await expireDetections(files, detections);
    Object.assign(report, { detections: r.rows, thumbnails: r.files });
    failed(r.failures);
    report.identity = await db.transaction().execute(async (tx) => {
      await lockIdentityWrites(tx); // no enrichment worker joins an entity while it goes
      return deleteExpiredIdentity(tx, detections);
    });
  }
  await progress(50);
  const media = cutoff(now, config.media_days);
  if (media !== undefined) {
    const r = await expireMedia(files, media);
    const refused = await expireRejections(files, media);
    Object.assign(report, { mediaFiles: r.rows, files: r.files + refused.files, rejections: refused.rows });
    failed([...r.failures, ...refused.failures]);
  }
  await progress(75);
  const telemetry = cutoff(now, deps.telemetryDays ?? 7);
  if (telemetry !== undefined) {
    report.gpuStats = await deleteGpuStatsBefore(db, telemetry);
    report.logs = await deleteLogsBefore(db, telemetry);
  }
}

/**
 * One retention run, recorded in `jobs`. Throws when the database fails (after recording the failure in the jobs row
 * when it can); the caller logs it.
 */
export async function runRetention(deps: RetentionDeps): Promise<RetentionReport> {
  const { db, clock, log } = deps;
  const jobId = `retention-${randomUUID()}`;
  const report: RetentionReport = {
    jobId,
    ...{
      events: 0,
      detections: 0,
      thumbnails: 0,
      identity: 0,
      mediaFiles: 0,
      files: 0,
      rejections: 0,
      gpuStats: 0,
      logs: 0,
    },
    failures: [],
    failureCount: 0,
  };
  const settings = { ...deps.config, telemetry_days: deps.telemetryDays ?? 7 };
  await startJob(db, { id: jobId, jobType: RETENTION_JOB_TYPE, startedAt: new Date(clock.now()), result: settings });
  try {
    await runSteps(deps, jobId, report);
  } catch (error) {
    await updateJob(db, jobId, {
      status: 'failed',
      error: errorMessage(error),
      result: { ...settings, ...report, jobId: undefined },
      completedAt: new Date(clock.now()),
    }).catch(() => undefined);
    throw error;
  }
  const { jobId: _, ...result } = report;
  await updateJob(db, jobId, {
    status: 'completed',
    progress: 100,
    message: summary(report),
    result: { ...settings, ...result },
    completedAt: new Date(clock.now()),
  });
  if (report.failureCount > 0) {
    log.warn({ job_id: jobId, failures: report.failures }, `retention kept ${report.failureCount} undeletable file(s)`);
  }
  log.info({ job_id: jobId, ...result, failures: undefined }, 'retention run done');
  return report;
}

function summary(r: RetentionReport): string {
  return (
    `removed ${r.events} event(s), ${r.detections} detection(s), ${r.thumbnails} thumbnail(s), ` +
    `${r.mediaFiles} media file(s) (${r.files} file(s) on disk)` +
    (r.failureCount > 0 ? `; ${r.failureCount} file(s) could not be removed` : '')
  );
}

export interface RetentionSchedule {
  /** Cancels the next run and waits for one in progress. */
  stop(): Promise<void>;
}

/** Runs retention a minute after start, then every `interval_hours`; a failed run is logged and the next one comes. */
export function startRetentionSchedule(
  deps: RetentionDeps,
  options: { firstDelayMs?: number } = {},
): RetentionSchedule {
  const { clock, log } = deps;
  let timer: TimerHandle | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const schedule = (ms: number) => {
    timer = clock.setTimeout(() => {
      timer = undefined;
      running = runRetention(deps).then(
        () => undefined,
        (error: unknown) => log.error({ err: error }, 'retention run failed; the next one runs as scheduled'),
      );
      void running.finally(() => {
        running = undefined;
        if (!stopped) schedule(deps.config.interval_hours * 3_600_000);
      });
    }, ms);
  };
  schedule(options.firstDelayMs ?? FIRST_RUN_DELAY_MS);
  return {
    async stop() {
      stopped = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
      await running;
    },
  };
}
