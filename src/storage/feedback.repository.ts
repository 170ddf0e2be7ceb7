import { sql } from 'kysely';
import { isRiskLevel, RISK_LEVELS, type RiskLevel } from '../domain/risk.js';
import { AppError } from '../lib/errors.js';
import type { DbOrTx } from './database.js';
import { type EventFeedbackRow, FEEDBACK_TYPES, type FeedbackType } from './tables/feedback.table.js';

export { FEEDBACK_TYPES, type FeedbackType } from './tables/feedback.table.js';

/** What the user said about one event's assessment (one per event; a later answer replaces the earlier one). */
export interface EventFeedback {
  id: number;
  eventId: number;
  feedbackType: FeedbackType;
  notes: string | null;
  /** The level the user expected, for `severity_wrong` and `missed_threat`. */
  expectedSeverity: RiskLevel | null;
  createdAt: Date;
}

export interface FeedbackInput {
  eventId: number;
  feedbackType: FeedbackType;
  notes?: string | null;
  expectedSeverity?: RiskLevel | null;
}

export function feedbackRowToFeedback(row: EventFeedbackRow): EventFeedback {
  return {
    id: row.id,
    eventId: row.event_id,
    feedbackType: row.feedback_type,
    notes: row.notes,
    expectedSeverity: row.expected_severity,
    createdAt: row.created_at,
  };
}

/**
 * Records (or replaces) the feedback on an event. An unknown type or severity is a permanent INVALID_INPUT error
 * naming the field; an event that does not exist is NOT_FOUND.
 */
export async function recordFeedback(db: DbOrTx, input: FeedbackInput): Promise<EventFeedback> {
  if (!(FEEDBACK_TYPES as readonly string[]).includes(input.feedbackType)) {
    throw new AppError(
      'INVALID_INPUT',
      `feedback_type must be one of ${FEEDBACK_TYPES.join(', ')}, got ${JSON.stringify(input.feedbackType)}`,
      { permanent: true },
    );
  }
  const expected = input.expectedSeverity ?? null;
  if (expected !== null && !isRiskLevel(expected)) {
    throw new AppError(
      'INVALID_INPUT',
      `expected_severity must be one of ${RISK_LEVELS.join(', ')}, got ${JSON.stringify(expected)}`,
      { permanent: true },
    );
  }
  const event = await db.selectFrom('events').select('id').where('id', '=', input.eventId).executeTakeFirst();
  if (event === undefined) {
    throw new AppError('NOT_FOUND', `event ${input.eventId} does not exist`, { permanent: true });
  }
  const values = {
    event_id: input.eventId,
    feedback_type: input.feedbackType,
    notes: input.notes ?? null,
    expected_severity: expected,
  };
  const row = await db
    .insertInto('event_feedback')
    .values(values)
    .onConflict((oc) =>
      oc.column('event_id').doUpdateSet({
        feedback_type: values.feedback_type,
        notes: values.notes,
        expected_severity: values.expected_severity,
        created_at: sql<Date>`now()`,
      }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
  return feedbackRowToFeedback(row);
}

export async function getFeedback(db: DbOrTx, eventId: number): Promise<EventFeedback | undefined> {
  const row = await db.selectFrom('event_feedback').selectAll().where('event_id', '=', eventId).executeTakeFirst();
  return row === undefined ? undefined : feedbackRowToFeedback(row);
}

/** Calibration figures of one risk level. */
export interface LevelFeedbackSummary {
  level: RiskLevel;
  events: number;
  /** events / all events (0..1; 0 when there are none). */
  share: number;
  /** Events of this level with any feedback. */
  withFeedback: number;
  falsePositives: number;
  /** falsePositives / withFeedback (0..1; 0 when no feedback): how often users called this level wrong. */
  falsePositiveShare: number;
}

const ratio = (part: number, whole: number) => (whole === 0 ? 0 : part / whole);

/**
 * Per risk level (low → critical, every level present): how many events (not deleted, started at or after `since`
 * when given), their share of all events, and how many of those users marked as false positives. The calibration
 * target is roughly 80 % low, 15 % medium, 4 % high, 1 % critical.
 */
export async function feedbackSummary(db: DbOrTx, options: { since?: Date } = {}): Promise<LevelFeedbackSummary[]> {
  let q = db
    .selectFrom('events as e')
    .leftJoin('event_feedback as f', 'f.event_id', 'e.id')
    .select((eb) => [
      'e.risk_level',
      eb.fn.countAll<number>().as('events'),
      eb.fn.count<number>('f.id').as('with_feedback'),
      sql<number>`count(*) FILTER (WHERE f.feedback_type = 'false_positive')`.as('false_positives'),
    ])
    .where('e.deleted_at', 'is', null)
    .groupBy('e.risk_level');
  if (options.since !== undefined) q = q.where('e.started_at', '>=', options.since);
  const rows = await q.execute();
  const byLevel = new Map(rows.map((r) => [r.risk_level, r]));
  const total = rows.reduce((sum, r) => sum + Number(r.events), 0);
  return RISK_LEVELS.map((level) => {
    const row = byLevel.get(level);
    const events = Number(row?.events ?? 0);
    const withFeedback = Number(row?.with_feedback ?? 0);
    const falsePositives = Number(row?.false_positives ?? 0);
    return {
      level,
      events,
      share: ratio(events, total),
      withFeedback,
      falsePositives,
      falsePositiveShare: ratio(falsePositives, withFeedback),
    };
  });
}
