import type { MediaType } from '../../domain/events.js';
import type { DbOrTx } from '../database.js';

/** What the camera snapshot of an event is drawn from: its detections with their media files. */

export interface EventDetectionPicture {
  detectionId: number;
  mediaFileId: number;
  mediaPath: string;
  mediaType: MediaType;
  frameIndex: number | null;
  objectType: string;
  confidence: number;
  box: { x: number; y: number; width: number; height: number };
}

/** An event's detections with their media file, by detection id. */
export async function eventDetectionPictures(db: DbOrTx, eventId: number): Promise<EventDetectionPicture[]> {
  const rows = await db
    .selectFrom('event_detections as ed')
    .innerJoin('detections as d', 'd.id', 'ed.detection_id')
    .innerJoin('media_files as m', 'm.id', 'd.media_file_id')
    .select([
      'd.id',
      'd.media_file_id',
      'd.frame_index',
      'd.object_type',
      'd.confidence',
      'd.bbox_x',
      'd.bbox_y',
      'd.bbox_width',
      'd.bbox_height',
      'm.path',
      'm.media_type',
    ])
    .where('ed.event_id', '=', eventId)
    .orderBy('d.id')
    .execute();
  return rows.map((r) => ({
    detectionId: r.id,
    mediaFileId: r.media_file_id,
    mediaPath: r.path,
    mediaType: r.media_type,
    frameIndex: r.frame_index,
    objectType: r.object_type,
    confidence: r.confidence,
    box: { x: r.bbox_x, y: r.bbox_y, width: r.bbox_width, height: r.bbox_height },
  }));
}
