import type { Db } from '../storage/database.js';
import { insertLogs, type LogLevelName, type NewLogEntry } from '../storage/log.repository.js';

/**
 * A pino destination that keeps log lines worth keeping (warn and above by default) in the `logs` table. `write` only
 * parses and buffers (it never waits, never throws); lines are inserted in batches every `flushIntervalMs` or as soon
 * as `batchSize` are waiting. The buffer is bounded: when the database is down or slow the oldest lines are dropped
 * and counted, and a line saying how many were dropped is stored once the database takes writes again. Use it as a
 * `pino.multistream` entry (`{ level: 'warn', stream }`) or as pino's only destination.
 */

export interface DbLogStreamOptions {
  /** Where lines go; may come later with `attach` (the logger usually exists before the database is open). */
  db?: Db;
  /** `component` of lines that carry none. */
  component: string;
  /** `source` column (default 'backend'). */
  source?: string;
  /** Lowest pino level number kept (default 40, warn). */
  minLevel?: number;
  flushIntervalMs?: number;
  batchSize?: number;
  /** Lines held at most while the database is unavailable (default 10000). */
  maxBuffer?: number;
}

export interface DbLogStreamStats {
  stored: number;
  dropped: number;
  failedFlushes: number;
  buffered: number;
}

export interface DbLogStream {
  stream: { write(line: string): void };
  /** Starts writing to `db` (lines logged before are buffered, up to `maxBuffer`). */
  attach(db: Db): void;
  /** Inserts everything buffered now; resolves when done (never rejects). */
  flush(): Promise<void>;
  /** Stops the timer, flushes, and ignores later lines. */
  close(): Promise<void>;
  stats(): DbLogStreamStats;
}

const LEVELS: readonly [number, LogLevelName][] = [
  [60, 'fatal'],
  [50, 'error'],
  [40, 'warn'],
  [30, 'info'],
  [20, 'debug'],
  [10, 'trace'],
];
/** Fields with a column of their own, or pino's bookkeeping that says nothing about the event. */
const OWN_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'app', 'v', 'component']);
const COLUMNS = ['camera_id', 'event_id', 'request_id', 'reqId', 'detection_id', 'duration_ms'];

const levelName = (level: number): LogLevelName => LEVELS.find(([n]) => level >= n)?.[1] ?? 'trace';
const integer = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value)
    ? Math.round(value)
    : typeof value === 'string' && /^\d+$/.test(value)
      ? Number(value)
      : null;
const text = (value: unknown): string | null =>
  typeof value === 'string' ? value : typeof value === 'number' ? String(value) : null;

/** One pino JSON line as a `logs` row; undefined when it is not JSON or below `minLevel`. Pure. */
export function logLineToEntry(line: string, component: string, minLevel = 40): NewLogEntry | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const fields = parsed as Record<string, unknown>;
  const level = typeof fields.level === 'number' ? fields.level : 30;
  if (level < minLevel) return undefined;
  const time = typeof fields.time === 'number' || typeof fields.time === 'string' ? new Date(fields.time) : new Date();
  const extra = Object.fromEntries(
    Object.entries(fields).filter(([key]) => !OWN_FIELDS.has(key) && !COLUMNS.includes(key)),
  );
  return {
    timestamp: Number.isNaN(time.getTime()) ? new Date() : time,
    level: levelName(level),
    component: text(fields.component) ?? component,
    message: text(fields.msg) ?? '',
    cameraId: text(fields.camera_id),
    eventId: integer(fields.event_id),
    requestId: text(fields.request_id) ?? text(fields.reqId),
    detectionId: integer(fields.detection_id),
    durationMs: integer(fields.duration_ms),
    extra: Object.keys(extra).length === 0 ? null : extra,
  };
}

export function createDbLogStream(options: DbLogStreamOptions): DbLogStream {
  const batchSize = options.batchSize ?? 100;
  const maxBuffer = options.maxBuffer ?? 10_000;
  const buffer: NewLogEntry[] = [];
  const counters = { stored: 0, dropped: 0, failedFlushes: 0 };
  let reportedDropped = 0;
  let closed = false;
  let flushing: Promise<void> | undefined;
  let db = options.db;

  const push = (entry: NewLogEntry) => {
    buffer.push(entry);
    const excess = buffer.length - maxBuffer;
    if (excess > 0) {
      buffer.splice(0, excess);
      counters.dropped += excess;
    }
  };
  /** Stored just before the oldest line kept (with its time): the dropped lines were older still. */
  const droppedNotice = (oldest: Date): NewLogEntry[] => {
    const dropped = counters.dropped - reportedDropped;
    if (dropped === 0) return [];
    return [
      {
        ...{ timestamp: oldest, level: 'warn', component: 'logs', cameraId: null, eventId: null },
        ...{ requestId: null, detectionId: null, durationMs: null, extra: { dropped } },
        message: `${dropped} log line(s) dropped while the database was unavailable or slow`,
      },
    ];
  };
  const drain = async () => {
    const target = db;
    if (target === undefined) return;
    while (buffer.length > 0) {
      const batch = buffer.splice(0, batchSize);
      const notice = droppedNotice(batch[0]?.timestamp ?? new Date());
      const dropped = counters.dropped;
      try {
        await insertLogs(
          target,
          [...notice, ...batch].map((e) => ({ ...e, source: options.source ?? 'backend' })),
        );
      } catch {
        counters.failedFlushes += 1;
        buffer.unshift(...batch);
        const excess = buffer.length - maxBuffer;
        if (excess > 0) {
          buffer.splice(0, excess);
          counters.dropped += excess;
        }
        return;
      }
      counters.stored += batch.length;
      reportedDropped = dropped;
    }
  };
  const flush = (): Promise<void> => {
    flushing ??= drain().finally(() => {
      flushing = undefined;
    });
    return flushing;
  };
  const timer = setInterval(() => void flush(), options.flushIntervalMs ?? 1000);
  timer.unref();

  return {
    stream: {
      write(line: string) {
        if (closed) return;
        const entry = logLineToEntry(line, options.component, options.minLevel ?? 40);
        if (entry === undefined) return;
        push(entry);
        if (buffer.length >= batchSize && flushing === undefined) void flush();
      },
    },
    attach(target: Db) {
      db = target;
    },
    async flush() {
      await flushing;
      await flush();
    },
    async close() {
      closed = true;
      clearInterval(timer);
      await flushing;
      await flush();
    },
    stats: () => ({ ...counters, buffered: buffer.length }),
  };
}
