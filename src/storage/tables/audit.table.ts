import type { Generated, Insertable, Selectable } from 'kysely';
import type { AnalysisSource } from './event.table.js';

export type AuditStatus = 'success' | 'failure';

export interface AuditLogTable {
  id: Generated<number>;
  timestamp: Generated<Date>;
  action: string;
  resource_type: string;
  resource_id: string | null;
  actor: string;
  details: unknown | null;
  ip_address: string | null;
  user_agent: string | null;
  status: Generated<AuditStatus>;
}

/** How one event was analysed (one row per event). */
export interface EventAuditTable {
  id: Generated<number>;
  event_id: number;
  analysis_source: AnalysisSource;
  prompt_version: string | null;
  model: string | null;
  duration_ms: number;
  llm_attempts: Generated<number>;
  raw_response: string | null;
  corrections: unknown | null;
  /** The fact sources' data, by source name (migration 0007; null before, or with no source enabled). */
  facts: unknown | null;
  created_at: Generated<Date>;
}

export type AuditLogRow = Selectable<AuditLogTable>;
export type NewAuditLogRow = Insertable<AuditLogTable>;
export type EventAuditRow = Selectable<EventAuditTable>;
export type NewEventAuditRow = Insertable<EventAuditTable>;
