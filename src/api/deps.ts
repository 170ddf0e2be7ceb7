import { sql } from 'kysely';
import type { AlertService } from '../alerts/alert.service.js';
import type { ArmingService } from '../alerts/arming.service.js';
import type { Config } from '../config/schema.js';
import type { BusEvents } from '../domain/events.js';
import { detectionJobId } from '../ingest/ingest.service.js';
import type { Clock } from '../lib/clock.js';
import type { EventBus } from '../lib/event-bus.js';
import type { FailedLogins } from '../lib/failed-logins.js';
import type { Logger } from '../lib/logger.js';
import type { DetectionJob, JobQueue, QueueCounts, QueueName } from '../queue/contracts.js';
import type { Db } from '../storage/database.js';

/** The part of the configuration the API reads; the whole `Config` fits. */
export type ApiConfig = Pick<Config, 'http' | 'media_root' | 'data_dir'> & {
  site: Pick<Config['site'], 'timezone'>;
  ingest: Pick<Config['ingest'], 'max_pixels'>;
  /** The status page calls a camera offline after this, as Home Assistant's connectivity sensor does. */
  homeassistant: Pick<Config['homeassistant'], 'camera_offline_after_s'>;
};

/** What the API needs of a queue: depths for health, stats and metrics; dead letters to list and requeue. */
export type QueueView = Pick<JobQueue<unknown>, 'counts' | 'deadLetters' | 'requeue'>;

/**
 * Readiness probes, one per backend. `database` resolves when a query round-trips; `queues` returns each queue's
 * counts; `mqttConnected` says whether the broker connection is up now.
 */
export interface ReadinessChecks {
  database(): Promise<void>;
  queues(): Promise<Record<string, QueueCounts>>;
  mqttConnected(): boolean;
  /** Whether uploads are being watched (the media root exists); undefined in a process without the ingest role. */
  ingest?(): { ok: boolean; reason: string | null } | undefined;
}

export interface ApiDeps {
  db: Db;
  bus: EventBus<BusEvents>;
  alerts: Pick<AlertService, 'acknowledge' | 'dismiss'>;
  arming: Pick<ArmingService, 'houseMode' | 'setHouseMode' | 'setZoneArmed'>;
  queues: Readonly<Record<QueueName, QueueView>>;
  checks: ReadinessChecks;
  /** Queues a detection job for a media file the API just put back to `queued` (dead-letter requeue). */
  enqueueDetection(job: DetectionJob): Promise<void>;
  /** Samples a clip into JPEG frames, as the detection stage does: the image of a clip detection is its frame. */
  extractFrames(file: string): Promise<Buffer[]>;
  /** Refused logins per service, for `hsi_failed_logins_total` (absent: no series). */
  failedLogins?: Pick<FailedLogins, 'counts'>;
  log: Logger;
  clock: Clock;
}

/** The usual probes: `SELECT 1` on the database, `counts()` of every queue, and the MQTT connection's state. */
export function readinessChecks(
  db: Db,
  queues: Readonly<Record<string, Pick<QueueView, 'counts'>>>,
  mqttConnected: () => boolean,
  ingest?: () => { ok: boolean; reason: string | null } | undefined,
): ReadinessChecks {
  return {
    ...(ingest === undefined ? {} : { ingest }),
    async database() {
      await sql`SELECT 1`.execute(db);
    },
    async queues() {
      const entries = await Promise.all(
        Object.entries(queues).map(async ([name, queue]) => [name, await queue.counts()] as const),
      );
      return Object.fromEntries(entries);
    },
    mqttConnected,
  };
}

/**
 * `enqueueDetection` on a queue: a job still held as a dead letter is moved back with fresh attempts, anything else
 * is added under the file's job id (`media-<id>`), so a requeue never runs a file twice.
 */
export function detectionEnqueuer(
  queue: Pick<JobQueue<DetectionJob>, 'add' | 'requeue'>,
): (job: DetectionJob) => Promise<void> {
  return async (job) => {
    const jobId = detectionJobId(job.mediaFileId);
    if (!(await queue.requeue(jobId))) await queue.add(job, { jobId });
  };
}
