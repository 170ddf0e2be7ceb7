import type { AlertService } from '../alerts/alert.service.js';
import type { ArmingService } from '../alerts/arming.service.js';
import type { HouseMode } from '../domain/arming.js';
import { type AuditInput, writeAudit } from '../storage/audit.repository.js';
import { getCamera, setDetectionEnabled } from '../storage/camera.repository.js';
import type { DbOrTx } from '../storage/database.js';
import { getZone } from '../storage/zone.repository.js';
import type { AlertTarget } from './command-payloads.js';

/**
 * What the MQTT command handler calls, as functions so tests pass fakes. The functions marked "Audits" write the
 * audit row of their change themselves; the handler audits the rest (see commands.ts).
 */
export interface CommandServices {
  /** Ids of the alerts changed; throws AppError NOT_FOUND / INVALID_TRANSITION for a single id. Audits. */
  acknowledgeAlerts(target: AlertTarget, actor: string): Promise<string[]>;
  dismissAlerts(target: AlertTarget, actor: string): Promise<string[]>;
  houseMode(): Promise<HouseMode>;
  /** Audits; announces (`arming.changed`, which publishes the state) only when the mode changed. */
  setHouseMode(mode: HouseMode, actor: string): Promise<{ mode: HouseMode; changed: boolean }>;
  /** The zone's arming switch; undefined when there is no such zone. */
  zoneArmed(zoneId: string): Promise<boolean | undefined>;
  /**
   * The stored switch afterwards and whether it moved; throws AppError NOT_FOUND for an unknown zone. Audits;
   * announces only a change.
   */
  setZoneArmed(zoneId: string, armed: boolean, actor: string): Promise<{ armed: boolean; changed: boolean }>;
  /** Undefined when there is no such (live) camera. */
  detectionEnabled(cameraId: string): Promise<boolean | undefined>;
  /** False when there is no such (live) camera. Does not audit. */
  setDetectionEnabled(cameraId: string, enabled: boolean): Promise<boolean>;
  writeAudit(entry: AuditInput): Promise<void>;
}

export interface CommandServiceDeps {
  db: DbOrTx;
  alerts: Pick<AlertService, 'acknowledge' | 'dismiss'>;
  arming: Pick<ArmingService, 'houseMode' | 'setHouseMode' | 'setZoneArmed'>;
}

/**
 * The real services behind the MQTT command handler: the alert and arming services (which audit their own
 * changes) and the camera repository's detection switch (audited by the handler).
 */
export function createCommandServices({ db, alerts, arming }: CommandServiceDeps): CommandServices {
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
    setDetectionEnabled: (cameraId, enabled) => setDetectionEnabled(db, cameraId, enabled),
    writeAudit: async (entry) => {
      await writeAudit(db, entry);
    },
  };
}
