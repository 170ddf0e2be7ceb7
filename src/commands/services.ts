import type { AlertService } from '../alerts/alert.service.js';
import type { ArmingService } from '../alerts/arming.service.js';
import type { BusEvents } from '../domain/events.js';
import type { EventBus } from '../lib/event-bus.js';
import { writeAudit } from '../storage/audit.repository.js';
import { getCamera, setDetectionEnabled } from '../storage/camera.repository.js';
import type { DbOrTx } from '../storage/database.js';
import { getZone } from '../storage/zone.repository.js';
import type { CommandServices } from './types.js';

export interface CommandServiceDeps {
  db: DbOrTx;
  /** Where the detection switch's change is announced (Home Assistant's state follows from it). */
  bus: EventBus<BusEvents>;
  alerts: Pick<AlertService, 'acknowledge' | 'dismiss'>;
  arming: Pick<ArmingService, 'houseMode' | 'setHouseMode' | 'setZoneArmed'>;
}

/**
 * The real services behind the command table: the alert and arming services (which audit their own changes and
 * announce them on the bus) and the camera repository's detection switch (audited by the dispatcher's channel,
 * announced here as `camera.detection_changed` when it moved).
 */
export function createCommandServices({ db, bus, alerts, arming }: CommandServiceDeps): CommandServices {
  return {
    acknowledgeAlerts: async (target, actor) => (await alerts.acknowledge(target, actor)).map((a) => a.id),
    dismissAlerts: async (target, actor) => (await alerts.dismiss(target, actor)).map((a) => a.id),
    houseMode: () => arming.houseMode(),
    setHouseMode: async (mode, actor) => {
      const change = await arming.setHouseMode(mode, actor);
      return { mode: change.mode, changed: change.changed };
    },
    zoneArmed: async (zoneId) => (await getZone(db, zoneId))?.armed,
    setZoneArmed: async (zoneId, armed, actor) => {
      const { zone, changed } = await arming.setZoneArmed(zoneId, armed, actor);
      return { armed: zone.armed, changed };
    },
    detectionEnabled: async (cameraId) => (await getCamera(db, cameraId))?.detection_enabled,
    setDetectionEnabled: async (cameraId, enabled, actor) => {
      const previous = (await getCamera(db, cameraId))?.detection_enabled;
      if (previous === undefined || !(await setDetectionEnabled(db, cameraId, enabled))) return false;
      if (previous !== enabled) bus.emit('camera.detection_changed', { cameraId, enabled, actor });
      return true;
    },
    writeAudit: async (entry) => {
      await writeAudit(db, entry);
    },
  };
}
