import type { BusEvents } from '../domain/events.js';
import { startOfLocalDay } from '../domain/local-day.js';
import type { Clock } from '../lib/clock.js';
import type { EventBus } from '../lib/event-bus.js';
import type { FailedLogins, LoginService } from '../lib/failed-logins.js';
import type { SystemHealth } from '../mqtt/payloads.js';
import type { JobQueue, QueueCounts } from '../queue/contracts.js';
import { countActiveAlerts } from '../storage/alert.repository.js';
import type { Db } from '../storage/database.js';
import { countEventsSince } from '../storage/event.repository.js';
import { feedbackSummary, type LevelFeedbackSummary } from '../storage/feedback.repository.js';
import { countByStatus } from '../storage/media-file.repository.js';
import { type CameraCounts, cameraCounts } from '../storage/queries/system-status.js';
import type { MediaStatus } from '../storage/tables/media-file.table.js';
import { InferenceWindow } from './inference-window.js';

/** The refused logins the health sensor counts: the embedded broker's and the alarm panel's (not FTP's). */
const HEALTH_LOGIN_SERVICES: readonly LoginService[] = ['mqtt', 'alarm_code'];
/** A reachability probe of the LLM is reused for this long. */
const LLM_PROBE_TTL_MS = 60_000;

type QueueReader = Pick<JobQueue<unknown>, 'counts'>;

export interface SystemStatusDeps {
  db: Db;
  /** Every queue by name (stats, metrics); the health sensor reads `detection` and `analysis`. */
  queues: Readonly<Record<string, QueueReader>> & { readonly detection: QueueReader; readonly analysis: QueueReader };
  clock: Clock;
  /** Feeds the inference percentiles (`media.processed`) once started; absent: no percentiles. */
  bus?: EventBus<BusEvents>;
  version: string;
  /** IANA timezone of the site: "events today" starts at its midnight. */
  timeZone: string;
  /** A camera is online while it uploaded within this. */
  cameraOfflineAfterS: number;
  /**
   * The LLM when one is configured (absent: rules only, reachability null). `probe` asks whether it answers
   * (an OpenAI-compatible server); without one reachability stays null.
   */
  llm?: { probe?: () => Promise<boolean> } | undefined;
  /** Refused logins per service, registered by the services that check credentials. */
  failedLogins?: Pick<FailedLogins, 'counts'> | undefined;
  /** Whether uploads are watched; undefined without the ingest role (or before it started). */
  ingest?: () => { ok: boolean; reason: string | null } | undefined;
}

/** What `/api/stats` shows: media files by status, events by level, active alerts, queues, cameras. */
export interface SystemStats {
  mediaFiles: Record<MediaStatus, number>;
  eventsByLevel: LevelFeedbackSummary[];
  activeAlerts: number;
  queues: Record<string, QueueCounts>;
  cameras: CameraCounts;
}

/**
 * The one read model of the system's state: the MQTT health sensor (`health()`), `/api/stats` (`stats()`) and
 * `/metrics` (the single readings) all read it, so a number means the same everywhere. `start()` listens to the bus
 * for inference times; the uptime counts from construction.
 */
export class SystemStatus {
  private readonly inference = new InferenceWindow();
  private readonly started: number;
  private llmState: { at: number; ok: boolean } | undefined;
  private off: (() => void) | undefined;

  constructor(private readonly deps: SystemStatusDeps) {
    this.started = deps.clock.now();
  }

  start(): void {
    this.off ??= this.deps.bus?.on('media.processed', (e) => {
      if (e.timings.inferenceMs > 0) this.inference.add(e.timings.inferenceMs);
    });
  }

  stop(): void {
    this.off?.();
    this.off = undefined;
  }

  /** Counts of every queue by name. */
  async queueCounts(): Promise<Record<string, QueueCounts>> {
    const entries = await Promise.all(
      Object.entries(this.deps.queues).map(async ([name, queue]) => [name, await queue.counts()] as const),
    );
    return Object.fromEntries(entries);
  }

  mediaFiles(): Promise<Record<MediaStatus, number>> {
    return countByStatus(this.deps.db);
  }

  /** Alerts pending or delivered, not yet acknowledged or dismissed. */
  activeAlerts(): Promise<number> {
    return countActiveAlerts(this.deps.db);
  }

  /** Cameras (not deleted), and how many uploaded within `cameraOfflineAfterS`. */
  cameras(): Promise<CameraCounts> {
    return cameraCounts(this.deps.db, new Date(this.deps.clock.now() - this.deps.cameraOfflineAfterS * 1000));
  }

  /** Refused logins per service since start. */
  failedLogins(): Partial<Record<LoginService, number>> {
    return this.deps.failedLogins?.counts() ?? {};
  }

  async stats(): Promise<SystemStats> {
    const [mediaFiles, eventsByLevel, activeAlerts, queues, cameras] = await Promise.all([
      this.mediaFiles(),
      feedbackSummary(this.deps.db),
      this.activeAlerts(),
      this.queueCounts(),
      this.cameras(),
    ]);
    return { mediaFiles, eventsByLevel, activeAlerts, queues, cameras };
  }

  /** The MQTT system health sensor's reading. */
  async health(): Promise<SystemHealth> {
    const { db, queues, clock } = this.deps;
    const llmReachable = await this.llmReachable();
    const now = clock.now();
    const midnight = startOfLocalDay(new Date(now), this.deps.timeZone);
    const detection = await queues.detection.counts();
    const analysis = await queues.analysis.counts();
    const depth = (c: QueueCounts) => c.waiting + c.active + c.delayed;
    const cameras = await this.cameras();
    const failed = (await this.mediaFiles()).failed;
    const logins = this.failedLogins();
    return {
      version: this.deps.version,
      uptimeS: Math.round((now - this.started) / 1000),
      queues: { detection: depth(detection), analysis: depth(analysis) },
      inferenceMs: this.inference.percentiles(),
      deadLetters: failed + analysis.dead,
      camerasOnline: cameras.online,
      camerasTotal: cameras.total,
      llmReachable,
      eventsToday: await countEventsSince(db, midnight),
      failedLogins: HEALTH_LOGIN_SERVICES.reduce((sum, service) => sum + (logins[service] ?? 0), 0),
      ingest: this.deps.ingest?.() ?? null,
    };
  }

  /** null without an LLM or a probe; else the last probe's answer, probed again when older than a minute. */
  private async llmReachable(): Promise<boolean | null> {
    const { llm, clock } = this.deps;
    if (llm === undefined) return null;
    if (llm.probe !== undefined && (this.llmState === undefined || clock.now() - this.llmState.at > LLM_PROBE_TTL_MS)) {
      this.llmState = { at: clock.now(), ok: await llm.probe() };
    }
    return this.llmState?.ok ?? null;
  }
}
