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

/** House mode and per-zone arm switches: persisted, every change audited and announced on the bus. */
export class ArmingService {
  constructor(private readonly deps: ArmingServiceDeps) {}

  houseMode(): Promise<HouseMode> {
    return getHouseMode(this.deps.db);
  }

  async setHouseMode(mode: HouseMode, actor: string): Promise<HouseMode> {
    const { db, bus, log, clock } = this.deps;
    const { previous } = await setHouseMode(db, mode, actor, new Date(clock.now()));
    await writeAudit(db, {
      action: 'house_mode.set',
      resourceType: 'house',
      resourceId: 'house',
      actor,
      details: { mode, previous },
    });
    log.info({ mode, previous, actor }, 'house mode changed');
    bus.emit('arming.changed', { scope: 'house', mode, previous, actor });
    return mode;
  }

  async setZoneArmed(zoneId: string, armed: boolean, actor: string): Promise<StoredZone> {
    const { db, bus, log } = this.deps;
    const before = await getZone(db, zoneId);
    if (before === undefined) throw new AppError('NOT_FOUND', `no zone with id ${zoneId}`, { permanent: true });
    const zone = await setZoneArmed(db, zoneId, armed);
    if (zone === undefined) throw new AppError('NOT_FOUND', `zone ${zoneId} was deleted`, { permanent: true });
    await writeAudit(db, {
      action: armed ? 'zone.arm' : 'zone.disarm',
      resourceType: 'zone',
      resourceId: zoneId,
      actor,
      details: { camera_id: zone.cameraId, previous: before.armed },
    });
    log.info({ zone_id: zoneId, armed, actor }, 'zone arming changed');
    bus.emit('arming.changed', { scope: 'zone', zoneId, cameraId: zone.cameraId, armed, actor });
    return zone;
  }
}
