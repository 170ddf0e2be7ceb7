import { sql } from 'kysely';
import { cameraIdFromFolder } from '../domain/camera-id.js';
import { isZoneType, validateZoneShape, type Zone, type ZoneShape, type ZoneType } from '../domain/zones.js';
import { AppError } from '../lib/errors.js';
import type { DbOrTx } from './database.js';
import type { CameraZoneRow, ZoneSource } from './tables/zone.table.js';

export type { ZoneSource } from './tables/zone.table.js';

/** A zone as stored: the domain zone plus its arming switch and where it came from. */
export interface StoredZone extends Zone {
  armed: boolean;
  source: ZoneSource;
  createdAt: Date;
  updatedAt: Date;
}

export interface ZoneInput {
  cameraId: string;
  name: string;
  zoneType?: ZoneType;
  shape: ZoneShape;
  /** `#rrggbb`. */
  color?: string;
  enabled?: boolean;
  priority?: number;
  source: ZoneSource;
  /** The arming switch of a NEW zone; an existing zone keeps its switch (Home Assistant owns it). */
  armed?: boolean;
}

const COLOR = /^#[0-9a-fA-F]{6}$/;

/** Zone ids are `<camera id>__<name slug>`: `front_door` + `Porch Steps` → `front_door__porch_steps`. */
export function zoneIdFor(cameraId: string, name: string): string {
  return `${cameraId}__${cameraIdFromFolder(name)}`;
}

/** A row's shape is JSON: checked like any outside input, the error naming the zone. */
export function zoneRowToZone(row: CameraZoneRow): StoredZone {
  const shape = validateZoneShape(row.shape, `camera_zones[${row.id}].shape`);
  if (!shape.ok) throw new AppError('INVALID_INPUT', shape.errors.join('; '), { permanent: true });
  return {
    id: row.id,
    cameraId: row.camera_id,
    name: row.name,
    zoneType: row.zone_type,
    shape: shape.shape,
    color: row.color,
    enabled: row.enabled,
    priority: row.priority,
    armed: row.armed,
    source: row.source,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function validateZoneInput(input: ZoneInput): void {
  const errors: string[] = [];
  if (input.name.trim() === '') errors.push('name must not be empty');
  if (input.zoneType !== undefined && !isZoneType(input.zoneType)) {
    errors.push(`zone_type must be entry_point, driveway, sidewalk, yard or other, got ${String(input.zoneType)}`);
  }
  if (input.color !== undefined && !COLOR.test(input.color)) {
    errors.push(`color must look like #rrggbb, got ${JSON.stringify(input.color)}`);
  }
  if (input.priority !== undefined && !Number.isInteger(input.priority)) {
    errors.push(`priority must be a whole number, got ${input.priority}`);
  }
  const shape = validateZoneShape(input.shape);
  if (!shape.ok) errors.push(...shape.errors);
  if (errors.length > 0) {
    throw new AppError('INVALID_INPUT', `zone "${input.name}" on camera ${input.cameraId}: ${errors.join('; ')}`, {
      permanent: true,
      details: { errors },
    });
  }
}

/**
 * Creates or updates the zone named `name` on the camera (config sync and API both go by name). Its id is derived
 * from camera and name; a different name whose id collides (`Porch` vs `porch`) is refused with INVALID_INPUT.
 */
export async function upsertZoneByName(db: DbOrTx, input: ZoneInput): Promise<StoredZone> {
  validateZoneInput(input);
  const id = zoneIdFor(input.cameraId, input.name);
  const clash = await db
    .selectFrom('camera_zones')
    .select(['camera_id', 'name'])
    .where('id', '=', id)
    .executeTakeFirst();
  if (clash !== undefined && (clash.camera_id !== input.cameraId || clash.name !== input.name)) {
    throw new AppError(
      'INVALID_INPUT',
      `zone "${input.name}" on camera ${input.cameraId} would get id ${id}, already used by zone "${clash.name}" on ` +
        `camera ${clash.camera_id}; choose a name that differs in more than case or punctuation`,
      { permanent: true },
    );
  }
  const values = {
    zone_type: input.zoneType ?? 'other',
    shape: JSON.stringify(input.shape),
    color: input.color ?? '#3b82f6',
    enabled: input.enabled ?? true,
    priority: input.priority ?? 0,
    source: input.source,
  };
  const row = await db
    .insertInto('camera_zones')
    .values({ id, camera_id: input.cameraId, name: input.name, armed: input.armed ?? false, ...values })
    .onConflict((oc) => oc.columns(['camera_id', 'name']).doUpdateSet({ ...values, updated_at: sql<Date>`now()` }))
    .returningAll()
    .executeTakeFirstOrThrow();
  return zoneRowToZone(row);
}

/** Zones of one camera (or all), by camera, then priority (highest first), then name. */
export async function listZones(db: DbOrTx, cameraId?: string): Promise<StoredZone[]> {
  let q = db.selectFrom('camera_zones').selectAll();
  if (cameraId !== undefined) q = q.where('camera_id', '=', cameraId);
  const rows = await q.orderBy('camera_id').orderBy('priority', 'desc').orderBy('name').execute();
  return rows.map(zoneRowToZone);
}

export async function getZone(db: DbOrTx, id: string): Promise<StoredZone | undefined> {
  const row = await db.selectFrom('camera_zones').selectAll().where('id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : zoneRowToZone(row);
}

/** Flips the zone's arming switch; undefined when there is no such zone. */
export async function setZoneArmed(db: DbOrTx, id: string, armed: boolean): Promise<StoredZone | undefined> {
  const row = await db
    .updateTable('camera_zones')
    .set({ armed, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  return row === undefined ? undefined : zoneRowToZone(row);
}

/** Deletes the zone (zones are not soft-deleted); false when there was none. */
export async function deleteZone(db: DbOrTx, id: string): Promise<boolean> {
  const result = await db.deleteFrom('camera_zones').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export interface ZoneKey {
  cameraId: string;
  name: string;
}

/**
 * After a config sync: deletes the zones that came from the configuration and are no longer in it (`keep` lists
 * the configured zones). API zones are never touched. Returns the ids removed, sorted.
 */
export async function removeConfigZonesNotIn(db: DbOrTx, keep: readonly ZoneKey[]): Promise<string[]> {
  let q = db.deleteFrom('camera_zones').where('source', '=', 'config');
  if (keep.length > 0) {
    q = q.where((eb) =>
      eb.not(eb.or(keep.map((k) => eb.and([eb('camera_id', '=', k.cameraId), eb('name', '=', k.name)])))),
    );
  }
  const rows = await q.returning('id').execute();
  return rows.map((r) => r.id).sort();
}
