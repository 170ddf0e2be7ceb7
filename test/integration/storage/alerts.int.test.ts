import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ALERT_RULES } from '../../../src/domain/alert-rules.js';
import {
  countActiveAlerts,
  getAlert,
  insertAlert,
  insertAlertUnlessCooling,
  lastAlertForDedupKey,
  listActiveAlerts,
  type NewAlert,
  transitionAlertStatus,
} from '../../../src/storage/alert.repository.js';
import {
  deleteRule,
  getRule,
  listEnabledRules,
  listRules,
  type StoredAlertRule,
  seedDefaultRules,
  upsertRuleByName,
} from '../../../src/storage/alert-rule.repository.js';
import { ensureCamera } from '../../../src/storage/camera.repository.js';
import type { DbOrTx } from '../../../src/storage/database.js';
import { insertEventForBatch } from '../../../src/storage/event.repository.js';
import { newEvent } from '../../support/builders.js';
import { createTestStore, ENGINES, engineUnavailable, type TestStore } from '../../support/stores.js';

const T0 = Date.parse('2026-03-01T23:00:00Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000);
const [NIGHT, CRITICAL, AWAY] = DEFAULT_ALERT_RULES.map((r) => r.id) as [string, string, string];
let batch = 0;

async function addEvent(db: DbOrTx): Promise<number> {
  batch += 1;
  const input = newEvent({
    batchId: `drive:${batch}`,
    cameraId: 'drive',
    startedAt: at(batch),
    riskScore: 90,
    riskLevel: 'critical',
    summary: 'Two people forcing the garage door',
  });
  return (await insertEventForBatch(db, input, [])).event.id;
}

function alertFor(eventId: number, ruleId: string, createdAt: Date): NewAlert {
  return {
    eventId,
    ruleId,
    severity: 'critical',
    dedupKey: `drive:${ruleId}`,
    message: 'Critical event on Drive',
    channels: ['mqtt'],
    metadata: { risk_score: 90 },
    createdAt,
  };
}

for (const engine of ENGINES) {
  const skip = await engineUnavailable(engine);
  if (skip) console.warn(`skipping ${engine} alert storage tests: ${skip}`);

  describe.skipIf(skip !== undefined)(`alert rules and alerts on ${engine}`, () => {
    let t: TestStore;
    let db: DbOrTx;
    let seeded: StoredAlertRule[];
    beforeAll(async () => {
      t = await createTestStore(engine);
      db = t.store.db;
      await ensureCamera(db, { id: 'drive', name: 'Drive', folderPath: '/media/Drive' });
      seeded = await seedDefaultRules(db, DEFAULT_ALERT_RULES);
    });
    afterAll(async () => t?.dispose());

    it('seeds the default rules on first run only, exactly as defined', async () => {
      const byName = [...DEFAULT_ALERT_RULES].sort((a, b) => a.name.localeCompare(b.name));
      expect(seeded.map(({ description, source, createdAt, updatedAt, ...rule }) => rule)).toStrictEqual(byName);
      expect(seeded.every((r) => r.source === 'default' && r.description === null)).toBe(true);
      expect(await seedDefaultRules(db, DEFAULT_ALERT_RULES)).toStrictEqual([]);
      await deleteRule(db, AWAY);
      expect(await seedDefaultRules(db, DEFAULT_ALERT_RULES)).toStrictEqual([]);
      expect((await listRules(db)).map((r) => r.id)).toStrictEqual([CRITICAL, NIGHT]);
    });

    it('upserts rules by name, keeps the id, and refuses invalid values', async () => {
      const base = { ...DEFAULT_ALERT_RULES[1]!, id: undefined, source: 'config' as const };
      const updated = await upsertRuleByName(db, { ...base, riskThreshold: 80, enabled: false });
      expect(updated).toMatchObject({ id: CRITICAL, riskThreshold: 80, enabled: false });
      expect((await listEnabledRules(db)).map((r) => r.id)).toStrictEqual([NIGHT]);
      const created = await upsertRuleByName(db, {
        ...base,
        name: 'Car in the drive',
        objectTypes: ['car'],
        schedule: { days: ['sat', 'sun'], start: '08:00', end: '20:00', timezone: 'Europe/Berlin' },
        houseModes: ['armed_home', 'armed_away'],
        minConfidence: 0.75,
      });
      expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(await getRule(db, created.id)).toStrictEqual(created);
      expect(created).toMatchObject({ schedule: { days: ['sat', 'sun'] }, minConfidence: 0.75, zoneIds: null });
      expect(await getRule(db, 'not-a-uuid')).toBeUndefined();
      const bad = upsertRuleByName(db, { ...base, name: 'Bad', riskThreshold: 120, cooldownSeconds: -1 });
      await expect(bad).rejects.toThrow(
        'alert rule "Bad": risk_threshold must be an integer 0-100, got 120; cooldown_seconds must be a whole number',
      );
      await upsertRuleByName(db, { ...base, enabled: true, riskThreshold: 85 });
    });

    it('raises one alert per (event, rule) however often the event is evaluated', async () => {
      const eventId = await addEvent(db);
      const first = await insertAlert(db, alertFor(eventId, CRITICAL, at(10)));
      expect(first.created).toBe(true);
      expect(first.alert).toMatchObject({ status: 'pending', versionId: 1, metadata: { risk_score: 90 } });
      const again = await insertAlert(db, alertFor(eventId, CRITICAL, at(20)));
      expect(again).toStrictEqual({ alert: first.alert, created: false });
      const other = await insertAlert(db, alertFor(eventId, NIGHT, at(10)));
      expect(other.created).toBe(true);
      expect(await lastAlertForDedupKey(db, `drive:${CRITICAL}`)).toStrictEqual(first.alert);
    });

    it('moves alerts through their lifecycle under an optimistic lock', async () => {
      const eventId = await addEvent(db);
      const { alert } = await insertAlert(db, alertFor(eventId, CRITICAL, at(100)));
      const delivered = await transitionAlertStatus(db, alert.id, 1, 'delivered', at(101));
      expect(delivered).toMatchObject({ status: 'delivered', versionId: 2, deliveredAt: at(101), updatedAt: at(101) });
      expect(await transitionAlertStatus(db, alert.id, 1, 'acknowledged', at(102))).toBeUndefined();
      const acked = await transitionAlertStatus(db, alert.id, 2, 'acknowledged', at(103));
      expect(acked).toMatchObject({ status: 'acknowledged', versionId: 3, acknowledgedAt: at(103) });
      expect(await transitionAlertStatus(db, alert.id, 3, 'dismissed', at(104))).toBeUndefined();
      expect(await getAlert(db, alert.id)).toStrictEqual(acked);
      await expect(transitionAlertStatus(db, alert.id, 3, 'pending', at(105))).rejects.toMatchObject({
        code: 'INVALID_TRANSITION',
      });
    });

    it('lists and counts active alerts (pending and delivered) newest first', async () => {
      const before = await countActiveAlerts(db);
      const [e1, e2, e3] = [await addEvent(db), await addEvent(db), await addEvent(db)];
      const older = (await insertAlert(db, alertFor(e1, CRITICAL, at(500)))).alert;
      const newer = (await insertAlert(db, alertFor(e2, CRITICAL, at(600)))).alert;
      const done = (await insertAlert(db, alertFor(e3, CRITICAL, at(700)))).alert;
      await transitionAlertStatus(db, older.id, 1, 'delivered', at(601));
      await transitionAlertStatus(db, done.id, 1, 'dismissed', at(701));
      expect(await countActiveAlerts(db)).toBe(before + 2);
      const active = await listActiveAlerts(db, 2);
      expect(active.map((a) => [a.id, a.status])).toStrictEqual([
        [newer.id, 'pending'],
        [older.id, 'delivered'],
      ]);
    });

    it('holds back a new alert during the dedup key cooldown, even when raised concurrently', async () => {
      const events = [];
      for (let i = 0; i < 5; i++) events.push(await addEvent(db));
      const [e1, e2, e3, e4, e5] = events as [number, number, number, number, number];
      const key = { dedupKey: 'drive:cooldown' };
      // Open every pooled connection first, so the four calls below really overlap on PostgreSQL.
      await Promise.all(Array.from({ length: 5 }, () => sql`SELECT pg_sleep(0.05)`.execute(db)));
      const results = await Promise.all(
        [e1, e2, e4, e5].map((e) => insertAlertUnlessCooling(db, { ...alertFor(e, CRITICAL, at(1000)), ...key }, 300)),
      );
      expect(results.map((r) => r.outcome).sort()).toStrictEqual(['cooldown', 'cooldown', 'cooldown', 'created']);
      const winner = results.find((r) => r.outcome === 'created');
      const cooling = results.find((r) => r.outcome === 'cooldown');
      if (winner?.outcome !== 'created' || cooling?.outcome !== 'cooldown') throw new Error('outcomes checked above');
      expect(cooling.lastAlert).toStrictEqual(winner.alert);
      // Evaluated again after the cooldown: the event's alert exists, no second one.
      const again = await insertAlertUnlessCooling(
        db,
        { ...alertFor(winner.alert.eventId, CRITICAL, at(1400)), ...key },
        300,
      );
      expect(again).toStrictEqual({ outcome: 'exists', alert: winner.alert });
      expect((await insertAlertUnlessCooling(db, { ...alertFor(e3, CRITICAL, at(1299)), ...key }, 300)).outcome).toBe(
        'cooldown',
      );
      const later = await insertAlertUnlessCooling(db, { ...alertFor(e3, CRITICAL, at(1300)), ...key }, 300);
      expect(later.outcome).toBe('created');
    });

    it('keeps past alerts when their rule is deleted', async () => {
      const eventId = await addEvent(db);
      const { alert } = await insertAlert(db, alertFor(eventId, NIGHT, at(2000)));
      expect(await deleteRule(db, NIGHT)).toBe(true);
      expect(await getAlert(db, alert.id)).toMatchObject({ id: alert.id, ruleId: null });
      expect(await deleteRule(db, NIGHT)).toBe(false);
    });
  });
}
