import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArmingService } from '../../../src/alerts/arming.service.js';
import type { BusEvents } from '../../../src/domain/events.js';
import { systemClock } from '../../../src/lib/clock.js';
import { EventBus } from '../../../src/lib/event-bus.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { getHouseState } from '../../../src/storage/arming.repository.js';
import { ensureCamera } from '../../../src/storage/camera.repository.js';
import type { Db } from '../../../src/storage/database.js';
import { getZone, upsertZoneByName } from '../../../src/storage/zone.repository.js';
import { createTestStore, ENGINES, engineUnavailable, type TestStore } from '../../support/stores.js';

/**
 * An arming change and its audit row are one transaction (the MQTT alarm panel and zone switches, the API): when
 * the audit row cannot be written, the house mode or the zone switch does not move and nothing is announced.
 */

for (const engine of ENGINES) {
  const skip = await engineUnavailable(engine);
  if (skip) console.warn(`skipping arming transaction tests on ${engine}: ${skip}`);

  describe.skipIf(skip !== undefined)(`arming and its audit row in one transaction, on ${engine}`, () => {
    let t: TestStore;
    let db: Db;
    let arming: ArmingService;
    const announced: BusEvents['arming.changed'][] = [];

    beforeAll(async () => {
      t = await createTestStore(engine);
      db = t.store.db;
      const log = silentLogger();
      const bus = new EventBus<BusEvents>(log);
      bus.on('arming.changed', (change) => {
        announced.push(change);
      });
      arming = new ArmingService({ db, bus, log, clock: systemClock });
      await ensureCamera(db, { id: 'drive', name: 'Drive', folderPath: 'Drive' });
      await upsertZoneByName(db, {
        cameraId: 'drive',
        name: 'Gate',
        shape: { kind: 'rectangle', x: 0, y: 0, width: 0.5, height: 0.5 },
        source: 'config',
      });
    });
    afterAll(async () => t?.dispose());

    /** Makes every audit_logs insert fail while `fn` runs. */
    async function withFailingAudit(fn: () => Promise<unknown>): Promise<unknown> {
      await sql`CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'audit_logs is read-only in this test'; END $$`.execute(db);
      await sql`CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_logs FOR EACH ROW EXECUTE FUNCTION refuse_audit()`.execute(
        db,
      );
      try {
        return await fn().then(
          () => 'resolved',
          (error: unknown) => error,
        );
      } finally {
        await sql`DROP TRIGGER refuse_audit ON audit_logs`.execute(db);
        await sql`DROP FUNCTION refuse_audit()`.execute(db);
      }
    }

    it('a house mode whose audit row fails is not set, and not announced', async () => {
      const before = await getHouseState(db);
      const outcome = await withFailingAudit(() => arming.setHouseMode('armed_away', 'mqtt'));
      expect(String(outcome)).toMatch(/audit_logs is read-only/);
      expect(await getHouseState(db)).toStrictEqual(before);
      expect(announced).toStrictEqual([]);
      // And with the audit working, it is set, audited and announced once.
      expect(await arming.setHouseMode('armed_away', 'mqtt')).toStrictEqual({
        mode: 'armed_away',
        previous: 'disarmed',
        changed: true,
      });
      expect(announced).toStrictEqual([{ scope: 'house', mode: 'armed_away', previous: 'disarmed', actor: 'mqtt' }]);
    });

    it('a zone switch whose audit row fails does not move', async () => {
      announced.length = 0;
      const outcome = await withFailingAudit(() => arming.setZoneArmed('drive__gate', true, 'mqtt'));
      expect(String(outcome)).toMatch(/audit_logs is read-only/);
      expect((await getZone(db, 'drive__gate'))?.armed).toBe(false);
      expect(announced).toStrictEqual([]);
    });

    it('the same mode again keeps who set it and when, and announces nothing', async () => {
      announced.length = 0;
      const before = await getHouseState(db);
      expect(await arming.setHouseMode('armed_away', 'api:bob')).toStrictEqual({
        mode: 'armed_away',
        previous: 'armed_away',
        changed: false,
      });
      expect(await getHouseState(db)).toStrictEqual(before);
      expect(announced).toStrictEqual([]);
    });
  });
}
