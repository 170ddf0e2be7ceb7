import type { Generated, Insertable, Selectable } from 'kysely';
import type { RiskLevel } from '../../domain/risk.js';

export const FEEDBACK_TYPES = ['accurate', 'false_positive', 'missed_threat', 'severity_wrong'] as const;
export type FeedbackType = (typeof FEEDBACK_TYPES)[number];

export interface EventFeedbackTable {
  id: Generated<number>;
  event_id: number;
  feedback_type: FeedbackType;
  notes: string | null;
  expected_severity: RiskLevel | null;
  created_at: Generated<Date>;
}

export type EventFeedbackRow = Selectable<EventFeedbackTable>;
export type NewEventFeedbackRow = Insertable<EventFeedbackTable>;
