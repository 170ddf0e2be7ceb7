import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hsi } from '../../../src/main.js';
import { getAlert } from '../../../src/storage/alert.repository.js';
import { getHouseMode, getHouseState } from '../../../src/storage/arming.repository.js';
import { getCamera } from '../../../src/storage/camera.repository.js';
import { getZone } from '../../../src/storage/zone.repository.js';
import { missingAsset, modelPath } from '../../support/env.js';
import {
  auditRowsAfter,
  brokerUrl,
  COMMAND_TEST_ENV,
  HomeAssistant,
  lastAuditId,
  PORCH,
  payloadsOf,
  raiseAlerts,
  startHsiFrom,
  topicsOf,
} from '../../support/home-assistant.js';
import { BACKENDS, backendsUnavailable, testEnvironment } from '../../support/hsi.js';
import { clearRetained } from '../../support/mqtt-watcher.js';

const assetsMissing = missingAsset(modelPath('yolox_nano.onnx'));

for (const backends of BACKENDS) {
  const skip = assetsMissing ?? (await backendsUnavailable(backends, { mosquitto: true }));
  if (skip) console.warn(`skipping Home Assistant command tests on ${backends}: ${skip}`);

  describe.skipIf(skip !== undefined)(`commands from Home Assistant on ${backends}`, () => {
    let env: Record<string, string>;
    let root: string;
    let dropDatabase: () => Promise<void>;
    let hsi: Hsi;
    let ha: HomeAssistant;
    let alerts: string[];
    const base = () => ha.topics.base;
    const mqttActor = (action: string, type: string, id: string | null, details: unknown = null) => ({
      action,
      resource_type: type,
      resource_id: id,
      actor: 'mqtt',
      status: 'success',
      details,
    });
    const activeCount = (n: number) => (p: string) => (JSON.parse(p) as { count: number }).count === n;
    const streamed = (type: string, id: string) => (p: string) => {
      const body = JSON.parse(p) as { type: string; id: string };
      return body.type === type && body.id === id;
    };

    beforeAll(async () => {
      ({ env, root, dropDatabase } = await testEnvironment(backends, COMMAND_TEST_ENV));
      hsi = await startHsiFrom(env, root);
      ha = await HomeAssistant.connect(brokerUrl(hsi), topicsOf(env));
      alerts = await raiseAlerts(hsi, ha, 'front_door', 3);
    });
    afterAll(async () => {
      await ha?.close();
      const url = hsi === undefined ? undefined : brokerUrl(hsi);
      await hsi?.stop();
      if (url !== undefined && backends === 'postgres+redis') {
        await clearRetained(url, topicsOf(env).base);
        await clearRetained(url, `${topicsOf(env).prefix}/device`);
      }
      await dropDatabase?.();
      if (root !== undefined) rmSync(root, { recursive: true, force: true });
    });

    it('acknowledges one alert by id, answering with the transaction, and shows it everywhere', async () => {
      const [a1] = alerts as [string];
      const audited = await lastAuditId(hsi.store.db);
      const from = ha.mark();
      expect(await ha.request('alerts/acknowledge', { id: a1 }, 'ack-1')).toStrictEqual({
        status: 'ok',
        data: [a1],
        transaction: 'ack-1',
      });
      const change = await ha.next(`${base()}/alerts/high`, streamed('acknowledged', a1), from);
      expect(JSON.parse(change.payload)).toMatchObject({ acknowledged_by: 'mqtt', dismissed_by: null });
      await ha.next(`${base()}/hub/active_alerts`, activeCount(2), from);
      const stored = await getAlert(hsi.store.db, a1);
      expect([stored?.status, stored?.acknowledgedBy, stored?.dismissedBy]).toStrictEqual([
        'acknowledged',
        'mqtt',
        null,
      ]);
      expect(await auditRowsAfter(hsi.store.db, audited)).toStrictEqual([mqttActor('alert.acknowledge', 'alert', a1)]);
    });

    it('dismisses one alert by id', async () => {
      const a2 = alerts[1] as string;
      const from = ha.mark();
      expect(await ha.request('alerts/dismiss', { id: a2 }, 2)).toStrictEqual({
        status: 'ok',
        data: [a2],
        transaction: 2,
      });
      const change = await ha.next(`${base()}/alerts/high`, streamed('dismissed', a2), from);
      expect(JSON.parse(change.payload)).toMatchObject({ acknowledged_by: null, dismissed_by: 'mqtt' });
      await ha.next(`${base()}/hub/active_alerts`, activeCount(1), from);
      const stored = await getAlert(hsi.store.db, a2);
      expect([stored?.status, stored?.acknowledgedBy, stored?.dismissedBy]).toStrictEqual(['dismissed', null, 'mqtt']);
    });

    it('acknowledges every active alert with {"all": true} (the hub button)', async () => {
      const a3 = alerts[2] as string;
      const from = ha.mark();
      expect(await ha.request('alerts/acknowledge', { all: true }, 'ack-all')).toStrictEqual({
        status: 'ok',
        data: [a3],
        transaction: 'ack-all',
      });
      const active = await ha.next(`${base()}/hub/active_alerts`, activeCount(0), from);
      expect(JSON.parse(active.payload)).toStrictEqual({ count: 0, alerts: [] });
      const statuses = await Promise.all(alerts.map(async (id) => (await getAlert(hsi.store.db, id))?.status));
      expect(statuses).toStrictEqual(['acknowledged', 'dismissed', 'acknowledged']);
    });

    it('arms and disarms the house and a zone and switches camera detection, in states, database and audit', async () => {
      const db = hsi.store.db;
      const audited = await lastAuditId(db);
      const set = async (command: string, payload: string, state: string, expected: string) => {
        const from = ha.mark();
        await ha.send(command, payload);
        await ha.next(`${base()}/${state}`, (p) => p === expected, from);
        await new Promise((r) => setTimeout(r, 300));
        // Published once: by the change on the bus, not again as the command's answer.
        expect(payloadsOf(ha.messages, `${base()}/${state}`, from)).toStrictEqual([expected]);
      };
      await set('alarm/set', 'ARM_AWAY', 'alarm/state', 'armed_away');
      expect(await getHouseMode(db)).toBe('armed_away');
      await set('alarm/set', 'DISARM', 'alarm/state', 'disarmed');
      expect(await getHouseMode(db)).toBe('disarmed');
      await set('alarm/set', 'ARM_NIGHT', 'alarm/state', 'armed_night');
      expect(await getHouseMode(db)).toBe('armed_night');

      await set(`zones/${PORCH}/armed/set`, 'ON', `zones/${PORCH}/armed/state`, 'ON');
      expect((await getZone(db, PORCH))?.armed).toBe(true);
      await set(`zones/${PORCH}/armed/set`, 'OFF', `zones/${PORCH}/armed/state`, 'OFF');
      expect((await getZone(db, PORCH))?.armed).toBe(false);
      await set(`zones/${PORCH}/armed/set`, 'ON', `zones/${PORCH}/armed/state`, 'ON');

      await set('cameras/front_door/detect/set', 'OFF', 'cameras/front_door/detect/state', 'OFF');
      expect((await getCamera(db, 'front_door'))?.detection_enabled).toBe(false);

      const zone = (previous: boolean) => ({ camera_id: 'front_door', previous, changed: true });
      const house = (mode: string, previous: string) => ({ mode, previous, changed: true });
      expect(await auditRowsAfter(db, audited)).toStrictEqual([
        mqttActor('house_mode.set', 'house', 'house', house('armed_away', 'disarmed')),
        mqttActor('house_mode.set', 'house', 'house', house('disarmed', 'armed_away')),
        mqttActor('house_mode.set', 'house', 'house', house('armed_night', 'disarmed')),
        mqttActor('zone.arm', 'zone', PORCH, zone(false)),
        mqttActor('zone.disarm', 'zone', PORCH, zone(true)),
        mqttActor('zone.arm', 'zone', PORCH, zone(false)),
        mqttActor('mqtt.cameras.detect.set', 'camera', 'front_door', {
          topic: `${base()}/cameras/front_door/detect/set`,
          enabled: false,
          previous: true,
        }),
      ]);
    });

    it('re-arming the mode the house has: answered with the state once, audited as no change, nothing announced', async () => {
      const db = hsi.store.db;
      const before = await getHouseState(db);
      expect(before.mode).toBe('armed_night');
      const audited = await lastAuditId(db);
      const announced: unknown[] = [];
      const off = hsi.bus.on('arming.changed', (change) => {
        announced.push(change);
      });
      const from = ha.mark();
      await ha.send('alarm/set', 'ARM_NIGHT');
      await ha.next(`${base()}/alarm/state`, (p) => p === 'armed_night', from);
      await new Promise((r) => setTimeout(r, 300));
      off();
      expect(payloadsOf(ha.messages, `${base()}/alarm/state`, from)).toStrictEqual(['armed_night']);
      expect(announced).toStrictEqual([]);
      expect(await getHouseState(db)).toStrictEqual(before);
      expect(await auditRowsAfter(db, audited)).toStrictEqual([
        mqttActor('house_mode.set', 'house', 'house', { mode: 'armed_night', previous: 'armed_night', changed: false }),
      ]);
    });

    it('republishes the same states from the database after a restart', async () => {
      const topics = topicsOf(env);
      const states = [
        'alarm/state',
        `zones/${PORCH}/armed/state`,
        'cameras/front_door/detect/state',
        'cameras/front_door/risk',
        'hub/active_alerts',
      ].map((s) => `${topics.base}/${s}`);
      const retainedStates = async (url: string) => {
        const fresh = await HomeAssistant.connect(url, topics);
        for (const topic of states) await fresh.next(topic, () => true, 0, 5000);
        await fresh.close();
        return states.map((topic) => fresh.messages.find((m) => m.topic === topic && m.retain)?.payload);
      };
      const before = await retainedStates(brokerUrl(hsi));
      expect(before.slice(0, 3)).toStrictEqual(['armed_night', 'ON', 'OFF']);

      await ha.close();
      const url = brokerUrl(hsi);
      await hsi.stop();
      // Nothing left on the broker: what comes back is what the new process read from the database.
      if (backends === 'postgres+redis') await clearRetained(url, topics.base);
      hsi = await startHsiFrom(env, root);
      ha = await HomeAssistant.connect(brokerUrl(hsi), topics);
      for (const topic of states) await ha.next(topic);
      expect(await retainedStates(brokerUrl(hsi))).toStrictEqual(before);
      expect(await getHouseMode(hsi.store.db)).toBe('armed_night');
      expect((await getZone(hsi.store.db, PORCH))?.armed).toBe(true);
      expect((await getCamera(hsi.store.db, 'front_door'))?.detection_enabled).toBe(false);
    });
  });
}
