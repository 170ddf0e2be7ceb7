import { sql } from 'kysely';
import type { DbOrTx } from './database.js';
import type { CameraRow } from './tables/camera.table.js';

export interface CameraInput {
  id: string;
  name: string;
  folderPath: string;
  /**
   * A camera named by the configuration (a zone) before its first upload: stored with status `unknown`, and given
   * its real name and folder by the first upload.
   */
  placeholder?: boolean;
}

/**
 * Creates the camera on its first upload; a soft-deleted camera whose folder receives uploads again is restored.
 * `created` is true only when this call inserted the row.
 */
export async function ensureCamera(db: DbOrTx, input: CameraInput): Promise<{ camera: CameraRow; created: boolean }> {
  const inserted = await db
    .insertInto('cameras')
    .values({
      id: input.id,
      name: input.name,
      folder_path: input.folderPath,
      status: input.placeholder ? 'unknown' : 'online',
      last_seen_at: null,
      deleted_at: null,
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted !== undefined) return { camera: inserted, created: true };
  if (!input.placeholder) {
    const named = await db
      .updateTable('cameras')
      .set({ name: input.name, folder_path: input.folderPath, status: 'online' })
      .where('id', '=', input.id)
      .where('status', '=', 'unknown')
      .returningAll()
      .executeTakeFirst();
    if (named !== undefined) return { camera: named, created: false };
  }
  const restored = await db
    .updateTable('cameras')
    .set({ deleted_at: null })
    .where('id', '=', input.id)
    .where('deleted_at', 'is not', null)
    .returningAll()
    .executeTakeFirst();
  if (restored !== undefined) return { camera: restored, created: true };
  const existing = await db.selectFrom('cameras').selectAll().where('id', '=', input.id).executeTakeFirstOrThrow();
  return { camera: existing, created: false };
}

/** Records an upload from the camera: it is online and was last seen at `at` (never moves backwards). */
/**
 * Marks a camera seen at `at` (when an upload arrived). Last seen only moves forward, except that a value later than
 * `at` by more than a few minutes (written from a camera clock set in the future by an older version) is replaced.
 */
export async function touchCamera(db: DbOrTx, id: string, at: Date): Promise<void> {
  const future = new Date(at.getTime() + 5 * 60_000);
  await db
    .updateTable('cameras')
    .set({
      last_seen_at: sql<Date>`CASE WHEN last_seen_at IS NULL OR last_seen_at < ${at} OR last_seen_at > ${future}
        THEN ${at}::timestamptz ELSE last_seen_at END`,
      status: 'online',
    })
    .where('id', '=', id)
    .execute();
}

export function listCameras(db: DbOrTx): Promise<CameraRow[]> {
  return db.selectFrom('cameras').selectAll().where('deleted_at', 'is', null).orderBy('id').execute();
}

export function getCamera(db: DbOrTx, id: string): Promise<CameraRow | undefined> {
  return db.selectFrom('cameras').selectAll().where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
}

/** A camera's name and away-arming, deleted or not (a visit analysed after its camera was deleted keeps its name). */
export function cameraAnalysisFacts(
  db: DbOrTx,
  id: string,
): Promise<{ name: string; armed_when_away: boolean } | undefined> {
  return db.selectFrom('cameras').select(['name', 'armed_when_away']).where('id', '=', id).executeTakeFirst();
}

export async function softDeleteCamera(db: DbOrTx, id: string, at: Date): Promise<boolean> {
  const result = await db
    .updateTable('cameras')
    .set({ deleted_at: at })
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function setDetectionEnabled(db: DbOrTx, id: string, enabled: boolean): Promise<boolean> {
  const result = await db
    .updateTable('cameras')
    .set({ detection_enabled: enabled })
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * Whether the camera's whole view is armed while the house is armed away and the camera has no zones (a camera
 * inside the house a pet walks past opts out). Returns the camera as it was and as it is; undefined when absent.
 */
export async function setCameraArmedWhenAway(
  db: DbOrTx,
  id: string,
  armedWhenAway: boolean,
): Promise<{ before: CameraRow; after: CameraRow } | undefined> {
  const before = await db
    .selectFrom('cameras')
    .selectAll()
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .forUpdate()
    .executeTakeFirst();
  if (before === undefined) return undefined;
  const after = await db
    .updateTable('cameras')
    .set({ armed_when_away: armedWhenAway })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return { before, after };
}

/** Gives a camera its display name (Home Assistant's device name); its id and folder stay. Undefined when absent. */
export function renameCamera(db: DbOrTx, id: string, name: string): Promise<CameraRow | undefined> {
  return db
    .updateTable('cameras')
    .set({ name })
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
}
