import { sql } from 'kysely';
import type { DbOrTx } from './database.js';
import type { MediaFileRow, MediaStatus, NewMediaFile } from './tables/media-file.table.js';

/** Inserts the row unless the same content (sha256) is already known; returns undefined for a duplicate. */
export function insertMediaFile(db: DbOrTx, row: NewMediaFile): Promise<MediaFileRow | undefined> {
  return db
    .insertInto('media_files')
    .values(row)
    .onConflict((oc) => oc.column('sha256').doNothing())
    .returningAll()
    .executeTakeFirst();
}

export function findMediaBySha(db: DbOrTx, sha256: string): Promise<MediaFileRow | undefined> {
  return db.selectFrom('media_files').selectAll().where('sha256', '=', sha256).executeTakeFirst();
}

export function getMediaFile(db: DbOrTx, id: number): Promise<MediaFileRow | undefined> {
  return db.selectFrom('media_files').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function addAlias(db: DbOrTx, path: string, mediaFileId: number, size: number): Promise<void> {
  await db
    .insertInto('media_aliases')
    .values({ path, media_file_id: mediaFileId, size })
    .onConflict((oc) => oc.column('path').doUpdateSet({ media_file_id: mediaFileId, size }))
    .execute();
}

export interface Rejection {
  path: string;
  cameraId: string | null;
  size: number;
  modifiedAt: Date;
  code: string;
  reason: string;
}

export async function recordRejection(db: DbOrTx, r: Rejection): Promise<void> {
  const values = {
    path: r.path,
    camera_id: r.cameraId,
    size: r.size,
    modified_at: r.modifiedAt,
    error_code: r.code,
    error: r.reason,
  };
  await db
    .insertInto('media_rejections')
    .values(values)
    .onConflict((oc) => oc.column('path').doUpdateSet(values))
    .execute();
}

/**
 * True when this exact file (path, size, modification time) was already handled: stored, seen as a duplicate, or
 * rejected. Reconciliation uses it to skip hashing known files at start.
 */
export async function isKnownFile(db: DbOrTx, path: string, size: number, modifiedAt: Date): Promise<boolean> {
  const row = await db
    .selectFrom('media_files')
    .select(sql<number>`1`.as('hit'))
    .where('path', '=', path)
    .where('size', '=', size)
    .where('captured_at', '=', modifiedAt)
    .union(
      db.selectFrom('media_aliases').select(sql<number>`1`.as('hit')).where('path', '=', path).where('size', '=', size),
    )
    .union(
      db
        .selectFrom('media_rejections')
        .select(sql<number>`1`.as('hit'))
        .where('path', '=', path)
        .where('size', '=', size)
        .where('modified_at', '=', modifiedAt),
    )
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Claims a file for a detection run in one round trip: marks it `processing` (one more attempt) unless it already
 * ended `done` or `rejected`, and returns it with its camera's detection switch. Undefined: nothing to do.
 */
export function claimForProcessing(
  db: DbOrTx,
  id: number,
): Promise<(MediaFileRow & { detection_enabled: boolean | null }) | undefined> {
  return db
    .updateTable('media_files')
    .set({ status: 'processing', attempts: sql<number>`attempts + 1`, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .where('status', 'not in', ['done', 'rejected'])
    .returningAll()
    .returning((eb) =>
      eb
        .selectFrom('cameras')
        .select('cameras.detection_enabled')
        .whereRef('cameras.id', '=', 'media_files.camera_id')
        .as('detection_enabled'),
    )
    .executeTakeFirst();
}

/**
 * Marks the file done unless a run already ended it (`done`/`rejected`); returns whether it did. Inside the
 * detection transaction this also takes the row's lock, so two runs of one file serialise.
 */
export async function markDoneIfPending(db: DbOrTx, id: number, detectionCount: number, at: Date): Promise<boolean> {
  const row = await db
    .updateTable('media_files')
    .set({
      status: 'done',
      detection_count: detectionCount,
      error_code: null,
      error: null,
      processed_at: at,
      updated_at: sql<Date>`now()`,
    })
    .where('id', '=', id)
    .where('status', 'not in', ['done', 'rejected'])
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/** Ends a file as `rejected` (bad input) or `failed` (retries exhausted), or notes a transient error while queued. */
export async function markError(
  db: DbOrTx,
  id: number,
  status: Extract<MediaStatus, 'rejected' | 'failed' | 'queued'>,
  code: string,
  reason: string,
  at: Date,
): Promise<void> {
  await db
    .updateTable('media_files')
    .set({
      status,
      error_code: code,
      error: reason,
      processed_at: status === 'queued' ? null : at,
      updated_at: sql<Date>`now()`,
    })
    .where('id', '=', id)
    .execute();
}

export function listPending(db: DbOrTx, olderThan?: Date): Promise<MediaFileRow[]> {
  let query = db.selectFrom('media_files').selectAll().where('status', 'in', ['queued', 'processing']);
  if (olderThan !== undefined) query = query.where('updated_at', '<', olderThan);
  return query.orderBy('id').execute();
}

export function listFailed(db: DbOrTx, limit = 100): Promise<MediaFileRow[]> {
  return db
    .selectFrom('media_files')
    .selectAll()
    .where('status', '=', 'failed')
    .orderBy('updated_at', 'desc')
    .limit(limit)
    .execute();
}

/** Puts failed files (all, or the given ids) back to `queued` with fresh attempts; returns the rows requeued. */
export function requeueFailed(db: DbOrTx, ids?: readonly number[]): Promise<MediaFileRow[]> {
  let query = db
    .updateTable('media_files')
    .set({ status: 'queued', attempts: 0, error: null, error_code: null, updated_at: sql<Date>`now()` })
    .where('status', '=', 'failed');
  if (ids !== undefined) query = query.where('id', 'in', ids.length > 0 ? [...ids] : [-1]);
  return query.returningAll().execute();
}

export async function countByStatus(db: DbOrTx): Promise<Record<MediaStatus, number>> {
  const rows = await db
    .selectFrom('media_files')
    .select(['status', sql<number>`count(*)::int`.as('n')])
    .groupBy('status')
    .execute();
  const counts: Record<MediaStatus, number> = { queued: 0, processing: 0, done: 0, failed: 0, rejected: 0 };
  for (const row of rows) counts[row.status] = row.n;
  return counts;
}
