import type { AlertService } from '../alerts/alert.service.js';
import type { ArmingService } from '../alerts/arming.service.js';
import type { Config } from '../config/schema.js';
import type { BusEvents } from '../domain/events.js';
import type { Clock } from '../lib/clock.js';
import type { EventBus } from '../lib/event-bus.js';
import type { FailedLogins } from '../lib/failed-logins.js';
import type { Logger } from '../lib/logger.js';
import type { ModelRuntime } from '../models/model-runtime.js';
import type { DetectionJob, JobQueue, QueueCounts, QueueName } from '../queue/contracts.js';
import type { SystemStatus } from '../status/system-status.js';
import type { Db } from '../storage/database.js';
import { pingDatabase } from '../storage/queries/system-status.js';
import type { ApiRoutes } from './context.js';

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
  /**
   * The system-status read model shared with the MQTT health sensor: `/api/stats` and `/metrics` read it. Absent:
   * the API builds its own from `db`, `queues`, `failedLogins` and `clock`.
   */
  status?: ApiStatus;
  /**
   * The process's model runtime, for routes that run a model on request (household enrolment). Absent: such a
   * route opens its own on first use.
   */
  models?: ModelRuntime;
  /** Routes the enabled features add (`Feature.routes`), registered after the core's. */
  routes?: readonly ApiRoutes[];
  log: Logger;
  clock: Clock;
}

/** What `/api/stats` and `/metrics` read of the system-status read model. */
export type ApiStatus = Pick<SystemStatus, 'stats' | 'queueCounts' | 'mediaFiles' | 'activeAlerts' | 'failedLogins'>;

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
      await pingDatabase(db);
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
