import { connectAsync } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/lib/logger.js';
import { MqttConnection } from '../../../src/mqtt/client.js';
import { defaultClientId } from '../../../src/mqtt/client-options.js';
import { EmbeddedBroker } from '../../../src/mqtt/embedded-broker.js';
import { missingAsset, modelPath } from '../../support/env.js';
import { brokerUrl } from '../../support/home-assistant.js';
import { startTestHsi, type TestHsi } from '../../support/hsi.js';
import { captureLog, MqttWatcher } from '../../support/mqtt-watcher.js';

/**
 * The embedded broker's own defences, with real mqtt.js clients on 127.0.0.1: HSI's client gets in with the
 * configured credentials set (issue 11 #12), nobody else may use HSI's client id (#13), and failed logins are
 * throttled per source address, counted and logged once a minute (#10).
 */

/** 'accepted', or the refusal mqtt.js reports. */
function tryConnect(url: string, options: { clientId?: string; username?: string; password?: string }) {
  return connectAsync(url, { reconnectPeriod: 0, connectTimeout: 3000, ...options }).then(
    async (client) => {
      await client.endAsync(true);
      return 'accepted';
    },
    (error: Error) => error.message,
  );
}

const assetsMissing = missingAsset(modelPath('yolox_nano.onnx'));

describe.skipIf(assetsMissing !== undefined)('HSI on its embedded broker with credentials set', () => {
  let t: TestHsi;
  beforeAll(async () => {
    t = await startTestHsi('pglite+memory', {
      HSI_MQTT_EMBEDDED_USERNAME: 'homeassistant',
      HSI_MQTT_EMBEDDED_PASSWORD: 'embedded-secret-7',
    });
  }, 30_000);
  afterAll(async () => {
    await t?.dispose();
  });

  it('connects and publishes discovery; a client with wrong credentials is refused', async () => {
    const url = brokerUrl(t.hsi);
    const { base_topic: base, discovery_prefix: prefix } = t.config.mqtt;
    const ha = await MqttWatcher.open(url, [`${prefix}/#`, `${base}/availability`], {
      username: 'homeassistant',
      password: 'embedded-secret-7',
    });
    try {
      await ha.waitFor((m) => m.topic.startsWith(`${prefix}/device/`) && m.payload !== '', 8000, 'discovery');
      await ha.waitFor((m) => m.topic === `${base}/availability` && m.payload === 'online', 2000, 'online');
      expect(t.hsi.mqtt?.connected).toBe(true);
    } finally {
      await ha.close();
    }
    expect(await tryConnect(url, { username: 'homeassistant', password: 'wrong' })).toBe(
      'Connection refused: Bad username or password',
    );
  });

  it("refuses a client that uses HSI's client id, even with the right credentials; HSI stays connected", async () => {
    const url = brokerUrl(t.hsi);
    const clientId = t.config.mqtt.client_id || defaultClientId(t.config.mqtt.base_topic);
    const availability = `${t.config.mqtt.base_topic}/availability`;
    const ha = await MqttWatcher.open(url, [availability], {
      username: 'homeassistant',
      password: 'embedded-secret-7',
    });
    try {
      expect(await tryConnect(url, { clientId, username: 'homeassistant', password: 'embedded-secret-7' })).toBe(
        'Connection refused: Not authorized',
      );
      await new Promise((r) => setTimeout(r, 300));
      expect(t.hsi.mqtt?.connected).toBe(true);
      expect(ha.messages.filter((m) => m.payload === 'offline')).toStrictEqual([]);
    } finally {
      await ha.close();
    }
  });
});

describe.skipIf(assetsMissing !== undefined)('the alarm panel over MQTT, guessed at', () => {
  let t: TestHsi;
  beforeAll(async () => {
    t = await startTestHsi('pglite+memory', {
      HSI_HOMEASSISTANT_ALARM_CODE: '4711',
      HSI_HOMEASSISTANT_HEALTH_INTERVAL_S: '1',
    });
  }, 30_000);
  afterAll(async () => {
    await t?.dispose();
  });

  it('locks out after 3 wrong codes (the right one refused too); the health sensor counts them', async () => {
    const { base_topic: base } = t.config.mqtt;
    const ha = await MqttWatcher.open(brokerUrl(t.hsi), [`${base}/alarm/state`, `${base}/health/system`]);
    try {
      const failedLogins = (m: { payload: string }) =>
        (JSON.parse(m.payload) as { failed_logins: number }).failed_logins;
      const before = failedLogins(await ha.waitFor((m) => m.topic === `${base}/health/system`, 3000, 'health'));
      const code = (c: string) => JSON.stringify({ action: 'ARM_AWAY', code: c });
      for (const guess of ['0000', '0001', '0002', '4711']) await ha.publish(`${base}/alarm/set`, code(guess));
      const from = ha.messages.length;
      await ha.waitFor(
        (m) => ha.messages.indexOf(m) >= from && m.topic === `${base}/health/system` && failedLogins(m) === before + 4,
        4000,
        'the failed logins on the health sensor',
      );
      expect(ha.messages.filter((m) => m.topic === `${base}/alarm/state`).map((m) => m.payload)).not.toContain(
        'armed_away',
      );
      expect(await t.hsi.arming.houseMode()).toBe('disarmed');
    } finally {
      await ha.close();
    }
  });
});

describe('EmbeddedBroker login defences', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("without credentials: HSI's client id is still reserved; its own client keeps its session", async () => {
    const broker = new EmbeddedBroker({
      host: '127.0.0.1',
      port: 0,
      username: '',
      password: '',
      ownClientId: 'hsi_own_client',
      log: silentLogger(),
    });
    const url = await broker.start();
    cleanups.push(() => broker.stop());
    const conn = new MqttConnection({
      url,
      clientId: 'hsi_own_client',
      ...broker.ownCredentials(),
      baseTopic: 'hsi-takeover',
      offlineQueueMax: 10,
      log: silentLogger(),
      reconnectMinMs: 50,
    });
    cleanups.push(() => conn.stop());
    let connects = 0;
    conn.onConnect(() => {
      connects++;
    });
    await conn.start();
    expect(await tryConnect(url, { clientId: 'other_client' })).toBe('accepted');
    for (let i = 0; i < 3; i++) {
      expect(await tryConnect(url, { clientId: 'hsi_own_client' })).toBe('Connection refused: Not authorized');
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(conn.connected).toBe(true);
    expect(connects).toBe(1);
    expect(broker.failedLogins).toBe(3);
  });

  it('throttles failed logins per address, logs one line for many, counts them, never locks HSI out', async () => {
    let now = Date.UTC(2026, 0, 1);
    const { log, lines } = captureLog();
    const broker = new EmbeddedBroker({
      host: '127.0.0.1',
      port: 0,
      username: 'homeassistant',
      password: 'right-pass-1',
      ownClientId: 'hsi_own_client',
      log,
      now: () => now,
    });
    const url = await broker.start();
    cleanups.push(() => broker.stop());
    const results: string[] = [];
    for (let i = 0; i < 30; i++)
      results.push(await tryConnect(url, { username: 'homeassistant', password: `guess${i}` }));
    expect(results.slice(0, 5)).toStrictEqual(Array(5).fill('Connection refused: Bad username or password'));
    // Locked out: the guesses after the fifth are refused unchecked.
    expect(results.slice(5)).toStrictEqual(Array(25).fill('Connection refused: Not authorized'));
    expect(await tryConnect(url, { username: 'homeassistant', password: 'right-pass-1' })).toBe(
      'Connection refused: Not authorized',
    );
    // HSI's own client, from the same locked-out address, still gets in.
    expect(await tryConnect(url, { clientId: 'hsi_own_client', ...broker.ownCredentials() })).toBe('accepted');
    expect(broker.failedLogins).toBe(31);
    const warnings = lines.filter((l) => l.level >= 40 && String(l.msg).includes('refused a client'));
    expect(warnings).toHaveLength(1);
    // A minute later: the lockout (1 s after the fifth failure, 2 s after the sixth) is over, the right password
    // gets in, and the next failure's line sums up those held back.
    now += 61_000;
    expect(await tryConnect(url, { username: 'homeassistant', password: 'right-pass-1' })).toBe('accepted');
    expect(await tryConnect(url, { username: 'homeassistant', password: 'guess-again' })).toBe(
      'Connection refused: Bad username or password',
    );
    const next = lines.filter((l) => l.level >= 40 && String(l.msg).includes('refused a client'));
    expect(next).toHaveLength(2);
    expect(next[1]).toMatchObject({ refused: 31, failed_logins_total: 32 });
  });
});

describe('MqttConnection on Mosquitto, its client id taken over by another client', () => {
  it('reports the takeover once as an error and backs off instead of fighting', { timeout: 15_000 }, async () => {
    const url = process.env.HSI_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
    const clientId = `hsi-takeover-${process.pid.toString(36)}-${Date.now().toString(36)}`;
    const { log, lines } = captureLog();
    const conn = new MqttConnection({
      url,
      clientId,
      baseTopic: `hsi-takeover-${Date.now().toString(36)}`,
      offlineQueueMax: 10,
      log,
      reconnectMinMs: 100,
      reconnectMaxMs: 5000,
    });
    let connects = 0;
    conn.onConnect(() => {
      connects++;
    });
    await conn.start();
    expect(conn.connected).toBe(true);
    // The intruder reconnects every 100 ms, as a second instance with the same client id would.
    const intruder = await connectAsync(url, { clientId, reconnectPeriod: 100, connectTimeout: 2000 });
    await new Promise((r) => setTimeout(r, 4000));
    await intruder.endAsync(true);
    await conn.stop();
    // Without backoff HSI would take the session back ~every 200 ms (~20 times); with it: 0.1+0.2+0.4+0.8+1.6 s.
    expect(connects).toBeGreaterThanOrEqual(3);
    expect(connects).toBeLessThanOrEqual(7);
    const errors = lines.filter((l) => l.level >= 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.msg).toContain(`another client probably uses the client id ${clientId}`);
  });
});
