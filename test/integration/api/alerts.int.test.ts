import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getAlert } from '../../../src/storage/alert.repository.js';
import type { SecurityEvent } from '../../../src/storage/event.repository.js';
import { ENGINES, engineUnavailable } from '../../support/stores.js';
import { type ApiHarness, call, createHarness, type ErrorJson, seedEvent } from './harness.js';

interface AlertJson {
  id: string;
  event_id: number;
  camera_id: string;
  status: string;
  severity: string;
  acknowledged_by: string | null;
  dismissed_by: string | null;
}

const T0 = Date.parse('2026-03-02T12:00:00Z');
const RULE = {
  name: 'Risky person',
  severity: 'high',
  risk_threshold: 60,
  object_types: ['person'],
  cooldown_seconds: 0,
  dedup_key_template: '{event_id}',
};

for (const engine of ENGINES) {
  const skip = await engineUnavailable(engine);
  if (skip) console.warn(`skipping ${engine} alerts API tests: ${skip}`);

  describe.skipIf(skip !== undefined)(`alerts and alert rules API on ${engine}`, () => {
    let h: ApiHarness;
    let risky: SecurityEvent[];
    let calm: SecurityEvent;
    let ruleId: string;

    beforeAll(async () => {
      h = await createHarness(engine);
      risky = [];
      for (let i = 0; i < 3; i++) {
        risky.push(
          await seedEvent(h.db, {
            summary: `Stranger trying the door handle (${i})`,
            riskScore: 80,
            riskLevel: 'high',
            startedAt: new Date(T0 + i * 60_000),
          }),
        );
      }
      calm = await seedEvent(h.db, {
        cameraId: 'driveway',
        summary: 'Car parked',
        riskScore: 20,
        detections: [{ objectType: 'car', confidence: 0.8 }],
        startedAt: new Date(T0 + 600_000),
      });
    });
    afterAll(async () => h?.close());

    it('creates a rule, refuses a second of the same name, lists and shows it', async () => {
      const created = await call<Record<string, unknown>>(h.app, {
        method: 'POST',
        url: '/api/alert-rules',
        payload: RULE,
      });
      expect(created.res.statusCode).toBe(201);
      expect(created.json).toMatchObject({ ...RULE, enabled: true, source: 'api', camera_ids: null, schedule: null });
      ruleId = created.json.id as string;
      const again = await call<ErrorJson>(h.app, { method: 'POST', url: '/api/alert-rules', payload: RULE });
      expect([again.res.statusCode, again.json.error.code]).toStrictEqual([409, 'CONFLICT']);
      const list = await call<{ rules: { id: string }[] }>(h.app, { url: '/api/alert-rules' });
      expect(list.json.rules.map((r) => r.id)).toStrictEqual([ruleId]);
      const one = await call<{ name: string }>(h.app, { url: `/api/alert-rules/${ruleId}` });
      expect(one.json.name).toBe('Risky person');
      for (const id of ['00000000-0000-4000-8000-00000000ffff', 'not-a-uuid']) {
        expect((await h.app.inject({ url: `/api/alert-rules/${id}` })).statusCode).toBe(404);
      }
    });

    it('answers 400 naming the field of an invalid rule', async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ ...RULE, name: 'x', risk_threshold: 150 }, 'risk_threshold'],
        [{ ...RULE, name: 'x', schedule: { start: '25:00', end: '06:00' } }, 'schedule.start'],
        [
          { ...RULE, name: 'x', schedule: { start: '22:00', end: '06:00', timezone: 'Mars/Base' } },
          'schedule.timezone',
        ],
        [{ ...RULE, name: 'x', dedup_key_template: '{nope}' }, 'dedup_key_template'],
        [{ ...RULE, name: 'x', house_modes: ['on_holiday'] }, 'house_modes[0]'],
        [{ name: 'x' }, 'severity'],
        [{ ...RULE, name: 'x', priority: 3 }, 'priority'],
      ];
      for (const [payload, field] of cases) {
        const { res, json } = await call<ErrorJson>(h.app, { method: 'POST', url: '/api/alert-rules', payload });
        expect([res.statusCode, json.error.code, json.error.field]).toStrictEqual([400, 'INVALID_INPUT', field]);
      }
    });

    it('refuses channels (alerts reach people through Home Assistant only), naming the field', async () => {
      const payload = { ...RULE, name: 'Push me', channels: ['push'] };
      for (const [method, url] of [
        ['POST', '/api/alert-rules'],
        ['PUT', `/api/alert-rules/${ruleId}`],
      ] as const) {
        const { res, json } = await call<ErrorJson>(h.app, { method, url, payload });
        expect([res.statusCode, json.error]).toStrictEqual([
          400,
          { code: 'INVALID_INPUT', message: 'body channels is not a known field', field: 'channels' },
        ]);
      }
      const rule = await call<Record<string, unknown>>(h.app, { url: `/api/alert-rules/${ruleId}` });
      expect(Object.keys(rule.json)).not.toContain('channels');
      expect(rule.json.name).toBe('Risky person');
    });

    it('tests a rule against past events: which matched and why the others did not', async () => {
      const { res, json } = await call<{ evaluated: number; matched: number; results: Record<string, unknown>[] }>(
        h.app,
        { method: 'POST', url: `/api/alert-rules/${ruleId}/test`, payload: { limit: 10 } },
      );
      expect(res.statusCode).toBe(200);
      expect([json.evaluated, json.matched]).toStrictEqual([4, 3]);
      expect(json.results[0]).toMatchObject({
        event_id: calm.id,
        matched: false,
        failed_conditions: [
          { condition: 'risk_threshold', reason: 'risk score 20 is below 60' },
          { condition: 'object_types', reason: 'no object of type person' },
        ],
      });
      expect(json.results.slice(1).map((r) => [r.event_id, r.matched])).toStrictEqual(
        [...risky].reverse().map((e) => [e.id, true]),
      );
    });

    it('updates (renames) a rule, evaluates it with a given house mode, refuses config rules', async () => {
      const updated = await call<Record<string, unknown>>(h.app, {
        method: 'PUT',
        url: `/api/alert-rules/${ruleId}`,
        payload: { ...RULE, name: 'Risky person away', house_modes: ['armed_away'] },
      });
      expect(updated.res.statusCode).toBe(200);
      expect(updated.json).toMatchObject({ id: ruleId, name: 'Risky person away', house_modes: ['armed_away'] });
      const test = async (payload: object) =>
        (await call<{ matched: number }>(h.app, { method: 'POST', url: `/api/alert-rules/${ruleId}/test`, payload }))
          .json.matched;
      expect(await test({})).toBe(0);
      expect(await test({ house_mode: 'armed_away' })).toBe(3);

      const config = await call<{ id: string }>(h.app, {
        method: 'POST',
        url: '/api/alert-rules',
        payload: { name: 'From config', severity: 'low', enabled: false },
      });
      await h.db.updateTable('alert_rules').set({ source: 'config' }).where('id', '=', config.json.id).execute();
      const renamed = await call<ErrorJson>(h.app, {
        method: 'PUT',
        url: `/api/alert-rules/${ruleId}`,
        payload: { ...RULE, name: 'From config' },
      });
      expect([renamed.res.statusCode, renamed.json.error.message]).toStrictEqual([
        409,
        'another alert rule is named "From config"',
      ]);
      for (const method of ['PUT', 'DELETE'] as const) {
        const res = await h.app.inject({
          method,
          url: `/api/alert-rules/${config.json.id}`,
          ...(method === 'PUT' ? { payload: { name: 'From config', severity: 'high' } } : {}),
        });
        expect(res.statusCode).toBe(409);
      }
    });

    it('lists alerts by status, acknowledges and dismisses them, 409 on an illegal transition', async () => {
      const facts = { confidenceByType: { person: 0.9 }, zones: [], houseMode: 'armed_away' as const, timezone: 'UTC' };
      for (const event of risky) await h.alerts.evaluate(event, facts);
      const pending = await call<{ alerts: AlertJson[] }>(h.app, { url: '/api/alerts?status=pending' });
      expect(pending.json.alerts.map((a) => [a.event_id, a.camera_id, a.severity])).toStrictEqual(
        [...risky].reverse().map((e) => [e.id, 'front_door', 'high']),
      );
      const [first, second] = pending.json.alerts as [AlertJson, AlertJson, AlertJson];
      expect(Object.keys(first)).not.toContain('channels');

      const ack = await call<AlertJson>(h.app, { method: 'POST', url: `/api/alerts/${first.id}/acknowledge` });
      expect([ack.res.statusCode, ack.json.status, ack.json.camera_id]).toStrictEqual([
        200,
        'acknowledged',
        'front_door',
      ]);
      // Who did it: in the row and in the JSON, as the audit log names the API.
      expect([ack.json.acknowledged_by, ack.json.dismissed_by]).toStrictEqual(['api', null]);
      expect((await getAlert(h.db, first.id))?.acknowledgedBy).toBe('api');
      for (const action of ['acknowledge', 'dismiss']) {
        const again = await call<ErrorJson>(h.app, { method: 'POST', url: `/api/alerts/${first.id}/${action}` });
        expect([again.res.statusCode, again.json.error.code]).toStrictEqual([409, 'INVALID_TRANSITION']);
      }
      const dismissed = await call<AlertJson>(h.app, { method: 'POST', url: `/api/alerts/${second.id}/dismiss` });
      expect([dismissed.json.status, dismissed.json.acknowledged_by, dismissed.json.dismissed_by]).toStrictEqual([
        'dismissed',
        null,
        'api',
      ]);
      expect((await getAlert(h.db, second.id))?.dismissedBy).toBe('api');
      for (const id of ['00000000-0000-4000-8000-00000000abcd', 'nope']) {
        const missing = await call<ErrorJson>(h.app, { method: 'POST', url: `/api/alerts/${id}/acknowledge` });
        expect([missing.res.statusCode, missing.json.error.code]).toStrictEqual([404, 'NOT_FOUND']);
      }

      const bad = await call<ErrorJson>(h.app, {
        method: 'POST',
        url: '/api/alerts/acknowledge',
        payload: { all: false },
      });
      expect([bad.res.statusCode, bad.json.error.field]).toStrictEqual([400, 'all']);
      const all = await call<{ count: number; alerts: AlertJson[] }>(h.app, {
        method: 'POST',
        url: '/api/alerts/acknowledge',
        payload: { all: true },
      });
      expect([all.json.count, all.json.alerts.map((a) => [a.status, a.acknowledged_by])]).toStrictEqual([
        1,
        [['acknowledged', 'api']],
      ]);
      const active = await call<{ alerts: AlertJson[] }>(h.app, { url: '/api/alerts?status=active' });
      expect(active.json.alerts).toStrictEqual([]);
      const every = await call<{ alerts: AlertJson[] }>(h.app, { url: '/api/alerts' });
      expect(every.json.alerts.map((a) => a.status).sort()).toStrictEqual([
        'acknowledged',
        'acknowledged',
        'dismissed',
      ]);
      const audit = await call<{ entries: { actor: string }[] }>(h.app, { url: '/api/audit?resource_type=alert' });
      expect(audit.json.entries.map((e) => e.actor)).toStrictEqual(['api', 'api', 'api']);
    });

    it('deletes a rule; its alerts stay', async () => {
      expect((await h.app.inject({ method: 'DELETE', url: `/api/alert-rules/${ruleId}` })).statusCode).toBe(204);
      expect((await h.app.inject({ url: `/api/alert-rules/${ruleId}` })).statusCode).toBe(404);
      expect((await h.app.inject({ method: 'DELETE', url: `/api/alert-rules/${ruleId}` })).statusCode).toBe(404);
      const every = await call<{ alerts: { rule_id: string | null }[] }>(h.app, { url: '/api/alerts' });
      expect(every.json.alerts.map((a) => a.rule_id)).toStrictEqual([null, null, null]);
      const actions = await call<{ entries: { action: string }[] }>(h.app, {
        url: '/api/audit?resource_type=alert_rule',
      });
      expect(actions.json.entries.map((e) => e.action)).toStrictEqual([
        'alert_rule.delete',
        'alert_rule.create',
        'alert_rule.update',
        'alert_rule.create',
      ]);
    });
  });
}
