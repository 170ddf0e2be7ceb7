import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertService } from '../../../src/alerts/alert.service.js';
import { ArmingService } from '../../../src/alerts/arming.service.js';
import { createCommandServices } from '../../../src/commands/services.js';
import type { BusEvents } from '../../../src/domain/events.js';
import { systemClock } from '../../../src/lib/clock.js';
import { EventBus } from '../../../src/lib/event-bus.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { type CommandHandler, createCommandHandler, type MqttCommand } from '../../../src/mqtt/commands.js';
import { getAlert, insertAlert } from '../../../src/storage/alert.repository.js';
import { getHouseMode } from '../../../src/storage/arming.repository.js';
import { getCamera } from '../../../src/storage/camera.repository.js';
import type { Db } from '../../../src/storage/database.js';
import { insertEventForBatch } from '../../../src/storage/event.repository.js';
import { getZone, upsertZoneByName } from '../../../src/storage/zone.repository.js';
import { newEvent } from '../../support/builders.js';
import { seedDetections } from '../../support/seed.js';
import { createTestStore, ENGINES, engineUnavailable, type TestStore } from '../../support/stores.js';

const CODE = '4711';
const ACK: MqttCommand = { kind: 'alerts', action: 'acknowledge' };
const DISMISS: MqttCommand = { kind: 'alerts', action: 'dismiss' };
const ALARM: MqttCommand = { kind: 'alarm_set' };
const MISSING = '0b7c1c52-6a0e-4d3e-9a51-3f0c2d1e0aff';

async function seedAlerts(db: Db, count: number): Promise<string[]> {
  const detectionIds = await seedDetections(db, 'drive', [{ objectType: 'person', confidence: 0.93 }]);
  const at = new Date('2026-03-01T23:00:00Z');
  const { event } = await insertEventForBatch(
    db,
    newEvent({
      batchId: 'drive:1',
      cameraId: 'drive',
      startedAt: at,
      riskScore: 72,
      riskLevel: 'high',
      summary: 'A person tries the garage door',
      reasoning: 'Handle tried twice at night',
    }),
    detectionIds,
  );
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const created = new Date(at.getTime() + i * 1000);
    const { alert } = await insertAlert(db, {
      eventId: event.id,
      ruleId: null,
      severity: 'high',
      dedupKey: `drive:${i}`,
      message: 'Person at the garage door',
      createdAt: created,
    });
    ids.push(alert.id);
  }
  return ids;
}

for (const engine of ENGINES) {
  const skip = await engineUnavailable(engine);
  if (skip) console.warn(`skipping ${engine} MQTT command tests: ${skip}`);

  describe.skipIf(skip !== undefined)(`MQTT commands against the real services on ${engine}`, () => {
    let t: TestStore;
    let db: Db;
    let handler: CommandHandler;
    let alerts: string[];
    let lastAuditId = 0;

    /** Audit rows written since the last call, oldest first. */
    async function newAuditRows() {
      const rows = await db
        .selectFrom('audit_logs')
        .select(['id', 'action', 'resource_type', 'resource_id', 'actor', 'status', 'details'])
        .where('id', '>', lastAuditId)
        .orderBy('id')
        .execute();
      lastAuditId = rows.at(-1)?.id ?? lastAuditId;
      return rows.map(({ id, ...row }) => row);
    }

    const send = (command: MqttCommand, payload: string, topic: string) =>
      handler.handle(command, Buffer.from(payload), topic);

    const failure = (action: string, type: string, id: string | null, topic: string, reason: string) => ({
      action,
      resource_type: type,
      resource_id: id,
      actor: 'mqtt',
      status: 'failure',
      details: { topic, reason },
    });

    const detectionChanges: BusEvents['camera.detection_changed'][] = [];
    beforeAll(async () => {
      t = await createTestStore(engine);
      db = t.store.db;
      const log = silentLogger();
      const bus = new EventBus<BusEvents>(log);
      bus.on('camera.detection_changed', (change) => void detectionChanges.push(change));
      const deps = { db, bus, log, clock: systemClock };
      const services = createCommandServices({
        db,
        bus,
        alerts: new AlertService(deps),
        arming: new ArmingService(deps),
      });
      handler = createCommandHandler({ services, log, clock: systemClock, maxPayloadBytes: 8192, alarmCode: CODE });
      alerts = await seedAlerts(db, 3);
      await upsertZoneByName(db, {
        cameraId: 'drive',
        name: 'Gate',
        shape: { kind: 'rectangle', x: 0, y: 0, width: 0.5, height: 0.5 },
        source: 'config',
      });
      await newAuditRows();
    });
    afterAll(async () => t?.dispose());

    it('acknowledges one alert by id, audited once by the alert service; a second time is refused', async () => {
      const [a1] = alerts as [string];
      const topic = 'hsi/alerts/acknowledge';
      expect(await send(ACK, `{"id": "${a1}", "transaction": 1}`, topic)).toStrictEqual({
        response: { path: 'alerts/acknowledge', body: { status: 'ok', data: [a1], transaction: 1 } },
        states: [],
      });
      expect((await getAlert(db, a1))?.status).toBe('acknowledged');
      const again = await send(ACK, `{"id": "${a1}"}`, topic);
      const reason = 'cannot acknowledge an alert that is acknowledged (acknowledged is final)';
      expect(again.response?.body).toStrictEqual({ status: 'error', error: reason });
      expect(await newAuditRows()).toStrictEqual([
        {
          action: 'alert.acknowledge',
          resource_type: 'alert',
          resource_id: a1,
          actor: 'mqtt',
          status: 'success',
          details: null,
        },
        failure('mqtt.alerts.acknowledge', 'alert', a1, topic, reason),
      ]);
    });

    it('refuses an unknown id, a wrong type, broken JSON and an oversized payload, changing nothing', async () => {
      const topic = 'hsi/alerts/dismiss';
      const before = await db.selectFrom('alerts').select(['id', 'status', 'version_id']).orderBy('id').execute();
      const cases: [string, string][] = [
        [`{"id": "${MISSING}"}`, `no alert with id ${MISSING}`],
        ['{"all": "yes"}', 'all must be true'],
        ['{"all": tru', 'payload is not valid JSON; send {"id": "<alert uuid>"} or {"all": true}'],
        [
          `{"all": true, "pad": "${'x'.repeat(9000)}"}`,
          'payload is 9024 bytes; the limit is 8192 (mqtt.max_payload_bytes)',
        ],
      ];
      for (const [payload, reason] of cases) {
        expect((await send(DISMISS, payload, topic)).response?.body).toStrictEqual({ status: 'error', error: reason });
      }
      expect(
        await db.selectFrom('alerts').select(['id', 'status', 'version_id']).orderBy('id').execute(),
      ).toStrictEqual(before);
      expect(await newAuditRows()).toStrictEqual([
        failure('mqtt.alerts.dismiss', 'alert', MISSING, topic, `no alert with id ${MISSING}`),
        ...cases.slice(1).map(([, reason]) => failure('mqtt.alerts.dismiss', 'alert', null, topic, reason)),
      ]);
    });

    it('dismisses all active alerts, then answers an empty list with its own success row', async () => {
      const [, a2, a3] = alerts as [string, string, string];
      const topic = 'hsi/alerts/dismiss';
      expect((await send(DISMISS, '{"all": true, "transaction": "t1"}', topic)).response?.body).toStrictEqual({
        status: 'ok',
        data: [a3, a2],
        transaction: 't1',
      });
      expect((await getAlert(db, a2))?.status).toBe('dismissed');
      expect((await getAlert(db, a3))?.status).toBe('dismissed');
      expect((await send(DISMISS, '{"all": true}', topic)).response?.body).toStrictEqual({ status: 'ok', data: [] });
      const row = (id: string) => ({ action: 'alert.dismiss', resource_type: 'alert', resource_id: id, actor: 'mqtt' });
      expect(await newAuditRows()).toStrictEqual([
        { ...row(a3), status: 'success', details: null },
        { ...row(a2), status: 'success', details: null },
        {
          ...row(''),
          action: 'mqtt.alerts.dismiss',
          resource_id: null,
          status: 'success',
          details: { topic, ids: [] },
        },
      ]);
    });

    it('sets the house mode only with the right code, and persists it', async () => {
      const topic = 'hsi/alarm/set';
      // A change is published once, by the bus (arming.changed); the command answers only refusals and no-ops.
      expect(await send(ALARM, `{"action": "ARM_AWAY", "code": "${CODE}"}`, topic)).toStrictEqual({ states: [] });
      expect(await send(ALARM, '{"action": "DISARM", "code": "0000"}', topic)).toStrictEqual({
        states: [{ kind: 'alarm', value: 'armed_away' }],
      });
      expect(await send(ALARM, 'DISARM', topic)).toStrictEqual({ states: [{ kind: 'alarm', value: 'armed_away' }] });
      expect(await getHouseMode(db)).toBe('armed_away');
      const code = 'a code is required: send {"action": "<ACTION>", "code": "<code>"}';
      expect(await newAuditRows()).toStrictEqual([
        {
          action: 'house_mode.set',
          resource_type: 'house',
          resource_id: 'house',
          actor: 'mqtt',
          status: 'success',
          details: { mode: 'armed_away', previous: 'disarmed', changed: true },
        },
        failure('mqtt.alarm.set', 'house', 'house', topic, 'wrong code'),
        failure('mqtt.alarm.set', 'house', 'house', topic, code),
      ]);
    });

    it('switches camera detection and refuses an unknown camera', async () => {
      const topic = 'hsi/cameras/drive/detect/set';
      const drive: MqttCommand = { kind: 'detect_set', cameraId: 'drive' };
      // The change is announced on the bus (Home Assistant's state comes from there), so the answer carries none.
      expect(await send(drive, 'OFF', topic)).toStrictEqual({ states: [] });
      expect(detectionChanges).toStrictEqual([{ cameraId: 'drive', enabled: false, actor: 'mqtt' }]);
      expect((await getCamera(db, 'drive'))?.detection_enabled).toBe(false);
      expect(await send(drive, 'sideways', topic)).toStrictEqual({
        states: [{ kind: 'detect', id: 'drive', value: 'OFF' }],
      });
      const attic = 'hsi/cameras/attic/detect/set';
      expect(await send({ kind: 'detect_set', cameraId: 'attic' }, 'ON', attic)).toStrictEqual({ states: [] });
      expect((await getCamera(db, 'drive'))?.detection_enabled).toBe(false);
      expect(await newAuditRows()).toStrictEqual([
        {
          action: 'mqtt.cameras.detect.set',
          resource_type: 'camera',
          resource_id: 'drive',
          actor: 'mqtt',
          status: 'success',
          details: { topic, enabled: false, previous: true },
        },
        failure('mqtt.cameras.detect.set', 'camera', 'drive', topic, 'payload must be ON or OFF, got "sideways"'),
        failure('mqtt.cameras.detect.set', 'camera', 'attic', attic, 'no camera with id attic'),
      ]);
    });

    it('arms a zone, audited once by the arming service, and refuses an unknown zone', async () => {
      const topic = 'hsi/zones/drive__gate/armed/set';
      const gate: MqttCommand = { kind: 'zone_armed_set', zoneId: 'drive__gate' };
      // Announced on the bus (which publishes the state); the command answers only a no-op.
      expect(await send(gate, 'on', topic)).toStrictEqual({ states: [] });
      expect((await getZone(db, 'drive__gate'))?.armed).toBe(true);
      const shed = 'hsi/zones/drive__shed/armed/set';
      expect(await send({ kind: 'zone_armed_set', zoneId: 'drive__shed' }, 'ON', shed)).toStrictEqual({ states: [] });
      expect(await newAuditRows()).toStrictEqual([
        {
          action: 'zone.arm',
          resource_type: 'zone',
          resource_id: 'drive__gate',
          actor: 'mqtt',
          status: 'success',
          details: { camera_id: 'drive', previous: false, changed: true },
        },
        failure('mqtt.zones.armed.set', 'zone', 'drive__shed', shed, 'no zone with id drive__shed'),
      ]);
    });
  });
}
