import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingAsset, modelPath } from '../../support/env.js';
import { reanalyse, seedAlert, seedEvent } from '../../support/event-seed.js';
import { type HaSession, startHaSession, stopHaSession } from '../../support/ha-session.js';
import { type HomeAssistant, payloadsOf } from '../../support/home-assistant.js';
import { BACKENDS, backendsUnavailable, type TestHsi } from '../../support/hsi.js';

/**
 * A visit's event through its lifecycle (opened, re-analysed, closed), announced on the bus the way the analysis
 * stage does, as a Home Assistant client on the real broker sees it: the event stream says new/update/end, the
 * camera's security event entity fires once per visit, the risk sensors follow every change; an escalated alert
 * moves the active-alerts sensor without firing the hub's alert entity again.
 */

const assetsMissing = missingAsset(modelPath('yolox_nano.onnx'));
const SETTLE_MS = 500;
const PERSON = { objectType: 'person', confidence: 0.8, box: { x: 100, y: 100, width: 200, height: 400 } };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const backends of BACKENDS) {
  const skip = assetsMissing ?? (await backendsUnavailable(backends, { mosquitto: true }));
  if (skip) console.warn(`skipping the MQTT event lifecycle tests on ${backends}: ${skip}`);

  describe.skipIf(skip !== undefined)(`a visit's event as Home Assistant sees it, on ${backends}`, () => {
    let session: HaSession | undefined;
    let t: TestHsi;
    let ha: HomeAssistant;
    let base: string;

    beforeAll(async () => {
      session = await startHaSession(backends);
      ({ t, ha, base } = session);
    });
    afterAll(() => stopHaSession(backends, session));

    const parsed = (topic: string, from: number) =>
      payloadsOf(ha.messages, topic, from).map((p) => JSON.parse(p) as Record<string, unknown>);

    it('streams new, update and end; fires the security event once; the risk sensors follow each change', async () => {
      const from = ha.mark();
      const { db } = t.hsi.store;
      const opened = await seedEvent(db, {
        cameraId: 'porch',
        mediaPath: 'porch/absent.jpg',
        detections: [PERSON],
        riskScore: 30,
        closedAt: null,
      });
      t.hsi.bus.emit('event.created', { event: opened, latencyMs: 40 });
      const grown = await reanalyse(db, opened, 60, null);
      t.hsi.bus.emit('event.updated', { event: grown, previous: opened, latencyMs: 900 });
      const closed = await reanalyse(db, grown, 85, new Date());
      t.hsi.bus.emit('event.updated', { event: closed, previous: grown, latencyMs: 4000 });

      const events = `${base}/events/porch`;
      await ha.next(events, (p) => (JSON.parse(p) as { type?: string }).type === 'end', from);
      await sleep(SETTLE_MS);
      const stream = parsed(events, from);
      expect(stream.map((m) => [m.type, m.id, m.risk_score, m.risk_level])).toStrictEqual([
        ['new', opened.id, 30, 'medium'],
        ['update', opened.id, 60, 'high'],
        ['end', opened.id, 85, 'critical'],
      ]);
      expect(stream.map((m) => m.closed_at)).toStrictEqual([null, null, closed.closedAt?.toISOString()]);

      const fired = parsed(`${base}/cameras/porch/security_event`, from);
      expect(fired).toHaveLength(1);
      expect(fired[0]).toMatchObject({ event_type: 'medium', event_id: opened.id, risk_score: 30 });

      const risk = parsed(`${base}/cameras/porch/risk`, from);
      expect(risk.map((r) => [r.event_id, r.risk_score, r.risk_level])).toStrictEqual([
        [opened.id, 30, 'medium'],
        [opened.id, 60, 'high'],
        [opened.id, 85, 'critical'],
      ]);
    });

    it('an event created already closed: new, then end right after it, and one security event', async () => {
      const from = ha.mark();
      const final = await seedEvent(t.hsi.store.db, {
        cameraId: 'garden',
        mediaPath: 'garden/absent.jpg',
        detections: [PERSON],
        riskScore: 45,
        closedAt: new Date(),
      });
      t.hsi.bus.emit('event.created', { event: final, latencyMs: 3000 });
      const events = `${base}/events/garden`;
      await ha.next(events, (p) => (JSON.parse(p) as { type?: string }).type === 'end', from);
      await sleep(SETTLE_MS);
      expect(parsed(events, from).map((m) => [m.type, m.id])).toStrictEqual([
        ['new', final.id],
        ['end', final.id],
      ]);
      expect(parsed(`${base}/cameras/garden/security_event`, from)).toHaveLength(1);
      expect(parsed(`${base}/cameras/garden/risk`, from).map((r) => r.risk_score)).toStrictEqual([45]);
    });

    it('an escalated alert updates the active alerts sensor; the hub alert entity fired once, at creation', async () => {
      const { db } = t.hsi.store;
      const from = ha.mark();
      const event = await seedEvent(db, {
        cameraId: 'drive',
        mediaPath: 'drive/absent.jpg',
        detections: [PERSON],
        riskScore: 70,
        closedAt: null,
      });
      const alert = await seedAlert(db, event, 'high');
      t.hsi.bus.emit('alert.created', { alert });
      await ha.next(`${base}/hub/alert`, (p) => (JSON.parse(p) as { alert_id?: string }).alert_id === alert.id, from);
      const active = `${base}/hub/active_alerts`;
      type Active = { count: number; alerts: { id: string; severity: string }[] };
      await ha.next(active, (p) => (JSON.parse(p) as Active).alerts[0]?.severity === 'high', from);

      const escalatedFrom = ha.mark();
      await db.updateTable('alerts').set({ severity: 'critical' }).where('id', '=', alert.id).execute();
      t.hsi.bus.emit('alert.updated', { alert: { ...alert, severity: 'critical' }, action: 'escalate' });
      const shown = await ha.next(
        active,
        (p) => (JSON.parse(p) as Active).alerts[0]?.severity === 'critical',
        escalatedFrom,
      );
      expect(JSON.parse(shown.payload)).toMatchObject({ count: 1, alerts: [{ id: alert.id, severity: 'critical' }] });
      const change = await ha.next(`${base}/alerts/critical`, () => true, escalatedFrom);
      expect(JSON.parse(change.payload)).toMatchObject({ type: 'escalated', id: alert.id, severity: 'critical' });
      await sleep(SETTLE_MS);
      expect(parsed(`${base}/hub/alert`, from).map((m) => m.alert_id)).toStrictEqual([alert.id]);
    });
  });
}
