import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/lib/logger.js';
import { MqttConnection, type MqttConnectionOptions } from '../../../src/mqtt/client.js';
import { EmbeddedBroker } from '../../../src/mqtt/embedded-broker.js';
import { services } from '../../support/env.js';
import {
  captureLog,
  clearRetained,
  MqttWatcher,
  readRetained,
  uniqueBaseTopic,
  until,
} from '../../support/mqtt-watcher.js';
import { serviceDown } from '../../support/services.js';

const mosquittoDown = await serviceDown('Mosquitto', services.mqttUrl, 1883);
if (mosquittoDown) console.warn(`skipping MqttConnection tests on Mosquitto: ${mosquittoDown}`);

/** Every connection a test opens is stopped and its base topic cleared afterwards. */
function harness(brokerUrl: () => string) {
  const open: MqttConnection[] = [];
  const bases: string[] = [];
  const connection = (base: string, extra: Partial<MqttConnectionOptions> = {}) => {
    const c = new MqttConnection({
      url: brokerUrl(),
      baseTopic: base,
      offlineQueueMax: 100,
      log: silentLogger(),
      ...extra,
    });
    open.push(c);
    return c;
  };
  const base = () => {
    const b = uniqueBaseTopic();
    bases.push(b);
    return b;
  };
  const cleanup = async () => {
    for (const c of open.splice(0)) await c.stop();
    for (const b of bases.splice(0)) await clearRetained(brokerUrl(), b);
  };
  return { connection, base, cleanup };
}

function spawnChild(url: string, base: string): { child: ChildProcess; connected: Promise<string> } {
  const script = path.join('test', 'support', 'mqtt-connection-child.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, MQTT_URL: url, MQTT_BASE_TOPIC: base },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const connected = new Promise<string>((resolve, reject) => {
    child.stdout?.once('data', (chunk: Buffer) => resolve(chunk.toString('utf8').trim()));
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before connecting`)));
  });
  return { child, connected };
}

function brokerContract(name: string, skip: string | undefined, brokerUrl: () => string) {
  describe.skipIf(skip !== undefined)(`MqttConnection on ${name}`, () => {
    const h = harness(brokerUrl);
    afterEach(() => h.cleanup());

    it('publishes online (retained) on connect, and offline (retained) on a clean stop', async () => {
      const base = h.base();
      const conn = h.connection(base);
      await conn.start();
      expect(conn.connected).toBe(true);
      expect(await readRetained(brokerUrl(), `${base}/availability`)).toBe('online');
      await conn.stop();
      expect(conn.connected).toBe(false);
      expect(await readRetained(brokerUrl(), `${base}/availability`)).toBe('offline');
    });

    it('leaves offline (retained) through the last will when the process is killed with SIGKILL', async () => {
      const base = h.base();
      const watcher = await MqttWatcher.open(brokerUrl(), [`${base}/availability`]);
      const { child, connected } = spawnChild(brokerUrl(), base);
      try {
        expect(await connected).toBe('connected');
        await watcher.waitFor((m) => m.payload === 'online', 5000, 'online');
        const killedAt = Date.now();
        child.kill('SIGKILL');
        await watcher.waitFor((m) => m.payload === 'offline', 10_000, 'the will');
        console.info(`${name}: will delivered ${Date.now() - killedAt} ms after SIGKILL`);
      } finally {
        child.kill('SIGKILL');
        await watcher.close();
      }
      expect(await readRetained(brokerUrl(), `${base}/availability`)).toBe('offline');
    });

    it('never throws on bad input: logs and drops it, and the connection stays usable', async () => {
      const base = h.base();
      const { log, lines } = captureLog();
      const conn = h.connection(base, { log });
      await conn.start();
      const watcher = await MqttWatcher.open(brokerUrl(), [`${base}/#`]);
      expect(() => conn.publish('a/#/b', 'x')).not.toThrow();
      await expect(conn.publishAsync('a/+/b', 'x', { qos: 1 })).resolves.toBeUndefined();
      await expect(conn.publishAsync('', 'x')).resolves.toBeUndefined();
      await expect(conn.publishAsync(`${base}/n`, 42 as unknown as string)).resolves.toBeUndefined();
      await conn.publishAsync(`${base}/after`, 'still fine', { qos: 1 });
      await watcher.waitFor((m) => m.topic === `${base}/after`, 5000, 'the message after the bad ones');
      await watcher.close();
      expect(conn.connected).toBe(true);
      const dropped = lines.filter((l) => l.msg.startsWith('MQTT message dropped')).map((l) => [l.topic, l.msg]);
      expect(dropped).toStrictEqual([
        ['a/#/b', 'MQTT message dropped: wildcards (+ or #) are not allowed in a topic to publish to'],
        ['a/+/b', 'MQTT message dropped: wildcards (+ or #) are not allowed in a topic to publish to'],
        ['', 'MQTT message dropped: the topic is empty'],
        [`${base}/n`, 'MQTT message dropped: the payload is not a string or Buffer'],
      ]);
    });

    it('dispatches by wildcard filter, and a failing handler never stops the others', async () => {
      const base = h.base();
      const conn = h.connection(base);
      const got: string[] = [];
      conn.subscribe(`${base}/cameras/+/detect/set`, (topic, payload) => {
        got.push(`plus ${topic.slice(base.length)} ${payload.toString()}`);
      });
      conn.subscribe(`${base}/alerts/#`, (topic, payload) => {
        got.push(`hash ${topic.slice(base.length)} ${payload.toString()}`);
      });
      // Overlaps `alerts/#`: brokers send one copy, and each matching filter's handler runs once.
      conn.subscribe(`${base}/alerts/+`, (topic) => {
        got.push(`one level ${topic.slice(base.length)}`);
      });
      conn.subscribe(`${base}/boom`, () => {
        throw new Error('sync failure');
      });
      conn.subscribe(`${base}/boom`, () => Promise.reject(new Error('async failure')));
      conn.subscribe(`${base}/boom`, () => {
        got.push('boom survived');
      });
      conn.subscribe(`${base}/done`, () => {
        got.push('done');
      });
      await conn.start();
      const watcher = await MqttWatcher.open(brokerUrl(), []);
      for (const [topic, payload] of [
        ['/cameras/porch/detect/set', 'ON'],
        ['/cameras/porch/detect/state', 'ignored'],
        ['/cameras/porch/extra/detect/set', 'ignored'],
        ['/boom', 'x'],
        ['/alerts', 'parent level'],
        ['/alerts/acknowledge', '{"all":true}'],
        ['/alerts/a/b', 'deep'],
        ['/done', 'end'],
      ] as const) {
        await watcher.publish(`${base}${topic}`, payload);
      }
      await until(() => got.includes('done'), 5000, 'the last message');
      await watcher.close();
      expect(got).toStrictEqual([
        'plus /cameras/porch/detect/set ON',
        'boom survived',
        'hash /alerts parent level',
        'hash /alerts/acknowledge {"all":true}',
        'one level /alerts/acknowledge',
        'hash /alerts/a/b deep',
        'done',
      ]);
    });
  });
}

brokerContract('Mosquitto', mosquittoDown, () => services.mqttUrl);

const embedded = { broker: undefined as EmbeddedBroker | undefined, url: '' };
describe('MqttConnection on the embedded broker', () => {
  beforeAll(async () => {
    embedded.broker = new EmbeddedBroker({
      host: '127.0.0.1',
      port: 0,
      username: '',
      password: '',
      log: silentLogger(),
    });
    embedded.url = await embedded.broker.start();
  });
  afterAll(() => embedded.broker?.stop());
  brokerContract('aedes', undefined, () => embedded.url);
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

describe('MqttConnection through broker outages (embedded broker stopped and restarted)', () => {
  const brokers: EmbeddedBroker[] = [];
  const connections: MqttConnection[] = [];
  const startBroker = (port: number) => {
    const broker = new EmbeddedBroker({ host: '127.0.0.1', port, username: '', password: '', log: silentLogger() });
    brokers.push(broker);
    return broker.start();
  };
  afterEach(async () => {
    for (const c of connections.splice(0)) await c.stop();
    for (const b of brokers.splice(0)) await b.stop();
  });

  it('queues while the broker is away, sends the queue on return, and keeps its subscriptions', async () => {
    const url = await startBroker(0);
    const base = uniqueBaseTopic();
    const { log, lines } = captureLog();
    // The first retry comes 1.5 s after the loss: time enough to restart the broker and subscribe the watcher first.
    const conn = new MqttConnection({ url, baseTopic: base, offlineQueueMax: 100, log, reconnectMinMs: 1500 });
    connections.push(conn);
    const commands: string[] = [];
    conn.subscribe(`${base}/cmd/+`, (_topic, payload) => {
      commands.push(payload.toString());
    });
    let connects = 0;
    conn.onConnect(() => {
      connects++;
    });
    await conn.start();
    // A QoS 1 round trip: `online` is acknowledged too, so the broker loss below cannot leave it in flight.
    await conn.publishAsync(`${base}/ready`, '', { qos: 1 });
    await brokers[0]?.stop();
    await until(() => !conn.connected, 5000, 'the connection to drop');
    conn.publish(`${base}/state`, 'one', { retain: true, qos: 1 });
    conn.publish(`${base}/event`, 'e1', { qos: 1 });
    conn.publish(`${base}/state`, 'two', { retain: true, qos: 1 });
    await expect(conn.publishAsync(`${base}/event`, 'e2', { qos: 1 })).resolves.toBeUndefined();

    await startBroker(Number(new URL(url).port));
    const watcher = await MqttWatcher.open(url, [`${base}/#`]);
    await watcher.waitFor((m) => m.topic === `${base}/event` && m.payload === 'e2', 10_000, 'the queued messages');
    expect(connects).toBe(2);
    expect(watcher.messages.map((m) => `${m.topic.slice(base.length)} ${m.payload}`)).toStrictEqual([
      '/availability online',
      '/event e1',
      '/state two',
      '/event e2',
    ]);
    for (let i = 0; commands.length === 0 && i < 50; i++) {
      await watcher.publish(`${base}/cmd/arm`, `ping ${i}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await watcher.close();
    expect(commands[0]).toMatch(/^ping \d+$/);
    const outageLogs = lines
      .filter((l) => l.level >= 30 && /connection (lost|restored)/.test(l.msg))
      .map((l) => l.level);
    expect(outageLogs).toStrictEqual([40, 30]);
  });

  it('start() gives up waiting after connectTimeoutMs, retries with backoff, and connects when a broker comes', async () => {
    const port = await freePort();
    const base = uniqueBaseTopic();
    const { log, lines } = captureLog();
    const conn = new MqttConnection({
      url: `mqtt://127.0.0.1:${port}`,
      baseTopic: base,
      offlineQueueMax: 100,
      log,
      connectTimeoutMs: 500,
      reconnectMinMs: 50,
      reconnectMaxMs: 200,
    });
    connections.push(conn);
    const startedAt = Date.now();
    await conn.start();
    const waitedMs = Date.now() - startedAt;
    expect(conn.connected).toBe(false);
    expect(waitedMs).toBeGreaterThanOrEqual(490);
    expect(waitedMs).toBeLessThan(2000);
    const warning = lines.find((l) => l.level === 40);
    expect(warning?.msg).toBe(
      'MQTT broker not reachable within 500 ms; HSI keeps running and keeps retrying in the background',
    );
    expect(String(warning?.error)).toContain('ECONNREFUSED');
    const delays = lines.filter((l) => l.msg === 'MQTT reconnect scheduled').map((l) => l.delay_ms);
    expect(delays.slice(0, 4)).toStrictEqual([50, 100, 200, 200]);

    const url = await startBroker(port);
    await until(() => conn.connected, 5000, 'the connection');
    expect(await readRetained(url, `${base}/availability`)).toBe('online');
    expect(lines.filter((l) => l.msg === 'connected to MQTT broker')).toHaveLength(1);
  });
});
