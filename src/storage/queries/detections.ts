import type { MediaType } from '../../domain/events.js';
import type { DbOrTx } from '../database.js';
import type { DetectionRow } from '../tables/detection.table.js';

/** Read models over detections joined with their events and media files (the API's event and image views). */

/** The detections linked to an event, in time order. */
export function detectionsOfEvent(db: DbOrTx, eventId: number): Promise<DetectionRow[]> {
  return db
    .selectFrom('detections as d')
    .innerJoin('event_detections as ed', 'ed.detection_id', 'd.id')
    .selectAll('d')
    .where('ed.event_id', '=', eventId)
    .orderBy('d.detected_at')
    .orderBy('d.id')
    .execute();
}

export interface EventDetectionFacts {
  eventId: number;
  objectType: string;
  confidence: number;
  zoneIds: string[];
}

/** Object type, confidence and zones of every detection of the given events (for testing alert rules). */
export function detectionFactsOfEvents(db: DbOrTx, eventIds: readonly number[]): Promise<EventDetectionFacts[]> {
  if (eventIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('detections as d')
    .innerJoin('event_detections as ed', 'ed.detection_id', 'd.id')
    .select(['ed.event_id as eventId', 'd.object_type as objectType', 'd.confidence', 'd.zone_ids as zoneIds'])
    .where('ed.event_id', 'in', [...eventIds])
    .execute();
}

export interface DetectionImageSource {
  detection: DetectionRow;
  /** Relative to the media root. */
  mediaPath: string;
  mediaType: MediaType;
  /** What the file held when it was processed: it is served only while it still does. */
  mediaSha256: string;
  mediaSize: number;
}

export async function detectionImageSource(db: DbOrTx, id: number): Promise<DetectionImageSource | undefined> {
  const row = await db
    .selectFrom('detections as d')
    .innerJoin('media_files as m', 'm.id', 'd.media_file_id')
    .selectAll('d')
    .select([
      'm.path as media_path',
      'm.media_type as media_media_type',
      'm.sha256 as media_sha256',
      'm.size as media_size',
    ])
    .where('d.id', '=', id)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  const { media_path, media_media_type, media_sha256, media_size, ...detection } = row;
  return {
    detection,
    mediaPath: media_path,
    mediaType: media_media_type,
    mediaSha256: media_sha256,
    mediaSize: Number(media_size),
  };
}

/** The stored thumbnail path of a detection: null while none is written, undefined when there is no detection. */
export async function detectionThumbnailPath(db: DbOrTx, id: number): Promise<string | null | undefined> {
  const row = await db.selectFrom('detections').select('thumbnail_path').where('id', '=', id).executeTakeFirst();
  return row?.thumbnail_path;
}
