import type { Generated, Insertable, Selectable } from 'kysely';
import type { ZoneType } from '../../domain/zones.js';

export type ZoneSource = 'config' | 'api';

export interface CameraZoneTable {
  /** `<camera id>__<name slug>`, see zoneIdFor. */
  id: string;
  camera_id: string;
  name: string;
  zone_type: Generated<ZoneType>;
  /** A ZoneShape as JSON. */
  shape: unknown;
  color: Generated<string>;
  enabled: Generated<boolean>;
  priority: Generated<number>;
  armed: Generated<boolean>;
  source: Generated<ZoneSource>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export type CameraZoneRow = Selectable<CameraZoneTable>;
export type NewCameraZoneRow = Insertable<CameraZoneTable>;
