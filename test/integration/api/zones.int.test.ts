import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BusEvents } from '../../../src/domain/events.js';
import { ensureCamera } from '../../../src/storage/camera.repository.js';
import { upsertZoneByName } from '../../../src/storage/zone.repository.js';
import { ENGINES, engineUnavailable } from '../../support/stores.js';
import { type ApiHarness, call, createHarness, type ErrorJson } from './harness.js';

const PORCH = {
  camera_id: 'front_door',
  name: 'Porch Steps',
  zone_type: 'entry_point',
  shape: { kind: 'rectangle', x: 0.1, y: 0.5, width: 0.3, height: 0.4 },
};

interface ArmingJson {
  mode: string;
  changed_by: string | null;
  zones: { id: string; armed: boolean; armed_now: boolean }[];
}

for (const engine of ENGINES) {
  const skip = await engineUnavailable(engine);
  if (skip) console.warn(`skipping ${engine} zones API tests: ${skip}`);

  describe.skipIf(skip !== undefined)(`zones and arming API on ${engine}`, () => {
    let h: ApiHarness;
    const changes: BusEvents['arming.changed'][] = [];

    beforeAll(async () => {
      h = await createHarness(engine);
      await ensureCamera(h.db, { id: 'front_door', name: 'Front Door', folderPath: 'Front Door' });
      await upsertZoneByName(h.db, {
        cameraId: 'front_door',
        name: 'Lawn',
        shape: { kind: 'rectangle', x: 0, y: 0, width: 1, height: 0.2 },
        source: 'config',
      });
      h.bus.on('arming.changed', (change) => {
        changes.push(change);
      });
    });
    afterAll(async () => h?.close());

    it('creates a zone (source api), refuses a duplicate, lists and shows it', async () => {
      const created = await call<Record<string, unknown>>(h.app, { method: 'POST', url: '/api/zones', payload: PORCH });
      expect(created.res.statusCode).toBe(201);
      expect(created.json).toMatchObject({
        ...PORCH,
        id: 'front_door__porch_steps',
        color: '#3b82f6',
        enabled: true,
        priority: 0,
        armed: false,
        source: 'api',
      });
      const again = await call<ErrorJson>(h.app, { method: 'POST', url: '/api/zones', payload: PORCH });
      expect([again.res.statusCode, again.json.error.code]).toStrictEqual([409, 'CONFLICT']);
      const clash = await call<ErrorJson>(h.app, {
        method: 'POST',
        url: '/api/zones',
        payload: { ...PORCH, name: 'porch steps' },
      });
      expect([clash.res.statusCode, clash.json.error.field]).toStrictEqual([400, 'name']);
      const list = await call<{ zones: { id: string }[] }>(h.app, { url: '/api/zones?camera=front_door' });
      expect(list.json.zones.map((z) => z.id)).toStrictEqual(['front_door__lawn', 'front_door__porch_steps']);
      const one = await call<{ name: string }>(h.app, { url: '/api/zones/front_door__porch_steps' });
      expect(one.json.name).toBe('Porch Steps');
      expect((await h.app.inject({ url: '/api/zones/front_door__attic' })).statusCode).toBe(404);
    });

    it('answers 400 naming the field of an invalid zone', async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ ...PORCH, name: 'A', camera_id: 'attic' }, 'camera_id'],
        [
          {
            ...PORCH,
            name: 'A',
            shape: {
              kind: 'polygon',
              points: [
                [0, 0],
                [1, 1],
              ],
            },
          },
          'shape.points',
        ],
        [{ ...PORCH, name: 'A', shape: { kind: 'rectangle', x: 1.5, y: 0, width: 0.1, height: 0.1 } }, 'shape.x'],
        [
          {
            ...PORCH,
            name: 'A',
            shape: {
              kind: 'polygon',
              points: [
                [0, 0],
                [1, 1],
                [1, 0],
                [0, 1],
              ],
            },
          },
          'shape.points',
        ],
        [{ ...PORCH, name: 'A', shape: { kind: 'circle' } }, 'shape.kind'],
        [{ ...PORCH, name: 'A', color: 'red' }, 'color'],
        [{ ...PORCH, name: 'A', zone_type: 'garden' }, 'zone_type'],
        [{ camera_id: 'front_door', name: 'A' }, 'shape'],
      ];
      for (const [payload, field] of cases) {
        const { res, json } = await call<ErrorJson>(h.app, { method: 'POST', url: '/api/zones', payload });
        expect([payload, res.statusCode, json.error.field]).toStrictEqual([payload, 400, field]);
      }
    });

    it('replaces a zone, refuses to edit or delete a configured one, deletes an API one', async () => {
      const shape = {
        kind: 'polygon',
        points: [
          [0.1, 0.1],
          [0.9, 0.1],
          [0.5, 0.9],
        ],
      };
      const put = await call<Record<string, unknown>>(h.app, {
        method: 'PUT',
        url: '/api/zones/front_door__porch_steps',
        payload: { shape, priority: 5, color: '#ff0000' },
      });
      expect(put.res.statusCode).toBe(200);
      expect(put.json).toMatchObject({ name: 'Porch Steps', shape, priority: 5, color: '#ff0000', zone_type: 'other' });
      const renamed = await call<ErrorJson>(h.app, {
        method: 'PUT',
        url: '/api/zones/front_door__porch_steps',
        payload: { shape, name: 'Porch' },
      });
      expect([renamed.res.statusCode, renamed.json.error.field]).toStrictEqual([400, 'name']);
      const configured = await call<ErrorJson>(h.app, {
        method: 'PUT',
        url: '/api/zones/front_door__lawn',
        payload: { shape },
      });
      expect([configured.res.statusCode, configured.json.error.code]).toStrictEqual([409, 'CONFLICT']);
      expect((await h.app.inject({ method: 'DELETE', url: '/api/zones/front_door__lawn' })).statusCode).toBe(409);

      const temp = await call<{ id: string }>(h.app, {
        method: 'POST',
        url: '/api/zones',
        payload: { ...PORCH, name: 'Temporary' },
      });
      expect((await h.app.inject({ method: 'DELETE', url: `/api/zones/${temp.json.id}` })).statusCode).toBe(204);
      expect((await h.app.inject({ url: `/api/zones/${temp.json.id}` })).statusCode).toBe(404);
      const audit = await call<{ entries: { action: string; actor: string }[] }>(h.app, {
        url: '/api/audit?resource_type=zone',
      });
      expect(audit.json.entries.map((e) => `${e.action} ${e.actor}`)).toStrictEqual([
        'zone.delete api',
        'zone.create api',
        'zone.update api',
        'zone.create api',
      ]);
    });

    it('sets the house mode and the zone switches, announced on the bus', async () => {
      const before = await call<ArmingJson>(h.app, { url: '/api/arming' });
      expect([before.json.mode, before.json.changed_by]).toStrictEqual(['disarmed', null]);
      const armed = await call<ArmingJson>(h.app, {
        method: 'PUT',
        url: '/api/zones/front_door__porch_steps/armed',
        payload: { armed: true },
      });
      expect([armed.res.statusCode, (armed.json as unknown as { armed: boolean }).armed]).toStrictEqual([200, true]);
      const away = await call<ArmingJson>(h.app, {
        method: 'PUT',
        url: '/api/arming',
        payload: { mode: 'armed_away' },
      });
      expect(away.res.statusCode).toBe(200);
      expect([away.json.mode, away.json.changed_by]).toStrictEqual(['armed_away', 'api']);
      // Priority first: the porch was given priority 5.
      expect(away.json.zones).toStrictEqual([
        {
          id: 'front_door__porch_steps',
          camera_id: 'front_door',
          name: 'Porch Steps',
          armed: true,
          armed_now: true,
        },
        { id: 'front_door__lawn', camera_id: 'front_door', name: 'Lawn', armed: false, armed_now: false },
      ]);
      expect(changes).toStrictEqual([
        { scope: 'zone', zoneId: 'front_door__porch_steps', cameraId: 'front_door', armed: true, actor: 'api' },
        { scope: 'house', mode: 'armed_away', previous: 'disarmed', actor: 'api' },
      ]);
      const bad = await call<ErrorJson>(h.app, {
        method: 'PUT',
        url: '/api/arming',
        payload: { mode: 'armed_holiday' },
      });
      expect([bad.res.statusCode, bad.json.error.field]).toStrictEqual([400, 'mode']);
      const missing = await call<ErrorJson>(h.app, {
        method: 'PUT',
        url: '/api/zones/front_door__attic/armed',
        payload: { armed: true },
      });
      expect([missing.res.statusCode, missing.json.error.code]).toStrictEqual([404, 'NOT_FOUND']);
    });
  });
}
