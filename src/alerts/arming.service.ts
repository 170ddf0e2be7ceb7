import type { HouseMode } from '../domain/arming.js';
import type { BusEvents } from '../domain/events.js';
import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import type { EventBus } from '../lib/event-bus.js';
import type { Logger } from '../lib/logger.js';
import { getHouseMode, setHouseMode } from '../storage/arming.repository.js';
import { writeAudit } from '../storage/audit.repository.js';
import type { Db } from '../storage/database.js';
import { getZone, type StoredZone, setZoneArmed } from '../storage/zone.repository.js';

export interface ArmingServiceDeps {
  db: Db;
  bus: EventBus<BusEvents>;
  log: Logger;
  clock: Clock;
}

export interface HouseModeChange {
  mode: HouseMode;
  previous: HouseMode;
  /** False when the house already had `mode`: audited, not announced. */
  changed: boolean;
}

export interface ZoneArming {
  zone: StoredZone;
  /** False when the switch already had that value: audited, not announced. */
  changed: boolean;
}

/** House mode and per-zone arm switches: persisted, every change audited and announced on the bus. */
export class ArmingService {
  constructor(private readonly deps: ArmingServiceDeps) {}

  houseMode(): Promise<HouseMode> {
    return getHouseMode(this.deps.db);
  }

  /**
   * Sets the house mode: the row and its audit row in one transaction. The mode it already has is audited
   * (`changed: false`) but is no change: nothing is logged as changed and nothing is announced.
   */
  async setHouseMode(mode: HouseMode, actor: string): Promise<HouseModeChange> {
    const { db, bus, log, clock } = this.deps;
    const change = await db.transaction().execute(async (tx) => {
      const { previous } = await setHouseMode(tx, mode, actor, new Date(clock.now()));
      const changed = previous !== mode;
      await writeAudit(tx, {
        action: 'house_mode.set',
        resourceType: 'house',
        resourceId: 'house',
        actor,
        details: { mode, previous, changed },
      });
      return { mode, previous, changed };
    });
    if (!change.changed) {
      log.debug({ mode, actor }, 'house mode unchanged');
      return change;
    }
    log.info({ mode, previous: change.previous, actor }, 'house mode changed');
    bus.emit('arming.changed', { scope: 'house', mode, previous: change.previous, actor });
    return change;
  }

  /** A zone's arm switch, like the house mode: one transaction with its audit row, announced only when it moved. */
  async setZoneArmed(zoneId: string, armed: boolean, actor: string): Promise<ZoneArming> {
    const { db, bus, log } = this.deps;
    const result = await db.transaction().execute(async (tx) => {
      const before = await getZone(tx, zoneId);
      if (before === undefined) throw new AppError('NOT_FOUND', `no zone with id ${zoneId}`, { permanent: true });
      const changed = before.armed !== armed;
      const zone = changed ? await setZoneArmed(tx, zoneId, armed) : before;
      if (zone === undefined) throw new AppError('NOT_FOUND', `zone ${zoneId} was deleted`, { permanent: true });
      await writeAudit(tx, {
        action: armed ? 'zone.arm' : 'zone.disarm',
        resourceType: 'zone',
        resourceId: zoneId,
        actor,
        details: { camera_id: zone.cameraId, previous: before.armed, changed },
      });
      return { zone, changed };
    });
    const { zone, changed } = result;
    if (!changed) {
      log.debug({ zone_id: zoneId, armed, actor }, 'zone arming unchanged');
      return result;
    }
    log.info({ zone_id: zoneId, armed, actor }, 'zone arming changed');
    bus.emit('arming.changed', { scope: 'zone', zoneId, cameraId: zone.cameraId, armed, actor });
    return result;
  }
}
