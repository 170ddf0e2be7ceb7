import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertService } from '../../../src/alerts/alert.service.js';
import { catchUpAlerts, createAnalysisHandler } from '../../../src/analysis/analysis.worker.js';
import { OpenAiLlmClient } from '../../../src/analysis/llm-client.js';
import { DEFAULT_ALERT_RULES } from '../../../src/domain/alert-rules.js';
import type { BusEvents } from '../../../src/domain/events.js';
import {
  FEEDBACK_WINDOW_DAYS,
  ownerFeedbackSource,
} from '../../../src/features/owner-feedback/owner-feedback.feature.js';
import { systemClock } from '../../../src/lib/clock.js';
import { EventBus } from '../../../src/lib/event-bus.js';
import { silentLogger } from '../../../src/lib/logger.js';
import type { AnalysisJob, JobHandler } from '../../../src/queue/contracts.js';
import { seedDefaultRules } from '../../../src/storage/alert-rule.repository.js';
import { setHouseMode } from '../../../src/storage/arming.repository.js';
import { eventsWithAlertsDue, getEventByBatch } from '../../../src/storage/event.repository.js';
import { recordFeedback } from '../../../src/storage/feedback.repository.js';
import { FakeLlmServer, garbage, hang, json, status, text } from '../../support/fake-llm.js';
import { seedDetections } from '../../support/seed.js';

/** The fact sources every analysis has in production (the owner's feedback on the camera). */
const factSources = [ownerFeedbackSource(FEEDBACK_WINDOW_DAYS)];

import { createTestStore, ENGINES, engineUnavailable, type TestStore } from '../../support/stores.js';

const answer = {
  risk_score: 20,
  risk_level: 'low',
  summary: 'A delivery driver left a parcel.',
  reasoning: 'Daytime, brief visit.',
};

for (const engine of ENGINES) {
  const skip = await engineUnavailable(engine);
  if (skip) console.warn(`skipping analysis worker tests on ${engine}: ${skip}`);

  describe.skipIf(skip !== undefined)(`analysis worker on ${engine}`, () => {
    let t: TestStore;
    let llm: FakeLlmServer;
    let handler: JobHandler<AnalysisJob>;
    const bus = new EventBus<BusEvents>(silentLogger());
    const created: BusEvents['event.created'][] = [];
    const alerts: BusEvents['alert.created'][] = [];
    bus.on('event.created', (e) => void created.push(e));
    bus.on('alert.created', (e) => void alerts.push(e));

    beforeAll(async () => {
      t = await createTestStore(engine);
      llm = await FakeLlmServer.start();
      await seedDefaultRules(t.store.db, DEFAULT_ALERT_RULES);
      const log = silentLogger();
      handler = createAnalysisHandler({
        db: t.store.db,
        bus,
        log,
        clock: systemClock,
        alerts: new AlertService({ db: t.store.db, bus, log, clock: systemClock }),
        llm: new OpenAiLlmClient({ url: llm.url, model: 'fake-7b', timeoutMs: 300, log }),
        timeZone: 'Europe/Berlin',
        factSources,
      });
    });
    afterAll(async () => {
      await llm?.close();
      await t?.dispose();
    });

    let batch = 0;
    async function analyse(camera: string, objectType = 'person') {
      const ids = await seedDetections(t.store.db, camera, [{ objectType, confidence: 0.8 }]);
      batch += 1;
      const now = Date.now();
      const job: AnalysisJob = {
        batchId: `${camera}:${ids[0]}`,
        cameraId: camera,
        detectionIds: ids,
        isFastPath: false,
        reason: 'idle',
        startedAt: now - 5000,
        endedAt: now - 1000,
        closedAt: now,
      };
      await handler(job, { id: `b${batch}`, attempt: 1, maxAttempts: 3 });
      const event = await getEventByBatch(t.store.db, job.batchId);
      const links = await t.store.db
        .selectFrom('event_detections')
        .selectAll()
        .where('detection_id', 'in', ids)
        .execute();
      return { event: event!, job, ids, links };
    }

    it('stores the LLM answer and sends the JSON Schema with the request', async () => {
      llm.reply(json(answer));
      const { event, links } = await analyse('porch');
      expect(event).toMatchObject({ riskScore: 20, riskLevel: 'low', analysisSource: 'llm', model: 'fake-7b' });
      expect(links).toHaveLength(1);
      const body = llm.completions.at(-1)!.body as {
        response_format: { json_schema: { schema: { required: string[] } } };
      };
      expect(body.response_format.json_schema.schema.required).toContain('risk_score');
      const audit = await t.store.db
        .selectFrom('event_audits')
        .selectAll()
        .where('event_id', '=', event.id)
        .executeTakeFirst();
      expect(audit).toMatchObject({ analysis_source: 'llm', llm_attempts: 1 });
    });

    it("gives the LLM the owner's feedback on the camera's past events", async () => {
      llm.reply(json(answer));
      const first = await analyse('side_gate');
      const userMessage = () =>
        (llm.completions.at(-1)!.body as { messages: { role: string; content: string }[] }).messages.find(
          (m) => m.role === 'user',
        )?.content;
      expect(userMessage()).toContain("Owner feedback on this camera's events (last 30 days): none");
      await recordFeedback(t.store.db, { eventId: first.event.id, feedbackType: 'false_positive' });
      llm.reply(json(answer));
      await analyse('side_gate');
      expect(userMessage()).toContain(
        "Owner feedback on this camera's events (last 30 days), by the level they were given:\n" +
          '- low events: 1 rated: 1 false alarm',
      );
    });

    it('reads JSON wrapped in <think> and prose', async () => {
      llm.reply(
        text(`<think>Parcel? Probably fine.</think>Here is my answer: ${JSON.stringify(answer)} Hope it helps.`),
      );
      expect((await analyse('porch')).event.analysisSource).toBe('llm');
    });

    it('derives the level from the score when they disagree', async () => {
      llm.reply(json({ ...answer, risk_score: 90, risk_level: 'low' }));
      const { event } = await analyse('garden');
      expect(event).toMatchObject({ riskScore: 90, riskLevel: 'critical', analysisSource: 'llm' });
      // The default "critical risk" rule raises one critical alert for it.
      expect(alerts.map((a) => a.alert).filter((a) => a.eventId === event.id)).toMatchObject([
        { severity: 'critical' },
      ]);
    });

    it.each([
      ['invalid JSON', () => [text('{"risk_score": 40, oops'), text('no json at all')]],
      ['HTTP 500', () => [status(500), status(500)]],
      ['a proxy error page', () => [garbage(), garbage()]],
      ['no answer (timeout)', () => [hang(), hang()]],
    ])('falls back to the rules after %s twice, still exactly one event', async (_name, behaviours) => {
      llm.reply(...behaviours());
      const { event, links, job, ids } = await analyse('drive', 'car');
      expect(event.analysisSource).toBe('rules_fallback');
      expect(['low', 'medium', 'high', 'critical']).toContain(event.riskLevel);
      expect(links).toHaveLength(1);
      // A retry of the same job changes nothing.
      await handler(job, { id: 'again', attempt: 2, maxAttempts: 3 });
      const events = await t.store.db.selectFrom('events').select('id').where('batch_id', '=', job.batchId).execute();
      expect(events).toHaveLength(1);
      expect(
        await t.store.db.selectFrom('event_detections').selectAll().where('detection_id', 'in', ids).execute(),
      ).toHaveLength(1);
    });

    it('raises an alert once per dedup key within the cooldown', async () => {
      llm.reply(
        json({ ...answer, risk_score: 95, risk_level: 'critical' }),
        json({ ...answer, risk_score: 96, risk_level: 'critical' }),
      );
      const first = await analyse('gate');
      const second = await analyse('gate');
      const raised = alerts.map((a) => a.alert).filter((a) => a.cameraId === 'gate');
      expect(raised.map((a) => a.eventId)).toStrictEqual([first.event.id]);
      expect(second.event.riskLevel).toBe('critical');
    });

    describe('a visit is one event with a lifecycle', () => {
      let rules: JobHandler<AnalysisJob>;
      const updated: BusEvents['event.updated'][] = [];
      bus.on('event.updated', (e) => void updated.push(e));
      // 14:00 in Berlin on a Wednesday: day, no arming.
      const DAY = Date.UTC(2026, 5, 10, 12, 0, 0);
      beforeAll(() => {
        const log = silentLogger();
        rules = createAnalysisHandler({
          db: t.store.db,
          bus,
          log,
          clock: systemClock,
          alerts: new AlertService({ db: t.store.db, bus, log, clock: systemClock }),
          llm: undefined,
          timeZone: 'Europe/Berlin',
          factSources,
        });
      });
      const job = (batchId: string, camera: string, phase: 'open' | 'close', ids: number[], at = DAY): AnalysisJob => ({
        batchId,
        cameraId: camera,
        phase,
        detectionIds: ids,
        isFastPath: phase === 'open' || batchId.endsWith('fp'),
        reason: phase === 'open' ? 'fast_path' : 'idle',
        startedAt: at,
        endedAt: at + (phase === 'open' ? 0 : 8000),
        closedAt: at + (phase === 'open' ? 0 : 38_000),
      });
      const run = (j: AnalysisJob) => rules(j, { id: j.batchId, attempt: 1, maxAttempts: 3 });

      it('counts a clip of one person as one person, per real frame, not per file', async () => {
        // An 8 s clip: one person in frames 0-4, then a person and a dog in frames 5-7.
        const frames = Array.from({ length: 8 }, (_, f) => [
          { objectType: 'person', confidence: 0.85, frameIndex: f },
          ...(f >= 5 ? [{ objectType: 'dog', confidence: 0.8, frameIndex: f }] : []),
        ]).flat();
        const ids = await seedDetections(t.store.db, 'clip_cam', frames, new Date(DAY));
        await run(job(`clip_cam:${ids[0]}`, 'clip_cam', 'close', ids));
        const event = await getEventByBatch(t.store.db, `clip_cam:${ids[0]}`);
        expect(event?.summary).toMatch(/^A person and a dog at clip cam/);
        expect(event?.reasoning).not.toMatch(/people at once/);
        expect(event).toMatchObject({ riskLevel: 'low', detectionCount: 11 });
      });

      it('opens the event with the whole frame, joins the rest of the burst, and closes it once', async () => {
        // Two people in the first snapshot (one confident: the fast path), then two more snapshots of the burst.
        const first = await seedDetections(
          t.store.db,
          'visit_cam',
          [
            { objectType: 'person', confidence: 0.95 },
            { objectType: 'person', confidence: 0.7 },
          ],
          new Date(DAY),
        );
        const batchId = `visit_cam:${first[0]}`;
        const createdBefore = created.length;
        await run(job(batchId, 'visit_cam', 'open', first));
        const opened = await getEventByBatch(t.store.db, batchId);
        expect(opened).toMatchObject({ closedAt: null, detectionCount: 2, isFastPath: true });
        expect(opened?.summary).toMatch(/^2 people at visit cam/);
        expect(opened?.reasoning).toContain('2 people at once');
        expect(created.slice(createdBefore).map((c) => c.event.batchId)).toStrictEqual([batchId]);

        const later = [
          ...(await seedDetections(t.store.db, 'visit_cam', [{ objectType: 'person', confidence: 0.9 }])),
          ...(await seedDetections(t.store.db, 'visit_cam', [{ objectType: 'person', confidence: 0.92 }])),
        ];
        const close = job(batchId, 'visit_cam', 'close', [...first, ...later]);
        await run(close);
        const closed = await getEventByBatch(t.store.db, batchId);
        expect(closed).toMatchObject({ id: opened?.id, detectionCount: 4, isFastPath: true });
        expect(closed?.closedAt).toBeInstanceOf(Date);
        // Its own opened event is not "recent activity" for itself.
        expect(closed?.reasoning).not.toMatch(/recent events/);
        expect(created.slice(createdBefore)).toHaveLength(1);
        const mine = updated.filter((u) => u.event.batchId === batchId);
        expect(mine.map((u) => [u.previous.closedAt, u.event.closedAt !== null])).toStrictEqual([[null, true]]);
        const links = await t.store.db
          .selectFrom('event_detections')
          .select(['detection_id', 'event_id'])
          .where('detection_id', 'in', [...first, ...later])
          .execute();
        expect(links.map((l) => l.event_id)).toStrictEqual(Array(4).fill(opened?.id));

        // Replays of both steps (a crash, a retry) change nothing and announce nothing.
        await run(job(batchId, 'visit_cam', 'open', first));
        await run(close);
        expect(
          await t.store.db.selectFrom('events').select('id').where('batch_id', '=', batchId).execute(),
        ).toHaveLength(1);
        expect(updated.filter((u) => u.event.batchId === batchId)).toHaveLength(1);
        expect(created.slice(createdBefore)).toHaveLength(1);
      });

      it('closes an opened event that nothing joined without analysing it again', async () => {
        const ids = await seedDetections(
          t.store.db,
          'quiet_cam',
          [{ objectType: 'person', confidence: 0.95 }],
          new Date(DAY),
        );
        const batchId = `quiet_cam:${ids[0]}`;
        await run(job(batchId, 'quiet_cam', 'open', ids));
        const opened = await getEventByBatch(t.store.db, batchId);
        await run(job(batchId, 'quiet_cam', 'close', ids));
        const closed = await getEventByBatch(t.store.db, batchId);
        expect(closed).toMatchObject({ riskScore: opened?.riskScore, summary: opened?.summary, detectionCount: 1 });
        expect(closed?.closedAt).toBeInstanceOf(Date);
        const audits = await t.store.db
          .selectFrom('event_audits')
          .select('id')
          .where('event_id', '=', closed!.id)
          .execute();
        expect(audits).toHaveLength(1);
      });

      it('arms a camera without zones while away, raises one alert per visit and escalates it', async () => {
        const escalations: BusEvents['alert.updated'][] = [];
        const off = bus.on('alert.updated', (e) => void escalations.push(e));
        await setHouseMode(t.store.db, 'armed_away', 'test', new Date());
        try {
          // 00:00 in Berlin (summer): night; the camera has no zones, so away arms its whole view.
          const midnight = Date.UTC(2026, 5, 10, 22, 0, 0);
          const first = await seedDetections(t.store.db, 'away_cam', [{ objectType: 'person', confidence: 0.95 }]);
          const batchId = `away_cam:${first[0]}`;
          await run(job(batchId, 'away_cam', 'open', first, midnight));
          const opened = await getEventByBatch(t.store.db, batchId);
          expect(opened).toMatchObject({ riskScore: 84, riskLevel: 'high' });
          expect(opened?.reasoning).toContain('camera armed (away, no zones) +35');
          const alertsOf = () =>
            t.store.db.selectFrom('alerts').selectAll().where('event_id', '=', opened!.id).execute();
          // "Person in an armed zone at night" and "High risk while away" both match: one alert names both.
          const [raised, ...more] = await alertsOf();
          expect(more).toStrictEqual([]);
          expect(raised?.severity).toBe('high');
          expect([DEFAULT_ALERT_RULES[0]!.id, DEFAULT_ALERT_RULES[2]!.id]).toContain(raised?.rule_id);
          expect((raised!.metadata as { matched_rules: string[] }).matched_rules.sort()).toStrictEqual([
            'High risk while away',
            'Person in an armed zone at night',
          ]);
          // Two more people in one frame join the visit: critical now; the same alert escalates.
          const second = await seedDetections(t.store.db, 'away_cam', [
            { objectType: 'person', confidence: 0.9 },
            { objectType: 'person', confidence: 0.85 },
          ]);
          await run(job(batchId, 'away_cam', 'close', [...first, ...second], midnight));
          expect(await getEventByBatch(t.store.db, batchId)).toMatchObject({ riskLevel: 'critical' });
          const after = await alertsOf();
          expect(after.map((a) => [a.id, a.severity, a.rule_id])).toStrictEqual([
            [raised!.id, 'critical', DEFAULT_ALERT_RULES[1]!.id],
          ]);
          expect(after[0]!.metadata).toMatchObject({ escalated_from: 'high' });
          expect(alerts.filter((a) => a.alert.eventId === opened!.id)).toHaveLength(1);
          expect(escalations.map((e) => [e.alert.id, e.action, e.alert.severity])).toStrictEqual([
            [raised!.id, 'escalate', 'critical'],
          ]);
          // Evaluated again (a retry): nothing new.
          await run(job(batchId, 'away_cam', 'close', [...first, ...second], midnight));
          expect(await alertsOf()).toHaveLength(1);
          expect(escalations).toHaveLength(1);
        } finally {
          off();
          await setHouseMode(t.store.db, 'disarmed', 'test', new Date());
        }
      });

      it('evaluates the alerts of an event whose process died before its alert step (an outbox on the event)', async () => {
        const log = silentLogger();
        const realAlerts = new AlertService({ db: t.store.db, bus, log, clock: systemClock });
        // The process "dies" between storing the analysis and evaluating its alerts.
        const dying = createAnalysisHandler({
          db: t.store.db,
          bus,
          log,
          clock: systemClock,
          alerts: {
            evaluate: async () => {
              throw new Error('killed');
            },
          } as unknown as AlertService,
          llm: undefined,
          timeZone: 'Europe/Berlin',
          factSources,
        });
        const ids = await seedDetections(t.store.db, 'crash_cam', [{ objectType: 'person', confidence: 0.95 }]);
        const batchId = `crash_cam:${ids[0]}`;
        // 03:00 in Berlin: the default "critical"/"person at night" rules do not match a disarmed house; use a rule
        // that alerts every event of this camera.
        const rule = await t.store.db
          .insertInto('alert_rules')
          .values({ name: 'crash cam', severity: 'medium', camera_ids: ['crash_cam'], risk_threshold: 0 })
          .returning('id')
          .executeTakeFirstOrThrow();
        try {
          await expect(
            dying(job(batchId, 'crash_cam', 'open', ids, Date.UTC(2026, 5, 10, 1)), {
              id: 'x',
              attempt: 1,
              maxAttempts: 1,
            }),
          ).rejects.toThrow('killed');
          const due = await eventsWithAlertsDue(t.store.db, new Date());
          const event = due.find((e) => e.batchId === batchId);
          expect(event).toBeDefined();
          const alertsOf = () =>
            t.store.db.selectFrom('alerts').select('rule_id').where('event_id', '=', event!.id).execute();
          expect(await alertsOf()).toStrictEqual([]);
          await catchUpAlerts(
            {
              db: t.store.db,
              bus,
              log,
              clock: systemClock,
              alerts: realAlerts,
              llm: undefined,
              timeZone: 'UTC',
              factSources,
            },
            event!,
          );
          expect(await alertsOf()).toStrictEqual([{ rule_id: rule.id }]);
          expect((await eventsWithAlertsDue(t.store.db, new Date())).map((e) => e.id)).not.toContain(event!.id);
        } finally {
          await t.store.db.deleteFrom('alert_rules').where('id', '=', rule.id).execute();
        }
      });

      it('never lowers a visit: a lower final analysis keeps the score announced', async () => {
        // Opened at 02:00 (night, medium); the close job's facts say day (14:00): the re-analysis scores lower.
        const night = Date.UTC(2026, 5, 10, 0, 0, 0);
        const ids = await seedDetections(
          t.store.db,
          'late_cam',
          [{ objectType: 'person', confidence: 0.95 }],
          new Date(night),
        );
        const batchId = `late_cam:${ids[0]}`;
        await run(job(batchId, 'late_cam', 'open', ids, night));
        const opened = await getEventByBatch(t.store.db, batchId);
        const more = await seedDetections(t.store.db, 'late_cam', [{ objectType: 'person', confidence: 0.9 }]);
        await run(job(batchId, 'late_cam', 'close', [...ids, ...more], DAY));
        const closed = await getEventByBatch(t.store.db, batchId);
        expect(closed?.riskScore).toBe(opened?.riskScore);
        expect(closed?.riskLevel).toBe('medium');
        expect(closed?.reasoning).toContain('the visit keeps its higher score');
        expect(closed).toMatchObject({ detectionCount: 2 });
      });
    });

    it('announces each new event once on the bus', () => {
      const ids = created.map((c) => c.event.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(created.length).toBeGreaterThanOrEqual(8);
    });
  });
}
