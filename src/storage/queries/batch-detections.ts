import type { DbOrTx } from '../database.js';

/** A visit's detection as the analysis reads it. */
export interface BatchDetectionRow {
  id: number;
  mediaFileId: number;
  /** The frame of a clip the detection was seen in; null for a photo. */
  frameIndex: number | null;
  objectType: string;
  confidence: number;
  zoneIds: string[];
}

const BATCH_DETECTION_COLUMNS = [
  'd.id',
  'd.media_file_id as mediaFileId',
  'd.frame_index as frameIndex',
  'd.object_type as objectType',
  'd.confidence',
  'd.zone_ids as zoneIds',
] as const;

/** Detections by id (any event's), in id order. */
export function detectionsByIds(db: DbOrTx, ids: readonly number[]): Promise<BatchDetectionRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('detections as d')
    .select(BATCH_DETECTION_COLUMNS)
    .where('d.id', 'in', [...ids])
    .orderBy('d.id')
    .execute();
}

/** Detections of the batch that no event has claimed yet (a replayed or overlapping batch keeps only those). */
export function unclaimedDetections(db: DbOrTx, ids: readonly number[]): Promise<BatchDetectionRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('detections as d')
    .select(BATCH_DETECTION_COLUMNS)
    .where('d.id', 'in', [...ids])
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('event_detections as ed').select('ed.event_id').whereRef('ed.detection_id', '=', 'd.id'))),
    )
    .orderBy('d.id')
    .execute();
}
