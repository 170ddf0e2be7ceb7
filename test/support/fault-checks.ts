import { sql } from 'kysely';
import type { Db } from '../../src/storage/database.js';
import type { HsiProcess, LogLine } from './process.js';
import { type ExactlyOnceReport, verifyExactlyOnce } from './verify.js';

/**
 * What the fault tests check after every fault, read from the database: each file final exactly once, each
 * detection in exactly one event, one event per batch, one alert per (event, rule).
 */
export interface PipelineReport {
  files: ExactlyOnceReport;
  detections: number;
  /** event_detections rows, and how many distinct detections they name. */
  links: { rows: number; detections: number };
  /** Detections in no event. */
  unlinked: number;
  events: number;
  /** Distinct batch ids among the events. */
  eventBatches: number;
  /** Events that hold no detection. */
  emptyEvents: number;
  alerts: number;
  /** (event, rule) pairs with more than one alert. */
  duplicateAlerts: { event_id: number; rule_id: string | null; n: number }[];
  /** Events whose detection_count differs from their linked detections. */
  miscounted: { id: number; recorded: number; linked: number }[];
}

const one = async <T>(query: Promise<{ rows: T[] }>): Promise<T> => {
  const row = (await query).rows[0];
  if (row === undefined) throw new Error('aggregate query returned no row');
  return row;
};

export async function pipelineReport(db: Db): Promise<PipelineReport> {
  const files = await verifyExactlyOnce(db);
  const { n: detections } = await one(sql<{ n: number }>`SELECT count(*)::int AS n FROM detections`.execute(db));
  const links = await one(
    sql<{ rows: number; detections: number }>`
      SELECT count(*)::int AS rows, count(DISTINCT detection_id)::int AS detections FROM event_detections`.execute(db),
  );
  const { n: unlinked } = await one(
    sql<{ n: number }>`
      SELECT count(*)::int AS n FROM detections d
      WHERE NOT EXISTS (SELECT 1 FROM event_detections ed WHERE ed.detection_id = d.id)`.execute(db),
  );
  const events = await one(
    sql<{ n: number; batches: number }>`
      SELECT count(*)::int AS n, count(DISTINCT batch_id)::int AS batches FROM events`.execute(db),
  );
  const { n: emptyEvents } = await one(
    sql<{ n: number }>`
      SELECT count(*)::int AS n FROM events e
      WHERE NOT EXISTS (SELECT 1 FROM event_detections ed WHERE ed.event_id = e.id)`.execute(db),
  );
  const { n: alerts } = await one(sql<{ n: number }>`SELECT count(*)::int AS n FROM alerts`.execute(db));
  const duplicateAlerts = await sql<{ event_id: number; rule_id: string | null; n: number }>`
    SELECT event_id, rule_id, count(*)::int AS n FROM alerts GROUP BY event_id, rule_id HAVING count(*) > 1`.execute(
    db,
  );
  const miscounted = await sql<{ id: number; recorded: number; linked: number }>`
    SELECT e.id, e.detection_count AS recorded, count(ed.detection_id)::int AS linked
    FROM events e LEFT JOIN event_detections ed ON ed.event_id = e.id
    GROUP BY e.id HAVING count(ed.detection_id) <> e.detection_count ORDER BY e.id`.execute(db);
  return {
    files,
    detections,
    links,
    unlinked,
    events: events.n,
    eventBatches: events.batches,
    emptyEvents,
    alerts,
    duplicateAlerts: duplicateAlerts.rows,
    miscounted: miscounted.rows,
  };
}

/**
 * Polls until every detection is in an event and every event has `alertsPerEvent` alerts, and nothing changed for
 * `quietMs` (batches closed, analysis done); returns the report. Throws with the last report on timeout.
 */
export async function waitForSettledEvents(
  db: Db,
  options: { timeoutMs: number; quietMs?: number; alertsPerEvent?: number },
): Promise<PipelineReport> {
  const deadline = Date.now() + options.timeoutMs;
  const quietMs = options.quietMs ?? 1500;
  let last: PipelineReport | undefined;
  let lastKey = '';
  let stableSince = Date.now();
  for (;;) {
    const report = await pipelineReport(db).catch(() => undefined);
    if (report !== undefined) {
      const key = `${report.detections}/${report.links.rows}/${report.events}/${report.alerts}`;
      if (key !== lastKey) stableSince = Date.now();
      lastKey = key;
      last = report;
      const settled =
        report.detections > 0 &&
        report.unlinked === 0 &&
        (options.alertsPerEvent === undefined || report.alerts === report.events * options.alertsPerEvent);
      if (settled && Date.now() - stableSince >= quietMs) return report;
    }
    if (Date.now() > deadline) {
      throw new Error(`events did not settle in ${options.timeoutMs} ms; last report: ${JSON.stringify(last)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

const isFinish = (l: LogLine) =>
  (l.msg === 'file processed' || l.msg.startsWith('file rejected')) && typeof l.media_file_id === 'number';

/** Counts, per media file id, the 'file processed' / 'file rejected' log lines of one or more HSI processes. */
export class FinishedFiles {
  readonly counts = new Map<number, number>();
  /** When each file first finished (Date.now()). */
  readonly firstAt = new Map<number, number>();

  /** Follows `hsi`'s log until it exits (or `forMs` passes). */
  follow(hsi: HsiProcess, forMs = 170_000): void {
    void hsi
      .waitForLine((l) => {
        if (isFinish(l)) this.add(l.media_file_id as number);
        return false;
      }, forMs)
      .catch(() => undefined);
  }

  get size(): number {
    return this.counts.size;
  }

  /** Files logged as finished more than once. */
  get repeated(): number[] {
    return [...this.counts].flatMap(([id, n]) => (n > 1 ? [id] : []));
  }

  /** Files that finished after `at`. */
  finishedAfter(at: number): number {
    return [...this.firstAt.values()].filter((t) => t > at).length;
  }

  private add(id: number): void {
    this.counts.set(id, (this.counts.get(id) ?? 0) + 1);
    if (!this.firstAt.has(id)) this.firstAt.set(id, Date.now());
  }
}

/** Polls `check` every 50 ms until it is true; bounded by `timeoutMs`. */
export async function eventually(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** An alert rule that raises one alert per event (env values), so duplicate alerts would show. */
export const ALERT_EVERY_EVENT_ENV: Readonly<Record<string, string>> = {
  HSI_ALERTS_DEFAULT_RULES: 'false',
  HSI_ALERTS_RULES: JSON.stringify([
    { name: 'Every event', severity: 'low', risk_threshold: 0, dedup_key_template: '{event_id}' },
  ]),
};
