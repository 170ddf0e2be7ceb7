import { rmSync } from 'node:fs';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hsi } from '../../../src/main.js';
import {
  decodeUtf8,
  parseAlarmPayload,
  parseAlertTarget,
  parseJson,
  parseSwitch,
} from '../../../src/mqtt/command-payloads.js';
import { isCommandAttempt, parseCommandTopic } from '../../../src/mqtt/topics.js';
import { getHouseMode } from '../../../src/storage/arming.repository.js';
import { missingAsset, modelPath } from '../../support/env.js';
import { eventually } from '../../support/fault-checks.js';
import { fuzzPayload, Prng, randomString } from '../../support/fuzz.js';
import {
  brokerUrl,
  COMMAND_TEST_ENV,
  HomeAssistant,
  lastAuditId,
  PORCH,
  raiseAlerts,
  startHsiFrom,
  topicsOf,
} from '../../support/home-assistant.js';
import { testEnvironment, waitFor } from '../../support/hsi.js';
import { MqttWatcher } from '../../support/mqtt-watcher.js';

/**
 * Seeded random payloads (JSON of every shape, the real field names with wrong types, huge strings, deep nesting,
 * random bytes, payloads at and over the 1 MiB limit) sent to every command topic and to made-up topics under the
 * base topic of a running HSI (PGlite, embedded broker). Afterwards HSI still answers a valid command, nothing a
 * command could change has changed, every refused command has its audit row, and every response is JSON.
 */

const SEED = Number(process.env.HSI_FUZZ_SEED ?? 20_261_124);
const PAYLOADS = 300;
const MAX_PAYLOAD = 1024 * 1024;
const ALARM_CODE = '1234';
const assetsMissing = missingAsset(modelPath('yolox_nano.onnx'));
if (assetsMissing) console.warn(`skipping MQTT fuzz test: ${assetsMissing}`);

/** A topic level from random text: no control characters, `/`, `+`, `#` or lone surrogates; never empty. */
function topicLevel(text: string): string {
  const kept = [...text].filter((ch) => {
    const code = ch.codePointAt(0) ?? 0;
    return code > 0x1f && !'/#+'.includes(ch) && (code < 0xd800 || code > 0xdfff);
  });
  return kept.join('') || 'x';
}

/** Whether `payload` is a command HSI would carry out (the fuzzer must not send those: they change state). */
function wouldApply(base: string, topic: string, payload: string | Buffer): boolean {
  const text = decodeUtf8(Buffer.from(payload));
  if (text === undefined || text === '' || Buffer.byteLength(payload) > MAX_PAYLOAD) return false;
  const command = parseCommandTopic(base, topic);
  switch (command.kind) {
    case 'alarm_set': {
      const alarm = parseAlarmPayload(text);
      return alarm.ok && alarm.code === ALARM_CODE;
    }
    case 'alerts': {
      const json = parseJson(text, '');
      return json.ok && parseAlertTarget(json.value).ok;
    }
    case 'detect_set':
    case 'zone_armed_set':
      return parseSwitch(text).ok;
    case 'unknown':
      return false;
  }
}

describe.skipIf(assetsMissing !== undefined)(`MQTT command fuzzing (seed ${SEED})`, () => {
  let env: Record<string, string>;
  let root: string;
  let hsi: Hsi;
  let ha: HomeAssistant;
  let responses: MqttWatcher;
  let alerts: string[];

  const world = async () => {
    const db = hsi.store.db;
    return {
      house: await getHouseMode(db),
      alerts: await db.selectFrom('alerts').select(['id', 'status', 'version_id']).orderBy('id').execute(),
      zones: await db.selectFrom('camera_zones').select(['id', 'armed']).orderBy('id').execute(),
      cameras: await db.selectFrom('cameras').select(['id', 'detection_enabled']).orderBy('id').execute(),
    };
  };

  beforeAll(async () => {
    ({ env, root } = await testEnvironment('pglite+memory', {
      ...COMMAND_TEST_ENV,
      HSI_HOMEASSISTANT_ALARM_CODE: ALARM_CODE,
      HSI_MQTT_MAX_PAYLOAD_BYTES: String(MAX_PAYLOAD),
    }));
    hsi = await startHsiFrom(env, root);
    ha = await HomeAssistant.connect(brokerUrl(hsi), topicsOf(env));
    alerts = await raiseAlerts(hsi, ha, 'front_door', 2);
    await ha.send('alarm/set', JSON.stringify({ action: 'ARM_AWAY', code: ALARM_CODE }));
    await ha.next(ha.topic('alarm/state'), (p) => p === 'armed_away');
    // Sends the fuzz and hears only the responses (Home Assistant's client would receive every fuzz payload back).
    responses = await MqttWatcher.open(brokerUrl(hsi), [`${topicsOf(env).base}/response/#`]);
  });
  afterAll(async () => {
    await responses?.close();
    await ha?.close();
    await hsi?.stop();
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
  });

  it(`refuses ${PAYLOADS} random payloads on every command topic and stays up`, { timeout: 110_000 }, async () => {
    const { base } = topicsOf(env);
    const db = hsi.store.db;
    const before = await world();
    const firstAudit = await lastAuditId(db);
    const rng = new Prng(SEED);
    const level = () => topicLevel(randomString(rng, 12));
    const fixed = [
      'alarm/set',
      'alerts/acknowledge',
      'alerts/dismiss',
      'cameras/front_door/detect/set',
      `zones/${PORCH}/armed/set`,
    ].map((s) => `${base}/${s}`);
    const expectedAudits = new Map<string, number>();
    let alertCommands = 0;
    let skipped = 0;
    for (let i = 0; i < PAYLOADS; i++) {
      const payload = fuzzPayload(rng, ['id', 'all', 'transaction', 'action', 'code'], MAX_PAYLOAD);
      const topics = [
        ...fixed,
        `${base}/cameras/${level()}/detect/set`,
        `${base}/zones/${level()}/armed/set`,
        rng.pick([`${base}/${level()}/set`, `${base}/alerts/${level()}`, `${base}/${level()}/${level()}/set`]),
        `${base}/${level()}/${level()}`,
      ];
      for (const topic of topics) {
        if (wouldApply(base, topic, payload)) {
          skipped += 1;
          continue;
        }
        await responses.client.publishAsync(topic, Buffer.from(payload), { qos: 1 });
        const command = parseCommandTopic(base, topic);
        if (command.kind === 'alerts') alertCommands += 1;
        if (command.kind !== 'unknown' || isCommandAttempt(base, topic)) {
          expectedAudits.set(topic, (expectedAudits.get(topic) ?? 0) + 1);
        }
      }
    }
    const expectedTotal = [...expectedAudits.values()].reduce((a, b) => a + b, 0);
    const audited = async () => {
      const rows = await sql<{ topic: string; action: string; status: string; n: number }>`
        SELECT details->>'topic' AS topic, action, status, count(*)::int AS n FROM audit_logs
        WHERE id > ${firstAudit} GROUP BY 1, 2, 3`.execute(db);
      return rows.rows;
    };
    await waitFor(
      async () => ((await audited()).reduce((a, r) => a + r.n, 0) >= expectedTotal ? true : undefined),
      60_000,
      `${expectedTotal} audit rows`,
    );
    await eventually(() => responses.messages.length >= alertCommands, 10_000, `${alertCommands} responses`);
    console.info(
      `MQTT fuzz (seed ${SEED}): ${expectedTotal} refused commands audited, ${alertCommands} responses, ` +
        `${skipped} valid payloads not sent`,
    );

    const rows = await audited();
    expect(rows.filter((r) => r.status !== 'failure')).toStrictEqual([]);
    expect(Object.fromEntries(rows.map((r) => [r.topic, r.n]))).toStrictEqual(Object.fromEntries(expectedAudits));
    const malformed = responses.messages.filter((m) => {
      try {
        const body = JSON.parse(m.payload) as { status?: unknown; error?: unknown; transaction?: unknown };
        const transactionOk = body.transaction === undefined || ['string', 'number'].includes(typeof body.transaction);
        return body.status !== 'error' || typeof body.error !== 'string' || !transactionOk;
      } catch {
        return true;
      }
    });
    expect(malformed.map((m) => m.payload.slice(0, 200))).toStrictEqual([]);
    expect(responses.messages).toHaveLength(alertCommands);
    expect(await world()).toStrictEqual(before);

    // Still up: a valid command is carried out and answered.
    const answer = await ha.request('alerts/acknowledge', { id: alerts[0] }, 'after-fuzz');
    expect(answer).toMatchObject({ status: 'ok', transaction: 'after-fuzz', data: [alerts[0]] });
    const from = ha.mark();
    await ha.send('alarm/set', JSON.stringify({ action: 'DISARM', code: ALARM_CODE }));
    await ha.next(ha.topic('alarm/state'), (p) => p === 'disarmed', from);
    expect(await getHouseMode(db)).toBe('disarmed');
  });
});
