import { sql } from 'kysely';
import type { DbOrTx } from './database.js';
import type { AuditLogRow, AuditStatus, EventAuditRow } from './tables/audit.table.js';
import type { AnalysisSource } from './tables/event.table.js';

export type { AuditStatus } from './tables/audit.table.js';

/** One entry of the security audit trail: who did what to which resource, and whether it worked. */
export interface AuditEntry {
  id: number;
  timestamp: Date;
  action: string;
  resourceType: string;
  resourceId: string | null;
  actor: string;
  details: Record<string, unknown> | null;
  ipAddress: string | null;
  userAgent: string | null;
  status: AuditStatus;
}

export interface AuditInput {
  /** e.g. `house_mode.set`, `zone.arm`, `alert.acknowledge`. */
  action: string;
  resourceType: string;
  resourceId?: string | null;
  /** `mqtt`, `api:<user>`, `config`, `system`. */
  actor: string;
  details?: Record<string, unknown> | null;
  ipAddress?: string | null;
  userAgent?: string | null;
  /** Default `success`. */
  status?: AuditStatus;
  /** Default: the database's now(). */
  timestamp?: Date;
}

export function auditRowToEntry(row: AuditLogRow): AuditEntry {
  return {
    id: row.id,
    timestamp: row.timestamp,
    action: row.action,
    resourceType: row.resource_type,
    resourceId: row.resource_id,
    actor: row.actor,
    details: (row.details as Record<string, unknown> | null) ?? null,
    ipAddress: row.ip_address,
    userAgent: row.user_agent,
    status: row.status,
  };
}

export async function writeAudit(db: DbOrTx, input: AuditInput): Promise<AuditEntry> {
  const row = await db
    .insertInto('audit_logs')
    .values({
      action: input.action,
      resource_type: input.resourceType,
      resource_id: input.resourceId ?? null,
      actor: input.actor,
      details: input.details === undefined || input.details === null ? null : JSON.stringify(input.details),
      ip_address: input.ipAddress ?? null,
      user_agent: input.userAgent ?? null,
      status: input.status ?? 'success',
      ...(input.timestamp === undefined ? {} : { timestamp: input.timestamp }),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return auditRowToEntry(row);
}

/** Newest first; `limit` 1..1000, default 100. */
export async function listAudit(
  db: DbOrTx,
  options: { limit?: number; action?: string; resourceType?: string } = {},
): Promise<AuditEntry[]> {
  let q = db.selectFrom('audit_logs').selectAll();
  if (options.action !== undefined) q = q.where('action', '=', options.action);
  if (options.resourceType !== undefined) q = q.where('resource_type', '=', options.resourceType);
  const rows = await q
    .orderBy('timestamp', 'desc')
    .orderBy('id', 'desc')
    .limit(Math.min(1000, Math.max(1, Math.trunc(options.limit ?? 100))))
    .execute();
  return rows.map(auditRowToEntry);
}

/** How one event was analysed: source, prompt, model, time taken, LLM attempts, raw answer and corrections. */
export interface EventAudit {
  id: number;
  eventId: number;
  analysisSource: AnalysisSource;
  promptVersion: string | null;
  model: string | null;
  durationMs: number;
  llmAttempts: number;
  rawResponse: string | null;
  corrections: Record<string, unknown> | null;
  createdAt: Date;
}

export type EventAuditInput = Omit<EventAudit, 'id' | 'createdAt'> & {
  /** What the fact sources said, by source name (stored for calibration; not part of the audit's API shape). */
  facts?: Record<string, unknown> | null;
};

export function eventAuditRowToAudit(row: EventAuditRow): EventAudit {
  return {
    id: row.id,
    eventId: row.event_id,
    analysisSource: row.analysis_source,
    promptVersion: row.prompt_version,
    model: row.model,
    durationMs: row.duration_ms,
    llmAttempts: row.llm_attempts,
    rawResponse: row.raw_response,
    corrections: (row.corrections as Record<string, unknown> | null) ?? null,
    createdAt: row.created_at,
  };
}

/**
 * Records how an event was analysed. One row per event: the first record wins, so an analysis replayed after a
 * crash (whose event already existed) leaves the original audit as it was, except its facts, which follow the
 * latest analysis; the stored audit is returned.
 */
export async function recordEventAudit(db: DbOrTx, input: EventAuditInput): Promise<EventAudit> {
  const inserted = await db
    .insertInto('event_audits')
    .values({
      event_id: input.eventId,
      analysis_source: input.analysisSource,
      prompt_version: input.promptVersion,
      model: input.model,
      duration_ms: Math.max(0, Math.round(input.durationMs)),
      llm_attempts: input.llmAttempts,
      raw_response: input.rawResponse,
      corrections: input.corrections === null ? null : JSON.stringify(input.corrections),
      facts: input.facts === undefined || input.facts === null ? null : JSON.stringify(input.facts),
    })
    // The first analysis's record stands; only the facts follow the latest analysis (the close re-analyses the
    // whole visit, and a rule tested later must see who the alerting analysis saw).
    .onConflict((oc) => oc.column('event_id').doUpdateSet({ facts: sql`coalesce(excluded.facts, event_audits.facts)` }))
    .returningAll()
    .executeTakeFirst();
  if (inserted !== undefined) return eventAuditRowToAudit(inserted);
  const existing = await db
    .selectFrom('event_audits')
    .selectAll()
    .where('event_id', '=', input.eventId)
    .executeTakeFirstOrThrow();
  return eventAuditRowToAudit(existing);
}

export async function getEventAudit(db: DbOrTx, eventId: number): Promise<EventAudit | undefined> {
  const row = await db.selectFrom('event_audits').selectAll().where('event_id', '=', eventId).executeTakeFirst();
  return row === undefined ? undefined : eventAuditRowToAudit(row);
}

/** The facts each event's audit row kept, by event id (events without one are absent). */
export async function auditFactsOfEvents(db: DbOrTx, eventIds: readonly number[]): Promise<Map<number, unknown>> {
  if (eventIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('event_audits')
    .select(['event_id', 'facts'])
    .where('event_id', 'in', [...eventIds])
    .execute();
  return new Map(rows.map((r) => [r.event_id, r.facts]));
}
