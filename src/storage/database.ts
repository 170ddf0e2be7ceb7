import type { Kysely, Transaction } from 'kysely';
import type { AlertRuleTable, AlertTable } from './tables/alert.table.js';
import type { HouseStateTable } from './tables/arming.table.js';
import type { AuditLogTable, EventAuditTable } from './tables/audit.table.js';
import type { CameraTable } from './tables/camera.table.js';
import type { DetectionTable } from './tables/detection.table.js';
import type { EnrichmentRunTable } from './tables/enrichment.table.js';
import type { EventDetectionTable, EventTable } from './tables/event.table.js';
import type { EventFeedbackTable } from './tables/feedback.table.js';
import type { GpuStatsTable } from './tables/gpu-stats.table.js';
import type {
  EntityTable,
  FaceDetectionEventTable,
  FaceEmbeddingTable,
  HouseholdMemberTable,
  JourneyTable,
  KnownPersonTable,
  PersonEmbeddingTable,
  RegisteredVehicleTable,
  ReidEmbeddingTable,
  StrangerNoticeTable,
  ZoneHouseholdConfigTable,
} from './tables/identity.table.js';
import type { JobTable } from './tables/job.table.js';
import type { LogTable } from './tables/log.table.js';
import type { MediaAliasTable, MediaFileTable, MediaRejectionTable } from './tables/media-file.table.js';
import type { PromptVersionTable } from './tables/prompt-version.table.js';
import type { CameraZoneTable } from './tables/zone.table.js';

/** The Kysely schema: one entry per table, snake_case as in SQL. */
export interface Database {
  cameras: CameraTable;
  media_files: MediaFileTable;
  media_aliases: MediaAliasTable;
  media_rejections: MediaRejectionTable;
  detections: DetectionTable;
  enrichment_runs: EnrichmentRunTable;
  jobs: JobTable;
  events: EventTable;
  event_detections: EventDetectionTable;
  event_feedback: EventFeedbackTable;
  event_audits: EventAuditTable;
  prompt_versions: PromptVersionTable;
  camera_zones: CameraZoneTable;
  house_state: HouseStateTable;
  audit_logs: AuditLogTable;
  alert_rules: AlertRuleTable;
  alerts: AlertTable;
  gpu_stats: GpuStatsTable;
  logs: LogTable;
  household_members: HouseholdMemberTable;
  person_embeddings: PersonEmbeddingTable;
  registered_vehicles: RegisteredVehicleTable;
  zone_household_configs: ZoneHouseholdConfigTable;
  known_persons: KnownPersonTable;
  face_detection_events: FaceDetectionEventTable;
  face_embeddings: FaceEmbeddingTable;
  entities: EntityTable;
  journeys: JourneyTable;
  reid_embeddings: ReidEmbeddingTable;
  stranger_notices: StrangerNoticeTable;
}

export type Db = Kysely<Database>;
/** Repositories take either the database or an open transaction as their first argument. */
export type DbOrTx = Kysely<Database> | Transaction<Database>;

export type ScriptExec = (script: string) => Promise<Record<string, unknown>[]>;

export type Engine = 'postgres' | 'pglite';

/** A connected store: the Kysely handle plus what migrations need (multi-statement scripts in a transaction). */
export interface Store {
  readonly engine: Engine;
  readonly db: Db;
  /**
   * Runs `fn` in one transaction where `exec` accepts a multi-statement SQL script and returns the rows of its last
   * statement. Everything inside must go through `exec` (PGlite has a single connection).
   */
  scriptTransaction(fn: (exec: ScriptExec) => Promise<void>): Promise<void>;
  close(): Promise<void>;
}
