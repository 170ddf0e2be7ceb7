import { sql } from 'kysely';
import type { DbOrTx } from './database.js';
import { LOG_LEVELS, type LogLevelName, type LogRow } from './tables/log.table.js';

export { LOG_LEVELS, type LogLevelName } from './tables/log.table.js';

/** One stored log line. */
export interface LogEntry {
  id: number;
  timestamp: Date;
  level: LogLevelName;
  component: string;
  message: string;
  cameraId: string | null;
  eventId: number | null;
  requestId: string | null;
  detectionId: number | null;
  durationMs: number | null;
  extra: Record<string, unknown> | null;
  source: string;
}

export type NewLogEntry = Omit<LogEntry, 'id' | 'source'> & { source?: string };

export interface LogSearch {
  /** Full-text query on the message (English stemming, web-search syntax: `"exact phrase"`, `or`, `-word`). */
  q?: string;
  /** This level and the more severe ones (`warn` → warn, error, fatal). */
  level?: LogLevelName;
  component?: string;
  since?: Date;
  /** 1..1000, default 100. */
  limit?: number;
}

export function logRowToEntry(row: LogRow): LogEntry {
  return {
    id: row.id,
    timestamp: row.timestamp,
    level: row.level,
    component: row.component,
    message: row.message,
    cameraId: row.camera_id,
    eventId: row.event_id,
    requestId: row.request_id,
    detectionId: row.detection_id,
    durationMs: row.duration_ms,
    extra: (row.extra as Record<string, unknown> | null) ?? null,
    source: row.source,
  };
}

/** Inserts a batch of log lines in one statement. */
export async function insertLogs(db: DbOrTx, batch: readonly NewLogEntry[]): Promise<void> {
  if (batch.length === 0) return;
  await db
    .insertInto('logs')
    .values(
      batch.map((e) => ({
        timestamp: e.timestamp,
        level: e.level,
        component: e.component,
        message: e.message,
        camera_id: e.cameraId,
        event_id: e.eventId,
        request_id: e.requestId,
        detection_id: e.detectionId,
        duration_ms: e.durationMs === null ? null : Math.round(e.durationMs),
        extra: e.extra === null ? null : JSON.stringify(e.extra),
        ...(e.source === undefined ? {} : { source: e.source }),
      })),
    )
    .execute();
}

/** Newest first. A blank `q` does not filter; the message match uses the GIN index on `to_tsvector('english', message)`. */
export async function searchLogs(db: DbOrTx, search: LogSearch = {}): Promise<LogEntry[]> {
  let q = db.selectFrom('logs').selectAll();
  const text = search.q?.trim() ?? '';
  if (text !== '') {
    q = q.where(sql<boolean>`to_tsvector('english', message) @@ websearch_to_tsquery('english', ${text})`);
  }
  if (search.level !== undefined) q = q.where('level', 'in', LOG_LEVELS.slice(LOG_LEVELS.indexOf(search.level)));
  if (search.component !== undefined) q = q.where('component', '=', search.component);
  if (search.since !== undefined) q = q.where('timestamp', '>=', search.since);
  const rows = await q
    .orderBy('timestamp', 'desc')
    .orderBy('id', 'desc')
    .limit(Math.min(1000, Math.max(1, Math.trunc(search.limit ?? 100))))
    .execute();
  return rows.map(logRowToEntry);
}

/** Removes lines logged before `before`; returns how many. */
export async function deleteLogsBefore(db: DbOrTx, before: Date): Promise<number> {
  const result = await db.deleteFrom('logs').where('timestamp', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}
