import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RiskLevel } from '../../../src/domain/risk.js';
import { cameraFeedback } from '../../../src/features/owner-feedback/owner-feedback.repository.js';
import { getEventAudit, recordEventAudit } from '../../../src/storage/audit.repository.js';
import { ensureCamera } from '../../../src/storage/camera.repository.js';
import type { DbOrTx } from '../../../src/storage/database.js';
import { insertEventForBatch, softDeleteEvent } from '../../../src/storage/event.repository.js';
import type { FeedbackType } from '../../../src/storage/feedback.repository.js';
import { feedbackSummary, getFeedback, recordFeedback } from '../../../src/storage/feedback.repository.js';
import { ensurePromptVersion, listPromptVersions } from '../../../src/storage/prompt-version.repository.js';
import { newEvent } from '../../support/builders.js';
import { createTestStore, ENGINES, engineUnavailable, type TestStore } from '../../support/stores.js';

const SCORE: Readonly<Record<RiskLevel, number>> = { low: 10, medium: 40, high: 70, critical: 90 };
let batch = 0;

async function addEvent(
  db: DbOrTx,
  level: RiskLevel,
  startedAt = new Date('2026-03-01T12:00:00Z'),
  cameraId = 'porch',
) {
  batch += 1;
  const { event } = await insertEventForBatch(
    db,
    newEvent({
      batchId: `${cameraId}:${batch}`,
      cameraId,
      startedAt,
      riskScore: SCORE[level],
      riskLevel: level,
      summary: `${level} event`,
      llmPrompt: 'prompt text',
      analysisSource: 'llm',
      promptVersion: 'hsi-risk-1',
      model: 'qwen',
    }),
    [],
  );
  return event.id;
}

for (const engine of ENGINES) {
  const skip = await engineUnavailable(engine);
  if (skip) console.warn(`skipping ${engine} feedback/audit storage tests: ${skip}`);

  describe.skipIf(skip !== undefined)(`feedback, prompt versions and analysis audits on ${engine}`, () => {
    let t: TestStore;
    let db: DbOrTx;
    beforeAll(async () => {
      t = await createTestStore(engine);
      db = t.store.db;
      await ensureCamera(db, { id: 'porch', name: 'Porch', folderPath: '/media/Porch' });
    });
    afterAll(async () => t?.dispose());

    it('summarises events and false positives per risk level', async () => {
      expect((await feedbackSummary(db)).map((s) => s.events)).toStrictEqual([0, 0, 0, 0]);
      const low = [await addEvent(db, 'low'), await addEvent(db, 'low'), await addEvent(db, 'low')];
      const high = [await addEvent(db, 'high'), await addEvent(db, 'high'), await addEvent(db, 'high')];
      const critical = await addEvent(db, 'critical');
      const deleted = await addEvent(db, 'critical');
      await softDeleteEvent(db, deleted, new Date());
      await recordFeedback(db, { eventId: low[0]!, feedbackType: 'accurate' });
      await recordFeedback(db, { eventId: high[0]!, feedbackType: 'false_positive', notes: 'the cat' });
      await recordFeedback(db, { eventId: high[1]!, feedbackType: 'accurate' });
      // A changed answer replaces the first one: still one row per event.
      await recordFeedback(db, { eventId: high[1]!, feedbackType: 'false_positive' });
      await recordFeedback(db, {
        eventId: critical,
        feedbackType: 'severity_wrong',
        expectedSeverity: 'medium',
      });
      expect(await feedbackSummary(db)).toStrictEqual([
        { level: 'low', events: 3, share: 3 / 7, withFeedback: 1, falsePositives: 0, falsePositiveShare: 0 },
        { level: 'medium', events: 0, share: 0, withFeedback: 0, falsePositives: 0, falsePositiveShare: 0 },
        { level: 'high', events: 3, share: 3 / 7, withFeedback: 2, falsePositives: 2, falsePositiveShare: 1 },
        { level: 'critical', events: 1, share: 1 / 7, withFeedback: 1, falsePositives: 0, falsePositiveShare: 0 },
      ]);
      expect(await getFeedback(db, critical)).toMatchObject({
        feedbackType: 'severity_wrong',
        expectedSeverity: 'medium',
        notes: null,
      });
      const later = await feedbackSummary(db, { since: new Date('2026-03-02T00:00:00Z') });
      expect(later.map((s) => s.events)).toStrictEqual([0, 0, 0, 0]);
    });

    it("counts one camera's recent feedback per level, by kind, for the risk prompt", async () => {
      await ensureCamera(db, { id: 'gate', name: 'Gate', folderPath: '/media/Gate' });
      const at = new Date('2026-04-10T12:00:00Z');
      const rate = async (level: RiskLevel, feedbackType: FeedbackType, expectedSeverity?: RiskLevel, when = at) =>
        recordFeedback(db, { eventId: await addEvent(db, level, when, 'gate'), feedbackType, expectedSeverity });
      expect(await cameraFeedback(db, 'gate', new Date(0))).toStrictEqual([]);
      await rate('medium', 'false_positive');
      await rate('medium', 'false_positive');
      await rate('medium', 'severity_wrong', 'low');
      await rate('medium', 'accurate');
      await rate('low', 'missed_threat');
      await rate('low', 'severity_wrong', 'high');
      await rate('high', 'severity_wrong', 'high'); // "wrong" but the same level: counted as rated only
      await rate('high', 'false_positive', undefined, new Date('2026-01-01T00:00:00Z')); // before the window
      await addEvent(db, 'critical', at, 'gate'); // no feedback
      const deleted = await addEvent(db, 'high', at, 'gate');
      await recordFeedback(db, { eventId: deleted, feedbackType: 'false_positive' });
      await softDeleteEvent(db, deleted, new Date());
      // Another camera's feedback is not this camera's.
      await recordFeedback(db, { eventId: await addEvent(db, 'medium', at), feedbackType: 'false_positive' });

      const none = { accurate: 0, falseAlarms: 0, tooHigh: 0, tooLow: 0, missedThreats: 0 };
      expect(await cameraFeedback(db, 'gate', new Date('2026-03-15T00:00:00Z'))).toStrictEqual([
        { level: 'low', rated: 2, ...none, tooLow: 1, missedThreats: 1 },
        { level: 'medium', rated: 4, ...none, accurate: 1, falseAlarms: 2, tooHigh: 1 },
        { level: 'high', rated: 1, ...none },
      ]);
    });

    it('refuses feedback of an unknown type or on a missing event', async () => {
      const id = await addEvent(db, 'medium');
      const badType = recordFeedback(db, { eventId: id, feedbackType: 'meh' as 'accurate' });
      await expect(badType).rejects.toThrow(/feedback_type must be one of accurate, false_positive/);
      const badLevel = recordFeedback(db, { eventId: id, feedbackType: 'accurate', expectedSeverity: 'x' as 'low' });
      await expect(badLevel).rejects.toThrow(/expected_severity must be one of low, medium, high, critical/);
      await expect(recordFeedback(db, { eventId: 999_999, feedbackType: 'accurate' })).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
    });

    it('stores each prompt version once and reports an edited prompt under the same version', async () => {
      const first = await ensurePromptVersion(db, 'hsi-risk-1', 'You are the risk analyst.');
      expect(first).toMatchObject({ created: true, matches: true, promptVersion: { version: 'hsi-risk-1' } });
      const same = await ensurePromptVersion(db, 'hsi-risk-1', 'You are the risk analyst.');
      expect(same).toStrictEqual({ promptVersion: first.promptVersion, created: false, matches: true });
      const edited = await ensurePromptVersion(db, 'hsi-risk-1', 'You are a different analyst.');
      expect(edited).toStrictEqual({ promptVersion: first.promptVersion, created: false, matches: false });
      expect((await listPromptVersions(db)).map((p) => p.systemPrompt)).toStrictEqual(['You are the risk analyst.']);
    });

    it('keeps the first analysis audit of an event', async () => {
      const id = await addEvent(db, 'low');
      const audit = {
        eventId: id,
        analysisSource: 'llm' as const,
        promptVersion: 'hsi-risk-1',
        model: 'qwen',
        durationMs: 1234.4,
        llmAttempts: 2,
        rawResponse: '{"risk_score": 12}',
        corrections: { level: { from: 'high', to: 'low' } },
      };
      const stored = await recordEventAudit(db, audit);
      expect(stored).toMatchObject({ ...audit, durationMs: 1234 });
      const replay = await recordEventAudit(db, { ...audit, analysisSource: 'rules_fallback', llmAttempts: 0 });
      expect(replay).toStrictEqual(stored);
      expect(await getEventAudit(db, id)).toStrictEqual(stored);
      // The facts follow the latest analysis of the visit (a later one without facts keeps them).
      const facts = async () =>
        (await db.selectFrom('event_audits').select('facts').where('event_id', '=', id).executeTakeFirstOrThrow())
          .facts;
      await recordEventAudit(db, { ...audit, facts: { identity: [{ unknown: 0 }] } });
      await recordEventAudit(db, { ...audit, facts: { identity: [{ unknown: 1 }] } });
      expect(await facts()).toStrictEqual({ identity: [{ unknown: 1 }] });
      await recordEventAudit(db, { ...audit, facts: null });
      expect(await facts()).toStrictEqual({ identity: [{ unknown: 1 }] });
      expect(await getEventAudit(db, id)).toStrictEqual(stored);
    });
  });
}
