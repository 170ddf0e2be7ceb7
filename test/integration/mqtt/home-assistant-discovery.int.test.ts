import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hsi } from '../../../src/main.js';
import { fixtureImage, missingAsset, modelPath } from '../../support/env.js';
import { componentProblems } from '../../support/ha-schema.js';
import { brokerUrl, HomeAssistant, startHsiFrom, topicsOf } from '../../support/home-assistant.js';
import { BACKENDS, backendsUnavailable, testEnvironment, waitForMedia } from '../../support/hsi.js';
import { clearRetained } from '../../support/mqtt-watcher.js';

const assetsMissing = missingAsset(
  modelPath('yolox_nano.onnx'),
  fixtureImage('no_target_coffee.png'),
  fixtureImage('cat_chelsea.png'),
);
const ZONES = JSON.stringify([
  {
    camera_id: 'front_door',
    name: 'Porch',
    polygon: [
      [0, 0],
      [1, 0],
      [1, 1],
      [0, 1],
    ],
  },
]);

interface Device {
  dev: { identifiers: string[]; name: string; via_device?: string };
  o: { name: string; sw_version: string; support_url: string };
  cmps: Record<string, Record<string, unknown>>;
}

for (const backends of BACKENDS) {
  const skip = assetsMissing ?? (await backendsUnavailable(backends, { mosquitto: true }));
  if (skip) console.warn(`skipping Home Assistant discovery tests on ${backends}: ${skip}`);

  describe.skipIf(skip !== undefined)(`Home Assistant discovery on ${backends}`, () => {
    let hsi: Hsi;
    let ha: HomeAssistant;
    let cleanup: () => Promise<void>;
    let base: string;
    let prefix: string;
    let restart: () => Promise<void>;
    const configTopic = (objectId: string) => `${prefix}/device/${base}_${objectId}/config`;
    const isConfig = (topic: string) => topic.startsWith(`${prefix}/device/`) && topic.endsWith('/config');
    const dropImage = (folder: string, fixture: string) => {
      mkdirSync(path.join(hsi.config.media_root, folder), { recursive: true });
      copyFileSync(fixtureImage(fixture), path.join(hsi.config.media_root, folder, fixture));
      return waitForMedia(hsi.store.db, `${folder}/${fixture}`);
    };

    beforeAll(async () => {
      const { env, root, dropDatabase } = await testEnvironment(backends, { HSI_ZONES: ZONES });
      ({ base, prefix } = topicsOf(env));
      hsi = await startHsiFrom(env, root);
      await hsi.reconciled;
      ha = await HomeAssistant.connect(brokerUrl(hsi), { base, prefix });
      restart = async () => {
        await hsi.stop();
        hsi = await startHsiFrom(env, root);
      };
      cleanup = async () => {
        await ha.close();
        const url = brokerUrl(hsi);
        await hsi.stop();
        if (backends === 'postgres+redis') {
          await clearRetained(url, base);
          await clearRetained(url, `${prefix}/device`);
        }
        await dropDatabase();
        rmSync(root, { recursive: true, force: true });
      };
    });
    afterAll(async () => cleanup?.());

    it('retains one valid device message per device, with the keys HA requires and unique ids', async () => {
      await ha.next(configTopic('hub'));
      await ha.next(configTopic('front_door'));
      // A Home Assistant that starts now sees the retained messages.
      const fresh = await HomeAssistant.connect(brokerUrl(hsi), { base, prefix });
      await fresh.next(configTopic('front_door'));
      await new Promise((r) => setTimeout(r, 300));
      await fresh.close();
      const retained = fresh.messages.filter((m) => isConfig(m.topic) && m.retain);
      expect(retained.map((m) => m.topic).sort()).toStrictEqual([configTopic('front_door'), configTopic('hub')]);
      const uniqueIds: string[] = [];
      for (const message of retained) {
        const device = JSON.parse(message.payload) as Device;
        expect(device.dev.identifiers).toStrictEqual([message.topic.split('/')[2]]);
        expect(device.o).toStrictEqual({
          name: 'HSI',
          sw_version: expect.stringMatching(/^\d+\.\d+\.\d+/),
          support_url: expect.stringMatching(/^https:\/\//),
        });
        for (const [key, component] of Object.entries(device.cmps)) {
          expect(componentProblems(key, component)).toStrictEqual([]);
          expect(component.availability).toContainEqual({ topic: `${base}/availability` });
          uniqueIds.push(String(component.unique_id));
        }
        expect(message.payload).not.toMatch(/"(hsi|homeassistant)\//);
      }
      expect(new Set(uniqueIds).size).toBe(uniqueIds.length);
      const camera = JSON.parse(retained.find((m) => m.topic === configTopic('front_door'))!.payload) as Device;
      expect(camera.dev.via_device).toBe(`${base}_hub`);
      expect(Object.keys(camera.cmps).sort()).toStrictEqual(
        [
          'detection',
          'motion',
          'person',
          'risk_level',
          'risk_score',
          'security_event',
          'snapshot',
          'status',
          'zone_front_door__porch_armed',
        ].sort(),
      );
    });

    it('re-publishes every device 0-5 s after the HA birth message, then the states', async () => {
      await ha.next(`${base}/health/system`); // the start-up publishing is over
      const from = ha.mark();
      const sentAt = Date.now();
      await ha.birth();
      await ha.next(configTopic('hub'), () => true, from, 8000);
      expect(Date.now() - sentAt).toBeLessThan(5500);
      const camera = await ha.next(configTopic('front_door'), () => true, from);
      const afterConfigs = ha.messages.indexOf(camera) + 1;
      for (const topic of [
        `${base}/alarm/state`,
        `${base}/cameras/front_door/detect/state`,
        `${base}/zones/front_door__porch/armed/state`,
        `${base}/hub/active_alerts`,
        `${base}/health/system`,
      ]) {
        await ha.next(topic, () => true, afterConfigs, 3000);
      }
      expect(ha.messages.slice(from).flatMap((m) => (isConfig(m.topic) ? [m.topic] : []))).toStrictEqual([
        configTopic('hub'),
        configTopic('front_door'),
      ]);
    });

    it('gives a camera its device on its first upload and re-sends nothing identical', async () => {
      const from = ha.mark();
      await dropImage('Back Yard', 'no_target_coffee.png');
      const message = await ha.next(configTopic('back_yard'), () => true, from);
      const device = JSON.parse(message.payload) as Device;
      expect(device.dev.name).toBe('Back Yard');
      for (const [key, component] of Object.entries(device.cmps)) {
        expect(componentProblems(key, component)).toStrictEqual([]);
      }
      await ha.next(`${base}/cameras/back_yard/detect/state`, (p) => p === 'ON', from);
      await new Promise((r) => setTimeout(r, 1000));
      expect(
        ha.messages
          .slice(from)
          .filter((m) => isConfig(m.topic))
          .map((m) => m.topic),
      ).toStrictEqual([configTopic('back_yard')]);
    });

    it('re-sends after a restart only the device messages the broker no longer holds', async () => {
      const devices = [configTopic('back_yard'), configTopic('front_door'), configTopic('hub')];
      if (backends === 'postgres+redis') {
        // Mosquitto keeps the retained messages: HSI reads them back and publishes none again.
        const from = ha.mark();
        await restart();
        await ha.next(`${base}/health/system`, () => true, from, 10_000);
        expect(ha.messages.slice(from).filter((m) => isConfig(m.topic))).toStrictEqual([]);
      } else {
        // The embedded broker starts empty: every device is published again.
        await ha.close();
        await restart();
        ha = await HomeAssistant.connect(brokerUrl(hsi), { base, prefix });
        await ha.next(`${base}/health/system`, () => true, 0, 10_000);
      }
      const fresh = await HomeAssistant.connect(brokerUrl(hsi), { base, prefix });
      for (const topic of devices) await fresh.next(topic);
      await fresh.close();
      const held = fresh.messages.filter((m) => isConfig(m.topic)).map((m) => `${m.topic} retain=${m.retain}`);
      expect(held.sort()).toStrictEqual(devices.map((topic) => `${topic} retain=true`));
    });

    it("names a zone's placeholder camera after its folder on the camera's first upload", async () => {
      const from = ha.mark();
      await dropImage('Front Door', 'cat_chelsea.png');
      const message = await ha.next(configTopic('front_door'), () => true, from);
      expect((JSON.parse(message.payload) as Device).dev.name).toBe('Front Door');
      await new Promise((r) => setTimeout(r, 500));
      expect(
        ha.messages
          .slice(from)
          .filter((m) => isConfig(m.topic))
          .map((m) => m.topic),
      ).toStrictEqual([configTopic('front_door')]);
    });
  });
}
