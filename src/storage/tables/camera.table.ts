import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

export type CameraStatus = 'online' | 'offline' | 'error' | 'unknown';

export interface CameraTable {
  id: string;
  name: string;
  folder_path: string;
  status: Generated<CameraStatus>;
  detection_enabled: Generated<boolean>;
  /** With the house armed away and no zones on the camera, its whole view is armed (off: never armed that way). */
  armed_when_away: Generated<boolean>;
  created_at: Generated<Date>;
  last_seen_at: Date | null;
  deleted_at: Date | null;
}

export type CameraRow = Selectable<CameraTable>;
export type NewCamera = Insertable<CameraTable>;
export type CameraUpdate = Updateable<CameraTable>;
