import type { Db, DbOrTx } from './database.js';

/**
 * The rows retention removes. The batches that also remove files run in one transaction each: the batch's rows are
 * locked (`FOR UPDATE SKIP LOCKED`), the caller removes their files and says which rows may go, and those rows are
 * deleted before the transaction commits.
 */

export interface BatchWindow {
  /** Rows stored before this. */
  cutoff: Date;
  /** Ids above this (batches walk ids upwards). */
  after: number;
  limit: number;
}

export interface BatchOutcome {
  /** Rows deleted. */
  deleted: number;
  /** The last id of a full batch (the next batch starts after it); undefined when this was the last batch. */
  last: number | undefined;
}

/**
 * Deletes up to `limit` events stored before `before` (with their links, alerts, feedback and audits, by cascade),
 * except events with an alert still pending or delivered; one statement, so the exception is re-checked. Returns
 * how many went.
 */
export async function deleteExpiredEvents(db: DbOrTx, before: Date, limit: number): Promise<number> {
  const result = await db
    .deleteFrom('events')
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('events as e')
        .select('e.id')
        .where('e.created_at', '<', before)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('alerts as a')
                .select('a.id')
                .whereRef('a.event_id', '=', 'e.id')
                .where('a.status', 'in', ['pending', 'delivered']),
            ),
          ),
        )
        .orderBy('e.id')
        .limit(limit),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

export interface ExpiringDetection {
  id: number;
  thumbnailPath: string | null;
}

/**
 * One batch of detections stored before the cutoff that belong to no event, locked; `remove` removes their files
 * and returns the ids whose rows may go.
 */
export async function expireDetectionBatch(
  db: Db,
  window: BatchWindow,
  remove: (rows: ExpiringDetection[]) => Promise<number[]>,
): Promise<BatchOutcome> {
  return db.transaction().execute(async (tx) => {
    const rows = await tx
      .selectFrom('detections as d')
      .select(['d.id', 'd.thumbnail_path'])
      .where('d.created_at', '<', window.cutoff)
      .where('d.id', '>', window.after)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(selectFrom('event_detections as ed').select('ed.event_id').whereRef('ed.detection_id', '=', 'd.id')),
        ),
      )
      .orderBy('d.id')
      .limit(window.limit)
      .forUpdate()
      .skipLocked()
      .execute();
    const removable = await remove(rows.map((r) => ({ id: r.id, thumbnailPath: r.thumbnail_path })));
    let deleted = 0;
    if (removable.length > 0) {
      const result = await tx.deleteFrom('detections').where('id', 'in', removable).executeTakeFirst();
      deleted = Number(result.numDeletedRows);
    }
    return { deleted, last: rows.length === window.limit ? rows.at(-1)?.id : undefined };
  });
}

export interface ExpiringMedia {
  id: number;
  path: string;
  size: number;
  capturedAt: Date;
  /** Its duplicate copies (the same content under other names). */
  aliases: { path: string; size: number }[];
}

/**
 * One batch of finished media files (`done`, `failed`, `rejected`) stored before the cutoff with no detection left,
 * locked, with their aliases; `remove` removes their files (`claimed` says whether a path is another media file's,
 * read in the same transaction) and returns the ids whose rows may go (their alias rows go with them).
 */
export async function expireMediaBatch(
  db: Db,
  window: BatchWindow,
  remove: (rows: ExpiringMedia[], claimed: (path: string) => Promise<boolean>) => Promise<number[]>,
): Promise<BatchOutcome> {
  return db.transaction().execute(async (tx) => {
    const rows = await tx
      .selectFrom('media_files as m')
      .select(['m.id', 'm.path', 'm.size', 'm.captured_at'])
      .where('m.created_at', '<', window.cutoff)
      .where('m.status', 'in', ['done', 'failed', 'rejected'])
      .where('m.id', '>', window.after)
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('detections as d').select('d.id').whereRef('d.media_file_id', '=', 'm.id'))),
      )
      .orderBy('m.id')
      .limit(window.limit)
      .forUpdate()
      .skipLocked()
      .execute();
    if (rows.length === 0) return { deleted: 0, last: undefined };
    const aliases = await tx
      .selectFrom('media_aliases')
      .select(['path', 'size', 'media_file_id'])
      .where(
        'media_file_id',
        'in',
        rows.map((r) => r.id),
      )
      .execute();
    const claimed = async (path: string) =>
      (await tx.selectFrom('media_files').select('id').where('path', '=', path).executeTakeFirst()) !== undefined;
    const expiring = rows.map((r) => ({
      id: r.id,
      path: r.path,
      size: r.size,
      capturedAt: r.captured_at,
      aliases: aliases.filter((a) => a.media_file_id === r.id).map((a) => ({ path: a.path, size: a.size })),
    }));
    const removable = await remove(expiring, claimed);
    let deleted = 0;
    if (removable.length > 0) {
      const result = await tx.deleteFrom('media_files').where('id', 'in', removable).executeTakeFirst();
      deleted = Number(result.numDeletedRows);
    }
    return { deleted, last: rows.length === window.limit ? rows.at(-1)?.id : undefined };
  });
}

export interface ExpiredRejection {
  path: string;
  size: number;
  modifiedAt: Date;
}

/** Refused uploads recorded before `cutoff`, by path. */
export async function listExpiredRejections(db: DbOrTx, cutoff: Date): Promise<ExpiredRejection[]> {
  const rows = await db
    .selectFrom('media_rejections')
    .select(['path', 'size', 'modified_at'])
    .where('created_at', '<', cutoff)
    .orderBy('path')
    .execute();
  return rows.map((r) => ({ path: r.path, size: r.size, modifiedAt: r.modified_at }));
}

/** Deletes the record of a refused upload at `path` recorded before `cutoff`; how many went (0 or 1). */
export async function deleteExpiredRejection(db: DbOrTx, path: string, cutoff: Date): Promise<number> {
  const result = await db
    .deleteFrom('media_rejections')
    .where('path', '=', path)
    .where('created_at', '<', cutoff)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * What identity keeps of people after their detections went: entities (an unknown person's mean appearance vector,
 * with its journeys) last seen before `before` that are no household member's and have no re-identification row
 * left, journeys (anyone's, a member's too) none of whose sightings is left, and unknown-face clusters none of whose
 * faces is left. Named people and the household are the owner's and stay. Returns how many rows went.
 */
export async function deleteExpiredIdentity(db: DbOrTx, before: Date): Promise<number> {
  const entities = await db
    .deleteFrom('entities as e')
    .where('e.last_seen_at', '<', before)
    .where('e.member_id', 'is', null)
    .where(({ exists, not, selectFrom }) =>
      not(exists(selectFrom('reid_embeddings as r').select('r.detection_id').whereRef('r.entity_id', '=', 'e.id'))),
    )
    .executeTakeFirst();
  // A path over cameras none of whose sightings is left (a member's too: their entity stays, their old paths go).
  const journeys = await db
    .deleteFrom('journeys as j')
    .where('j.last_seen_at', '<', before)
    .where(({ exists, not, selectFrom }) =>
      not(exists(selectFrom('reid_embeddings as r').select('r.detection_id').whereRef('r.journey_id', '=', 'j.id'))),
    )
    .executeTakeFirst();
  const clusters = await db
    .deleteFrom('known_persons as p')
    .where('p.auto_cluster', '=', true)
    .where('p.created_at', '<', before)
    .where(({ exists, not, selectFrom }) =>
      not(exists(selectFrom('face_detection_events as f').select('f.id').whereRef('f.person_id', '=', 'p.id'))),
    )
    .executeTakeFirst();
  return Number(entities.numDeletedRows) + Number(journeys.numDeletedRows) + Number(clusters.numDeletedRows);
}
