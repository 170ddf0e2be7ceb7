import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hsi } from '../../../src/main.js';
import { getHouseMode } from '../../../src/storage/arming.repository.js';
import { missingAsset, modelPath } from '../../support/env.js';
import {
  auditRowsAfter,
  brokerUrl,
  COMMAND_TEST_ENV,
  HomeAssistant,
  lastAuditId,
  PORCH,
  raiseAlerts,
  startHsiFrom,
  topicsOf,
} from '../../support/home-assistant.js';
import { BACKENDS, backendsUnavailable, testEnvironment, waitFor } from '../../support/hsi.js';
import { captureLog, clearRetained, type LogLine } from '../../support/mqtt-watcher.js';

const assetsMissing = missingAsset(modelPath('yolox_nano.onnx'));
const WRONG_CODE = 'wr0ng-c0de';
const MISSING = '0b7c1c52-6a0e-4d3e-9a51-3f0c2d1e0aff';
const ALERT_HINT = '{"id": "<alert uuid>"} or {"all": true}';
const UNKNOWN =
  'unknown command topic; HSI takes alarm/set, alerts/acknowledge, alerts/dismiss, cameras/<id>/detect/set and ' +
  'zones/<id>/armed/set under its base topic';

interface Refusal {
  /** Under the base topic. */
  command: string;
  payload: string | Buffer;
  action: string;
  resource: [string, string | null];
  reason: string;
  /** What HSI answers with: a response (JSON commands), the unchanged state (switches), or nothing. */
  answer?: { response: Record<string, unknown> } | { state: [string, string] };
}

for (const backends of BACKENDS) {
  const skip = assetsMissing ?? (await backendsUnavailable(backends, { mosquitto: true }));
  if (skip) console.warn(`skipping Home Assistant bad input tests on ${backends}: ${skip}`);

  describe.skipIf(skip !== undefined)(`bad commands from Home Assistant on ${backends}`, () => {
    let env: Record<string, string>;
    let root: string;
    let dropDatabase: () => Promise<void>;
    let hsi: Hsi;
    let ha: HomeAssistant;
    let alert: string;
    let lines: LogLine[];
    let initial: unknown;

    /** Everything a command could change. */
    const world = async () => {
      const db = hsi.store.db;
      return {
        house: await getHouseMode(db),
        alerts: await db.selectFrom('alerts').select(['id', 'status']).orderBy('id').execute(),
        zones: await db.selectFrom('camera_zones').select(['id', 'armed']).orderBy('id').execute(),
        cameras: await db.selectFrom('cameras').select(['id', 'detection_enabled']).orderBy('id').execute(),
      };
    };

    /** Sends the bad command and checks the answer, the one audit row, the one log line; nothing changes. */
    async function expectRefused(r: Refusal): Promise<void> {
      const db = hsi.store.db;
      const topic = ha.topic(r.command);
      const audited = await lastAuditId(db);
      const logged = lines.length;
      const from = ha.mark();
      await ha.send(r.command, r.payload);
      if (r.answer !== undefined && 'response' in r.answer) {
        const response = await ha.next(ha.topic(`response/${r.command}`), () => true, from);
        expect(JSON.parse(response.payload)).toStrictEqual(r.answer.response);
      } else if (r.answer !== undefined) {
        const [state, value] = r.answer.state;
        expect((await ha.next(ha.topic(state), () => true, from)).payload).toBe(value);
      }
      const rows = await waitFor(async () => {
        const found = await auditRowsAfter(db, audited);
        return found.length > 0 ? found : undefined;
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect([...rows, ...(await auditRowsAfter(db, audited)).slice(rows.length)]).toStrictEqual([
        {
          action: r.action,
          resource_type: r.resource[0],
          resource_id: r.resource[1],
          actor: 'mqtt',
          status: 'failure',
          details: { topic, reason: r.reason },
        },
      ]);
      const refusedLines = lines.slice(logged).filter((l) => l.topic === topic && l.level >= 40);
      expect(refusedLines.map((l) => [l.msg, l.reason])).toStrictEqual([['mqtt command refused', r.reason]]);
      expect(ha.messages.slice(from).filter((m) => m.topic.startsWith(ha.topic('response/')))).toHaveLength(
        r.answer !== undefined && 'response' in r.answer ? 1 : 0,
      );
      expect(await world()).toStrictEqual(initial);
    }

    beforeAll(async () => {
      ({ env, root, dropDatabase } = await testEnvironment(backends, {
        ...COMMAND_TEST_ENV,
        HSI_HOMEASSISTANT_ALARM_CODE: '1234',
      }));
      const captured = captureLog();
      lines = captured.lines;
      hsi = await startHsiFrom(env, root, captured.log);
      ha = await HomeAssistant.connect(brokerUrl(hsi), topicsOf(env));
      [alert] = (await raiseAlerts(hsi, ha, 'front_door', 1)) as [string];
      await ha.next(ha.topic(`zones/${PORCH}/armed/state`));
      // The bridge marks the alert delivered once it has published it: wait for that before taking the snapshot,
      // so the snapshot is the settled state the bad commands must leave alone.
      await waitFor(async () => {
        const row = await hsi.store.db.selectFrom('alerts').select('status').where('id', '=', alert).executeTakeFirst();
        return row?.status === 'delivered' ? true : undefined;
      });
      initial = await world();
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

    it('answers alert commands that are not JSON, have wrong types or name an unknown alert with an error', async () => {
      const ack = (payload: string, reason: string, transaction?: string, id: string | null = null) =>
        expectRefused({
          command: 'alerts/acknowledge',
          payload,
          action: 'mqtt.alerts.acknowledge',
          resource: ['alert', id],
          reason,
          answer: { response: { status: 'error', error: reason, ...(transaction ? { transaction } : {}) } },
        });
      await ack('not json', `payload is not valid JSON; send ${ALERT_HINT}`);
      await ack('{"id": 5, "transaction": "t-type"}', 'id must be a string', 't-type');
      await ack('{"all": "yes", "transaction": "t-all"}', 'all must be true', 't-all');
      await ack('[1, 2]', 'payload must be a JSON object');
      await ack(
        `{"id": "${MISSING}", "transaction": "t-missing"}`,
        `no alert with id ${MISSING}`,
        't-missing',
        MISSING,
      );
    });

    it('refuses a 1 MiB payload by its size', async () => {
      const reason = 'payload is 1048576 bytes; the limit is 8192 (mqtt.max_payload_bytes)';
      await expectRefused({
        command: 'alerts/dismiss',
        payload: Buffer.alloc(1024 * 1024, 'x'),
        action: 'mqtt.alerts.dismiss',
        resource: ['alert', null],
        reason,
        answer: { response: { status: 'error', error: reason } },
      });
    });

    it('refuses alarm commands without the right code and republishes the unchanged state', async () => {
      const alarm = (payload: string, reason: string) =>
        expectRefused({
          command: 'alarm/set',
          payload,
          action: 'mqtt.alarm.set',
          resource: ['house', 'house'],
          reason,
          answer: { state: ['alarm/state', 'disarmed'] },
        });
      await alarm('ARM_AWAY', 'a code is required: send {"action": "<ACTION>", "code": "<code>"}');
      await alarm(`{"action": "ARM_AWAY", "code": "${WRONG_CODE}"}`, 'wrong code');
      await alarm(
        '{"action": "EXPLODE", "code": "1234"}',
        'action must be one of DISARM, ARM_HOME, ARM_AWAY, ARM_NIGHT',
      );
      await alarm('{"action": "DISARM", "code": 1234}', 'code must be a string');
      // A code never reaches the log (nor, checked above, the audit trail).
      expect(lines.some((l) => JSON.stringify(l).includes(WRONG_CODE))).toBe(false);
    });

    it('refuses bad switch payloads, unknown zones and unknown cameras', async () => {
      await expectRefused({
        command: `zones/${PORCH}/armed/set`,
        payload: 'MAYBE',
        action: 'mqtt.zones.armed.set',
        resource: ['zone', PORCH],
        reason: 'payload must be ON or OFF, got "MAYBE"',
        answer: { state: [`zones/${PORCH}/armed/state`, 'OFF'] },
      });
      await expectRefused({
        command: 'zones/nowhere/armed/set',
        payload: 'ON',
        action: 'mqtt.zones.armed.set',
        resource: ['zone', 'nowhere'],
        reason: 'no zone with id nowhere',
      });
      await expectRefused({
        command: 'cameras/ghost/detect/set',
        payload: 'OFF',
        action: 'mqtt.cameras.detect.set',
        resource: ['camera', 'ghost'],
        reason: 'no camera with id ghost',
      });
    });

    it('refuses and audits commands on unknown topics under the base', async () => {
      for (const [command, payload] of [
        ['alerts/ack', '{"all": true}'],
        ['cameras/front_door/detection/set', 'OFF'],
        [`zones/${PORCH}/set`, 'ON'],
        ['alerts/set', '{"all": true}'],
      ] as const) {
        await expectRefused({ command, payload, action: 'mqtt.unknown', resource: ['topic', null], reason: UNKNOWN });
      }
    });

    it('keeps answering valid commands afterwards', async () => {
      const from = ha.mark();
      await ha.send('alarm/set', '{"action": "ARM_HOME", "code": "1234"}');
      await ha.next(ha.topic('alarm/state'), (p) => p === 'armed_home', from);
      expect(await getHouseMode(hsi.store.db)).toBe('armed_home');
      expect(await ha.request('alerts/acknowledge', { id: alert }, 'still-here')).toStrictEqual({
        status: 'ok',
        data: [alert],
        transaction: 'still-here',
      });
    });
  });
}
