import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'basic-ftp';
import { connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../../../src/api/server.js';
import { type FtpReceiver, startFtpReceiver } from '../../../src/ingest/ftp-receiver.js';
import { FailedLogins } from '../../../src/lib/failed-logins.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { EmbeddedBroker } from '../../../src/mqtt/embedded-broker.js';
import type { Engine } from '../../../src/storage/database.js';
import { freePortRange } from '../../support/ports.js';
import { engineUnavailable } from '../../support/stores.js';
import { type ApiHarness, apiConfig, createHarness } from './harness.js';

/**
 * `hsi_failed_logins_total{service}` on /metrics (issue 11): refused logins of the real FTP receiver and the real
 * embedded broker, and the alarm code's count, each as registered by the service that checks them.
 */

const ENGINE: Engine = (await engineUnavailable('postgres')) === undefined ? 'postgres' : 'pglite';

const series = (text: string, service: string) =>
  new RegExp(`^hsi_failed_logins_total\\{service="${service}"\\} (\\d+)$`, 'm').exec(text)?.[1];

describe('failed logins on /metrics', () => {
  let h: ApiHarness;
  let tmp: string;
  let ftp: FtpReceiver;
  let broker: EmbeddedBroker;
  let brokerUrl: string;
  let wrongCodes = 0;

  beforeAll(async () => {
    h = await createHarness(ENGINE);
    tmp = mkdtempSync(path.join(os.tmpdir(), 'hsi-failed-logins-'));
    mkdirSync(path.join(tmp, 'media'));
    const passive = await freePortRange(2);
    const camera = { username: 'frontcam', password: 'front-s3cret', camera: 'Front Door' };
    ftp = await startFtpReceiver(
      {
        enabled: true,
        host: '127.0.0.1',
        port: 0,
        passive_url: '',
        passive_min_port: passive,
        passive_max_port: passive + 1,
        idle_timeout_s: 300,
        max_connections: 32,
        max_connections_per_address: 8,
        login_timeout_s: 10,
        command_timeout_s: 10,
        users: [camera],
      },
      { mediaRoot: path.join(tmp, 'media'), maxFileBytes: 1024 * 1024, log: silentLogger() },
    );
    broker = new EmbeddedBroker({
      host: '127.0.0.1',
      port: 0,
      username: 'homeassistant',
      password: 'br0ker-secret',
      log: silentLogger(),
    });
    brokerUrl = await broker.start();
  });
  afterAll(async () => {
    await ftp?.close();
    await broker?.stop();
    await h?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  async function ftpLoginFails(password: string): Promise<void> {
    const client = new Client(5000);
    try {
      await expect(client.access({ host: '127.0.0.1', port: ftp.port, user: 'frontcam', password })).rejects.toThrow(
        /530/,
      );
    } finally {
      client.close();
    }
  }

  async function mqttLoginFails(password: string): Promise<void> {
    await expect(
      connectAsync(brokerUrl, { username: 'homeassistant', password, reconnectPeriod: 0, connectTimeout: 5000 }),
    ).rejects.toThrow();
  }

  it('counts refused FTP, MQTT and alarm code logins per service, only growing', async () => {
    const logins = new FailedLogins();
    logins.register('ftp', () => ftp.failedLogins());
    logins.register('mqtt', () => broker.failedLogins);
    logins.register('alarm_code', () => wrongCodes);
    const app = await createApi(apiConfig(h.mediaRoot), { ...h.deps, failedLogins: logins });
    try {
      const scrape = async () => (await app.inject({ url: '/metrics' })).body;
      const first = await scrape();
      expect(first).toContain('# TYPE hsi_failed_logins_total counter');
      expect(['ftp', 'mqtt', 'alarm_code'].map((s) => series(first, s))).toStrictEqual(['0', '0', '0']);

      await ftpLoginFails('guess-1');
      await ftpLoginFails('guess-2');
      await mqttLoginFails('nope');
      wrongCodes = 3;
      const second = await scrape();
      expect(['ftp', 'mqtt', 'alarm_code'].map((s) => series(second, s))).toStrictEqual(['2', '1', '3']);
      // A scrape with nothing new leaves the counters as they were.
      const third = await scrape();
      expect(['ftp', 'mqtt', 'alarm_code'].map((s) => series(third, s))).toStrictEqual(['2', '1', '3']);
    } finally {
      await app.close();
    }
  });

  it('has no series for a service this process does not run', async () => {
    const logins = new FailedLogins();
    logins.register('ftp', () => ftp.failedLogins());
    const app = await createApi(apiConfig(h.mediaRoot), { ...h.deps, failedLogins: logins });
    try {
      const text = (await app.inject({ url: '/metrics' })).body;
      expect(series(text, 'ftp')).toBe(String(ftp.failedLogins()));
      expect([series(text, 'mqtt'), series(text, 'alarm_code')]).toStrictEqual([undefined, undefined]);
    } finally {
      await app.close();
    }
  });
});
