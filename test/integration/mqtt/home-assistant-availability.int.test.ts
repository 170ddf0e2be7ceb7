import { rmSync } from 'node:fs';
import { connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/lib/logger.js';
import { EmbeddedBroker } from '../../../src/mqtt/embedded-broker.js';
import { missingAsset, modelPath, services } from '../../support/env.js';
import { HomeAssistant, payloadsOf, topicsOf } from '../../support/home-assistant.js';
import { BACKENDS, backendsUnavailable, testEnvironment } from '../../support/hsi.js';
import { clearRetained, readRetained } from '../../support/mqtt-watcher.js';
import { HsiProcess } from '../../support/process.js';

const assetsMissing = missingAsset(modelPath('yolox_nano.onnx'));

for (const backends of BACKENDS) {
  const skip = assetsMissing ?? (await backendsUnavailable(backends, { mosquitto: true }));
  if (skip) console.warn(`skipping Home Assistant availability tests on ${backends}: ${skip}`);

  // HSI runs as a child process. Its embedded broker would die with it, so on the embedded backends the broker that
  // outlives the kill (and delivers the last will) is an aedes broker in this process; Mosquitto otherwise.
  describe.skipIf(skip !== undefined)(`service availability of a killed and restarted HSI on ${backends}`, () => {
    const cleanups: (() => Promise<unknown>)[] = [];
    let env: Record<string, string>;
    let url: string;
    let ha: HomeAssistant;
    let availability: string;

    beforeAll(async () => {
      url = services.mqttUrl;
      if (backends === 'pglite+memory') {
        const broker = new EmbeddedBroker({
          host: '127.0.0.1',
          port: 0,
          username: '',
          password: '',
          log: silentLogger(),
        });
        url = await broker.start();
        cleanups.push(() => broker.stop());
      }
      const made = await testEnvironment(backends, { HSI_MQTT_URL: url, HSI_LOG_LEVEL: 'info' });
      env = made.env;
      cleanups.push(async () => {
        await made.dropDatabase();
        rmSync(made.root, { recursive: true, force: true });
      });
      const topics = topicsOf(env);
      availability = `${topics.base}/availability`;
      ha = await HomeAssistant.connect(url, topics);
      cleanups.push(async () => {
        await ha.close();
        if (backends === 'postgres+redis') await clearRetained(url, topics.base);
      });
    });
    afterAll(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
    });

    const start = async () => {
      const hsi = HsiProcess.start(env);
      cleanups.push(async () => void hsi.child.kill('SIGKILL'));
      await hsi.ready(45_000);
      return hsi;
    };

    it('is online (retained) while running, offline through the last will after SIGKILL, online again', async () => {
      const first = await start();
      await ha.next(availability, (p) => p === 'online');
      expect(await readRetained(url, availability)).toBe('online');

      const killedAt = ha.mark();
      expect(await first.kill('SIGKILL')).toBeNull();
      await ha.next(availability, (p) => p === 'offline', killedAt, 5000);
      expect(await readRetained(url, availability)).toBe('offline');
      expect(first.lines.some((l) => l.msg === 'MQTT connection closed')).toBe(false);

      const restartedAt = ha.mark();
      const second = await start();
      await ha.next(availability, (p) => p === 'online', restartedAt);
      expect(await readRetained(url, availability)).toBe('online');

      // An earlier connection's last will that the broker only publishes now (it noticed the death late) does not
      // leave the running HSI shown offline.
      const ghost = await connectAsync(url, {
        reconnectPeriod: 0,
        will: { topic: availability, payload: Buffer.from('offline'), qos: 1, retain: true },
      });
      const ghostDiedAt = ha.mark();
      ghost.stream.destroy();
      await ha.next(availability, (p) => p === 'offline', ghostDiedAt, 5000);
      await ha.next(availability, (p) => p === 'online', ghostDiedAt, 5000);
      expect(await readRetained(url, availability)).toBe('online');
      await ghost.endAsync(true);

      const stoppedAt = ha.mark();
      expect(await second.kill('SIGTERM')).toBe(0);
      await ha.next(availability, (p) => p === 'offline', stoppedAt, 2000);
      await new Promise((r) => setTimeout(r, 300));
      // Published by HSI before its clean disconnect (which discards the will): exactly once.
      expect(payloadsOf(ha.messages, availability, stoppedAt)).toStrictEqual(['offline']);
      expect(await readRetained(url, availability)).toBe('offline');
      expect(second.lines.find((l) => l.msg === 'MQTT connection closed')).toMatchObject({ clean: true });
    });
  });
}
