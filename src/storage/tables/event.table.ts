import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';
import type { AnalysisSource, EventRecord } from '../../domain/events.js';
import type { RiskLevel } from '../../domain/risk.js';

export type { AnalysisSource } from '../../domain/events.js';

export interface EventTable {
  id: Generated<number>;
  batch_id: string;
  camera_id: string;
  started_at: Date;
  ended_at: Date;
  risk_score: number;
  risk_level: RiskLevel;
  summary: string;
  reasoning: Generated<string>;
  recommended_action: string | null;
  llm_prompt: string | null;
  analysis_source: AnalysisSource;
  prompt_version: string | null;
  model: string | null;
  object_types: Generated<string[]>;
  detection_count: Generated<number>;
  is_fast_path: Generated<boolean>;
  reviewed: Generated<boolean>;
  notes: string | null;
  snooze_until: Date | null;
  created_at: Generated<Date>;
  deleted_at: Date | null;
  /** Null while the visit is open (detections may still join); set by its final analysis. */
  closed_at: Date | null;
  /** Bumped by every analysis stored; alert evaluation catches up to it (alerts_version). */
  analysis_version: Generated<number>;
  /** The analysis version whose alerts were evaluated: behind `analysis_version`, alerts are due. */
  alerts_version: Generated<number>;
  /** Kept by the `events_search_vector` trigger; never written by the application. */
  search_vector: ColumnType<string | null, never, never>;
}

export interface EventDetectionTable {
  event_id: number;
  detection_id: number;
}

export type EventRow = Selectable<EventTable>;
export type NewEventRow = Insertable<EventTable>;

/** A stored security event (one closed batch, analysed): what the bus carries, plus the stored-only fields. */
export interface SecurityEvent extends EventRecord {
  llmPrompt: string | null;
  promptVersion: string | null;
  model: string | null;
  reviewed: boolean;
  notes: string | null;
  snoozeUntil: Date | null;
  createdAt: Date;
  deletedAt: Date | null;
  analysisVersion: number;
  alertsVersion: number;
}

export interface NewEvent {
  batchId: string;
  cameraId: string;
  startedAt: Date;
  endedAt: Date;
  riskScore: number;
  riskLevel: RiskLevel;
  summary: string;
  reasoning: string;
  recommendedAction: string | null;
  llmPrompt: string | null;
  analysisSource: AnalysisSource;
  promptVersion: string | null;
  model: string | null;
  objectTypes: readonly string[];
  /** Defaults to the number of distinct detection ids linked. */
  detectionCount?: number;
  isFastPath: boolean;
  /** Null: the visit stays open for more detections of its batch. Omitted: closed at insert (a final event). */
  closedAt?: Date | null;
  /** Its alerts are still to be evaluated (the analysis worker); omitted: false (seeded or imported events). */
  alertsDue?: boolean;
}

/** Every column but the search vector, which is the trigger's business. */
export const EVENT_COLUMNS = [
  'id',
  'batch_id',
  'camera_id',
  'started_at',
  'ended_at',
  'risk_score',
  'risk_level',
  'summary',
  'reasoning',
  'recommended_action',
  'llm_prompt',
  'analysis_source',
  'prompt_version',
  'model',
  'object_types',
  'detection_count',
  'is_fast_path',
  'reviewed',
  'notes',
  'snooze_until',
  'created_at',
  'deleted_at',
  'closed_at',
  'analysis_version',
  'alerts_version',
] as const satisfies readonly (keyof EventTable)[];

export function eventRowToEvent(row: Omit<EventRow, 'search_vector'>): SecurityEvent {
  return {
    id: row.id,
    batchId: row.batch_id,
    cameraId: row.camera_id,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    riskScore: row.risk_score,
    riskLevel: row.risk_level,
    summary: row.summary,
    reasoning: row.reasoning,
    recommendedAction: row.recommended_action,
    llmPrompt: row.llm_prompt,
    analysisSource: row.analysis_source,
    promptVersion: row.prompt_version,
    model: row.model,
    objectTypes: row.object_types,
    detectionCount: row.detection_count,
    isFastPath: row.is_fast_path,
    reviewed: row.reviewed,
    notes: row.notes,
    snoozeUntil: row.snooze_until,
    createdAt: row.created_at,
    deletedAt: row.deleted_at,
    closedAt: row.closed_at,
    analysisVersion: row.analysis_version,
    alertsVersion: row.alerts_version,
  };
}
