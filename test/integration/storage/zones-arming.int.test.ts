import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ZoneShape } from '../../../src/domain/zones.js';
import { getHouseMode, getHouseState, setHouseMode } from '../../../src/storage/arming.repository.js';
import { listAudit, writeAudit } from '../../../src/storage/audit.repository.js';
import { ensureCamera } from '../../../src/storage/camera.repository.js';
import type { DbOrTx } from '../../../src/storage/database.js';
import {
  deleteZone,
  getZone,
  listZones,
  removeConfigZonesNotIn,
  setZoneArmed,
  upsertZoneByName,
} from '../../../src/storage/zone.repository.js';
import { createTestStore, ENGINES, engineUnavailable, type TestStore } from '../../support/stores.js';

const PORCH: ZoneShape = { kind: 'rectangle', x: 0.1, y: 0.5, width: 0.3, height: 0.5 };
const LAWN: ZoneShape = {
  kind: 'polygon',
  points: [
    [0.5, 0.5],
    [1, 0.5],
    [1, 1],
    [0.5, 1],
  ],
};

for (const engine of ENGINES) {
  const skip = await engineUnavailable(engine);
  if (skip) console.warn(`skipping ${engine} zone/arming storage tests: ${skip}`);

  describe.skipIf(skip !== undefined)(`zones, house mode and audit log on ${engine}`, () => {
    let t: TestStore;
    let db: DbOrTx;
    beforeAll(async () => {
      t = await createTestStore(engine);
      db = t.store.db;
      await ensureCamera(db, { id: 'front_door', name: 'Front Door', folderPath: '/media/Front Door' });
      await ensureCamera(db, { id: 'garden', name: 'Garden', folderPath: '/media/Garden' });
    });
    afterAll(async () => t?.dispose());

    it('upserts zones by name, keeping id and arming switch across config syncs', async () => {
      const porch = await upsertZoneByName(db, {
        cameraId: 'front_door',
        name: 'Porch Steps',
        zoneType: 'entry_point',
        shape: PORCH,
        source: 'config',
      });
      expect(porch).toMatchObject({
        id: 'front_door__porch_steps',
        cameraId: 'front_door',
        zoneType: 'entry_point',
        shape: PORCH,
        color: '#3b82f6',
        enabled: true,
        priority: 0,
        armed: false,
        source: 'config',
      });
      expect(await setZoneArmed(db, porch.id, true)).toMatchObject({ id: porch.id, armed: true });
      const synced = await upsertZoneByName(db, {
        cameraId: 'front_door',
        name: 'Porch Steps',
        zoneType: 'entry_point',
        shape: LAWN,
        color: '#ff9800',
        priority: 5,
        source: 'config',
      });
      expect(synced).toMatchObject({ id: porch.id, shape: LAWN, color: '#ff9800', priority: 5, armed: true });
      expect(synced.createdAt).toStrictEqual(porch.createdAt);
      expect(await getZone(db, porch.id)).toStrictEqual(synced);
      expect(await setZoneArmed(db, 'no_such_zone', true)).toBeUndefined();
    });

    it('lists zones per camera and removes config zones gone from the file, never API zones', async () => {
      await upsertZoneByName(db, { cameraId: 'garden', name: 'Lawn', shape: LAWN, source: 'config', priority: 1 });
      await upsertZoneByName(db, { cameraId: 'garden', name: 'Shed', shape: PORCH, source: 'config', priority: 2 });
      await upsertZoneByName(db, { cameraId: 'garden', name: 'Gate', shape: PORCH, source: 'api', armed: true });
      expect((await listZones(db, 'garden')).map((z) => [z.name, z.armed])).toStrictEqual([
        ['Shed', false],
        ['Lawn', false],
        ['Gate', true],
      ]);
      const removed = await removeConfigZonesNotIn(db, [
        { cameraId: 'front_door', name: 'Porch Steps' },
        { cameraId: 'garden', name: 'Lawn' },
      ]);
      expect(removed).toStrictEqual(['garden__shed']);
      expect((await listZones(db)).map((z) => z.id)).toStrictEqual([
        'front_door__porch_steps',
        'garden__lawn',
        'garden__gate',
      ]);
      expect(await deleteZone(db, 'garden__gate')).toBe(true);
      expect(await deleteZone(db, 'garden__gate')).toBe(false);
      expect(await removeConfigZonesNotIn(db, [])).toStrictEqual(['front_door__porch_steps', 'garden__lawn']);
      expect(await listZones(db)).toStrictEqual([]);
    });

    it('refuses an invalid zone and a name whose id collides with another zone', async () => {
      const bad = upsertZoneByName(db, {
        cameraId: 'garden',
        name: 'Pond',
        shape: { kind: 'rectangle', x: 0.8, y: 0, width: 0.5, height: 0.2 },
        color: 'red',
        source: 'api',
      });
      await expect(bad).rejects.toThrow(
        'zone "Pond" on camera garden: color must look like #rrggbb, got "red"; shape.x + shape.width must not exceed 1',
      );
      await upsertZoneByName(db, { cameraId: 'garden', name: 'Back Porch', shape: PORCH, source: 'api' });
      const clash = upsertZoneByName(db, { cameraId: 'garden', name: 'back-porch', shape: PORCH, source: 'api' });
      await expect(clash).rejects.toThrow(/would get id garden__back_porch, already used by zone "Back Porch"/);
    });

    it('reports disarmed until the house mode is set, then who set it', async () => {
      expect(await getHouseMode(db)).toBe('disarmed');
      expect(await getHouseState(db)).toStrictEqual({ mode: 'disarmed', changedAt: null, changedBy: null });
      const changedAt = new Date('2026-03-01T22:00:00Z');
      expect(await setHouseMode(db, 'armed_night', 'mqtt', changedAt)).toStrictEqual({
        state: { mode: 'armed_night', changedAt, changedBy: 'mqtt' },
        previous: 'disarmed',
      });
      const next = await setHouseMode(db, 'armed_away', 'api:alice', new Date('2026-03-02T08:00:00Z'));
      expect(next.previous).toBe('armed_night');
      expect(await getHouseMode(db)).toBe('armed_away');
      const rows = await db.selectFrom('house_state').selectAll().execute();
      expect(rows.length).toBe(1);
      await expect(setHouseMode(db, 'armed_vacation' as 'armed_away', 'mqtt', new Date())).rejects.toThrow(
        'house mode must be one of disarmed, armed_home, armed_away, armed_night, got armed_vacation',
      );
    });

    it('writes the audit trail and lists it newest first, by action', async () => {
      await writeAudit(db, {
        action: 'house_mode.set',
        resourceType: 'house',
        actor: 'mqtt',
        details: { from: 'disarmed', to: 'armed_away' },
        timestamp: new Date('2026-03-01T10:00:00Z'),
      });
      await writeAudit(db, {
        action: 'zone.arm',
        resourceType: 'zone',
        resourceId: 'garden__lawn',
        actor: 'api:alice',
        ipAddress: '192.168.1.20',
        status: 'failure',
        timestamp: new Date('2026-03-01T11:00:00Z'),
      });
      const all = await listAudit(db);
      expect(all.map((e) => e.action)).toStrictEqual(['zone.arm', 'house_mode.set']);
      expect(all[0]).toMatchObject({ resourceId: 'garden__lawn', ipAddress: '192.168.1.20', status: 'failure' });
      const modes = await listAudit(db, { action: 'house_mode.set', limit: 10 });
      expect(modes.map((e) => [e.details, e.status, e.resourceId])).toStrictEqual([
        [{ from: 'disarmed', to: 'armed_away' }, 'success', null],
      ]);
    });
  });
}
