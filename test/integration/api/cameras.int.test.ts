import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getCamera } from '../../../src/storage/camera.repository.js';
import { seedDetections } from '../../support/seed.js';
import { ENGINES, engineUnavailable } from '../../support/stores.js';
import { type ApiHarness, call, createHarness, type ErrorJson } from './harness.js';

interface CameraJson {
  id: string;
  name: string;
  armed_when_away: boolean;
}

interface AuditJson {
  entries: { action: string; resource_id: string; actor: string; details: unknown }[];
}

for (const engine of ENGINES) {
  const skip = await engineUnavailable(engine);
  if (skip) console.warn(`skipping ${engine} camera API tests: ${skip}`);

  describe.skipIf(skip !== undefined)(`cameras API on ${engine}`, () => {
    let h: ApiHarness;
    const patch = (id: string, payload: unknown) =>
      call<CameraJson & ErrorJson>(h.app, { method: 'PATCH', url: `/api/cameras/${id}`, payload: payload as object });

    beforeAll(async () => {
      h = await createHarness(engine);
      await seedDetections(h.db, 'hallway', [{ objectType: 'cat', confidence: 0.8 }]);
      await seedDetections(h.db, 'garden', [{ objectType: 'person', confidence: 0.8 }]);
    });
    afterAll(async () => h?.close());

    it('shows armed_when_away (on by default) in the list and the camera', async () => {
      const list = await call<{ cameras: CameraJson[] }>(h.app, { url: '/api/cameras' });
      expect(list.json.cameras.map((c) => [c.id, c.armed_when_away])).toStrictEqual([
        ['garden', true],
        ['hallway', true],
      ]);
      expect((await call<CameraJson>(h.app, { url: '/api/cameras/hallway' })).json.armed_when_away).toBe(true);
    });

    it('turns armed_when_away off and on with PATCH, stored and audited; the name stays', async () => {
      const off = await patch('hallway', { armed_when_away: false });
      expect([off.res.statusCode, off.json.armed_when_away, off.json.name]).toStrictEqual([200, false, 'hallway']);
      expect((await getCamera(h.db, 'hallway'))?.armed_when_away).toBe(false);
      expect((await call<CameraJson>(h.app, { url: '/api/cameras/hallway' })).json.armed_when_away).toBe(false);
      expect((await getCamera(h.db, 'garden'))?.armed_when_away).toBe(true);

      const both = await patch('hallway', { name: 'Hall', armed_when_away: true });
      expect([both.json.name, both.json.armed_when_away]).toStrictEqual(['Hall', true]);

      const audit = await call<AuditJson>(h.app, { url: '/api/audit?resource_type=camera' });
      expect(audit.json.entries.map((e) => [e.action, e.resource_id, e.actor, e.details])).toStrictEqual([
        ['camera.armed_when_away', 'hallway', 'api', { armed_when_away: true, previous: false }],
        ['camera.rename', 'hallway', 'api', { name: 'Hall' }],
        ['camera.armed_when_away', 'hallway', 'api', { armed_when_away: false, previous: true }],
      ]);
    });

    it('refuses a wrong type, an unknown field and an empty patch (400 naming the field); 404 for no camera', async () => {
      const wrong = await patch('garden', { armed_when_away: 'no' });
      expect([wrong.res.statusCode, wrong.json.error.code, wrong.json.error.field]).toStrictEqual([
        400,
        'INVALID_INPUT',
        'armed_when_away',
      ]);
      const unknown = await patch('garden', { armed: false });
      expect([unknown.res.statusCode, unknown.json.error.field]).toStrictEqual([400, 'armed']);
      expect((await patch('garden', {})).res.statusCode).toBe(400);
      const missing = await patch('attic', { armed_when_away: false });
      expect([missing.res.statusCode, missing.json.error.code]).toStrictEqual([404, 'NOT_FOUND']);
      expect((await getCamera(h.db, 'garden'))?.armed_when_away).toBe(true);
    });
  });
}
