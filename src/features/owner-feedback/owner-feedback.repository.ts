import { RISK_LEVELS, type RiskLevel } from '../../domain/risk.js';
import type { DbOrTx } from '../../storage/database.js';
import { type LevelFeedback, levelFeedback } from './feedback-facts.js';

/**
 * The owner's feedback on a camera's events started at or after `since` (not deleted), per level those events were
 * given, low to critical; levels with no rated event are left out.
 */
export async function cameraFeedback(db: DbOrTx, cameraId: string, since: Date): Promise<LevelFeedback[]> {
  const query = db
    .selectFrom('events as e')
    .innerJoin('event_feedback as f', 'f.event_id', 'e.id')
    .select(['e.risk_level', 'f.feedback_type', 'f.expected_severity', (eb) => eb.fn.countAll<number>().as('n')])
    .where('e.camera_id', '=', cameraId)
    .where('e.started_at', '>=', since)
    .where('e.deleted_at', 'is', null)
    .groupBy(['e.risk_level', 'f.feedback_type', 'f.expected_severity']);
  const byLevel = new Map<RiskLevel, LevelFeedback>();
  for (const row of await query.execute()) {
    const level = row.risk_level;
    const entry = byLevel.get(level) ?? levelFeedback(level);
    const n = Number(row.n);
    entry.rated += n;
    if (row.feedback_type === 'accurate') entry.accurate += n;
    else if (row.feedback_type === 'false_positive') entry.falseAlarms += n;
    else if (row.feedback_type === 'missed_threat') entry.missedThreats += n;
    else if (row.feedback_type === 'severity_wrong' && row.expected_severity !== null) {
      const direction = RISK_LEVELS.indexOf(row.expected_severity) - RISK_LEVELS.indexOf(level);
      if (direction < 0) entry.tooHigh += n;
      else if (direction > 0) entry.tooLow += n;
    }
    byLevel.set(level, entry);
  }
  return RISK_LEVELS.flatMap((level) => byLevel.get(level) ?? []);
}
