import type { Generated, Insertable, Selectable } from 'kysely';

/** pino's level names, as stored in `logs.level`. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

export interface LogTable {
  id: Generated<number>;
  timestamp: Generated<Date>;
  level: LogLevelName;
  component: string;
  message: string;
  camera_id: string | null;
  event_id: number | null;
  request_id: string | null;
  detection_id: number | null;
  duration_ms: number | null;
  /** The rest of the log line's fields (error, media_file_id…) as JSON. */
  extra: unknown | null;
  source: Generated<string>;
}

export type LogRow = Selectable<LogTable>;
export type NewLogRow = Insertable<LogTable>;
