import net from 'node:net';
import { connectAsync } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../../../src/lib/errors.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { MqttConnection } from '../../../src/mqtt/client.js';
import { EmbeddedBroker, type EmbeddedBrokerOptions } from '../../../src/mqtt/embedded-broker.js';
import { captureLog, MqttWatcher, readRetained, until } from '../../support/mqtt-watcher.js';

describe('EmbeddedBroker', () => {
  const brokers: EmbeddedBroker[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];
  const broker = (options: Partial<EmbeddedBrokerOptions> = {}) => {
    const b = new EmbeddedBroker({
      host: '127.0.0.1',
      port: 0,
      username: '',
      password: '',
      log: silentLogger(),
      ...options,
    });
    brokers.push(b);
    return b;
  };
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
    for (const b of brokers.splice(0)) await b.stop();
  });

  it('listens on a free port with port 0, returns its URL and logs where it listens', async () => {
    const { log, lines } = captureLog();
    const url = await broker({ log }).start();
    expect(url).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
    const port = Number(new URL(url).port);
    expect(port).toBeGreaterThan(0);
    expect(lines.map((l) => l.msg)).toStrictEqual([`embedded MQTT broker listening on 127.0.0.1:${port}`]);
  });

  it('refuses a port in use with an error that says what to do', async () => {
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => squatter.close(resolve)));
    const address = squatter.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const error = await broker({ port })
      .start()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({
      code: 'CONFIG_INVALID',
      message:
        `mqtt.embedded.port ${port} on 127.0.0.1 is in use: another MQTT broker (or another program) listens there; ` +
        'set mqtt.url to use that broker, or choose another mqtt.embedded.port',
    });
  });

  it('with a user name and password: refuses wrong or missing credentials, accepts the right ones', async () => {
    const { log, raw } = captureLog();
    const url = await broker({ username: 'hsi', password: 'broker-secret-1', log }).start();
    const refused = (options: { username?: string; password?: string }) =>
      connectAsync(url, { reconnectPeriod: 0, connectTimeout: 3000, ...options }).then(
        async (c) => {
          await c.endAsync(true);
          return 'accepted';
        },
        (e: Error) => e.message,
      );
    expect(await refused({ username: 'hsi', password: 'bad-secret-9' })).toBe(
      'Connection refused: Bad username or password',
    );
    expect(await refused({})).toBe('Connection refused: Bad username or password');
    expect(await refused({ username: 'hsi', password: 'broker-secret-1' })).toBe('accepted');
    expect(raw.filter((line) => line.includes('refused a client'))).toHaveLength(2);
    expect(raw.some((line) => line.includes('broker-secret-1') || line.includes('bad-secret-9'))).toBe(false);
  });

  it('MqttConnection connects with credentials and never logs the password, even from the URL', async () => {
    const url = await broker({ username: 'hsi', password: 'broker-secret-2' }).start();
    const { log, raw } = captureLog();
    const withUrlCredentials = url.replace('mqtt://', 'mqtt://hsi:broker-secret-2@');
    const conn = new MqttConnection({ url: withUrlCredentials, baseTopic: 'hsi-auth', offlineQueueMax: 10, log });
    cleanups.push(() => conn.stop());
    await conn.start();
    expect(conn.connected).toBe(true);
    const wrong = new MqttConnection({
      url,
      username: 'hsi',
      password: 'broker-secret-3',
      baseTopic: 'hsi-auth-wrong',
      offlineQueueMax: 10,
      log,
      connectTimeoutMs: 300,
    });
    cleanups.push(() => wrong.stop());
    await wrong.start();
    expect(wrong.connected).toBe(false);
    const warning = raw.find((line) => line.includes('not reachable within 300 ms'));
    expect(warning).toContain('Connection refused: Bad username or password');
    expect(raw.some((line) => line.includes('broker-secret'))).toBe(false);
  });

  it('keeps retained messages for late subscribers and publishes the last will of a lost client', async () => {
    const url = await broker().start();
    const publisher = await connectAsync(url, {
      reconnectPeriod: 0,
      will: { topic: 'late/availability', payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    await publisher.publishAsync('late/state', 'armed_home', { qos: 1, retain: true });
    expect(await readRetained(url, 'late/state')).toBe('armed_home');
    publisher.stream.destroy();
    await until(() => !publisher.connected, 5000, 'the publisher to drop');
    const watcher = await MqttWatcher.open(url, ['late/availability']);
    cleanups.push(() => watcher.close());
    await expect(watcher.waitFor((m) => m.retain, 5000, 'the retained will')).resolves.toStrictEqual({
      topic: 'late/availability',
      payload: 'offline',
      retain: true,
    });
    await publisher.endAsync(true);
  });

  it('stop() disconnects clients and frees the port', async () => {
    const b = broker();
    const url = await b.start();
    const client = await connectAsync(url, { reconnectPeriod: 0 });
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    await b.stop();
    await closed;
    const again = await broker({ port: Number(new URL(url).port) }).start();
    expect(again).toBe(url);
    await client.endAsync(true);
  });
});
