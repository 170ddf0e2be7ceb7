import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingAsset, modelPath } from '../../support/env.js';
import { type HaSession, startHaSession, stopHaSession } from '../../support/ha-session.js';
import { brokerUrl, HomeAssistant } from '../../support/home-assistant.js';
import { BACKENDS, backendsUnavailable, type TestHsi } from '../../support/hsi.js';
import { freePortRange } from '../../support/ports.js';

/**
 * Zones and cameras changed through the HTTP API reach Home Assistant at once (no HA restart): the camera's device
 * discovery is republished with the new zone switch, without a deleted one, with a new name, or cleared.
 */

const assetsMissing = missingAsset(modelPath('yolox_nano.onnx'));
const CONFIG_ZONES = JSON.stringify([
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

interface DeviceConfig {
  dev: { name: string };
  cmps: Record<string, Record<string, unknown>>;
}

for (const backends of BACKENDS) {
  const skip = assetsMissing ?? (await backendsUnavailable(backends, { mosquitto: true }));
  if (skip) console.warn(`skipping the zone and camera discovery tests on ${backends}: ${skip}`);

  describe.skipIf(skip !== undefined)(`zones and cameras changed through the API, in HA, on ${backends}`, () => {
    let session: HaSession | undefined;
    let t: TestHsi;
    let ha: HomeAssistant;
    let base: string;
    let api: string;
    let device: string;

    beforeAll(async () => {
      const port = await freePortRange(1);
      api = `http://127.0.0.1:${port}`;
      session = await startHaSession(backends, { HSI_ZONES: CONFIG_ZONES, HSI_HTTP_PORT: String(port) });
      ({ t, ha, base } = session);
      base = t.config.mqtt.base_topic;
      device = `${t.config.mqtt.discovery_prefix}/device/${base}_front_door/config`;
      ha = await HomeAssistant.connect(brokerUrl(t.hsi), { base, prefix: t.config.mqtt.discovery_prefix });
      await ha.next(`${base}/alarm/state`);
    });
    afterAll(() => stopHaSession(backends, session));

    const call = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${api}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>) };
    };
    /** The next config of the front door's device at or after `from` that passes `test`. */
    const nextConfig = async (from: number, test: (c: DeviceConfig) => boolean) =>
      JSON.parse(
        (await ha.next(device, (p) => p !== '' && test(JSON.parse(p) as DeviceConfig), from)).payload,
      ) as DeviceConfig;

    it('a zone created through the API gets its arm switch; deleted, the switch is removed', async () => {
      await nextConfig(0, (c) => 'zone_front_door__porch_armed' in c.cmps);
      const from = ha.mark();
      const created = await call('POST', '/api/zones', {
        camera_id: 'front_door',
        name: 'Driveway',
        shape: { kind: 'rectangle', x: 0.1, y: 0.5, width: 0.3, height: 0.4 },
        armed: true,
      });
      expect(created.status).toBe(201);
      const zoneId = created.body?.id as string;
      const key = `zone_${zoneId}_armed`;
      const withZone = await nextConfig(from, (c) => key in c.cmps);
      expect(withZone.cmps[key]).toMatchObject({
        p: 'switch',
        name: 'Driveway armed',
        command_topic: `${base}/zones/${zoneId}/armed/set`,
        state_topic: `${base}/zones/${zoneId}/armed/state`,
      });
      expect(withZone.cmps).toHaveProperty('zone_front_door__porch_armed');
      await ha.next(`${base}/zones/${zoneId}/armed/state`, (p) => p === 'ON', from);

      const deletedFrom = ha.mark();
      expect((await call('DELETE', `/api/zones/${zoneId}`)).status).toBe(204);
      // HA's documented removal of one component of a device: reduced to its platform, then dropped.
      const reduced = await nextConfig(deletedFrom, (c) => Object.keys(c.cmps[key] ?? {}).length === 1);
      expect(reduced.cmps[key]).toStrictEqual({ p: 'switch' });
      const dropped = await nextConfig(deletedFrom, (c) => !(key in c.cmps));
      expect(dropped.cmps).toHaveProperty('zone_front_door__porch_armed');
      const cleared = await ha.next(`${base}/zones/${zoneId}/armed/state`, () => true, deletedFrom);
      expect(cleared.payload).toBe('');
    });

    it('a camera renamed through the API renames its device; deleted, its device config is cleared', async () => {
      const from = ha.mark();
      const renamed = await call('PATCH', '/api/cameras/front_door', { name: 'Front gate' });
      expect(renamed).toMatchObject({ status: 200, body: { id: 'front_door', name: 'Front gate' } });
      await nextConfig(from, (c) => c.dev.name === 'Front gate');

      const deletedFrom = ha.mark();
      expect((await call('DELETE', '/api/cameras/front_door')).status).toBe(204);
      const cleared = await ha.next(device, () => true, deletedFrom);
      expect(cleared.payload).toBe('');
      expect((await call('GET', '/api/cameras/front_door')).status).toBe(404);
    });
  });
}
