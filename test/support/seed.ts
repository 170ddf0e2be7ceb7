import { randomBytes } from 'node:crypto';
import type { Db } from '../../src/storage/database.js';

export interface SeededDetection {
  objectType: string;
  confidence: number;
  /** Box in pixels of a 1000x1000 image; defaults to the middle. */
  box?: { x: number; y: number; width: number; height: number };
  zoneIds?: string[];
  /** The frame of a clip (the media file is then a video); absent for a photo. */
  frameIndex?: number;
}

/** A camera (created when missing), one media file and its detections, straight into the database. */
export async function seedDetections(
  db: Db,
  cameraId: string,
  detections: readonly SeededDetection[],
  at = new Date(),
): Promise<number[]> {
  await db
    .insertInto('cameras')
    .values({
      id: cameraId,
      name: cameraId.replaceAll('_', ' '),
      folder_path: cameraId,
      last_seen_at: at,
      deleted_at: null,
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  const media = await db
    .insertInto('media_files')
    .values({
      camera_id: cameraId,
      path: `${cameraId}/${randomBytes(4).toString('hex')}.jpg`,
      sha256: randomBytes(32).toString('hex'),
      size: 1000,
      media_type: detections.some((d) => d.frameIndex !== undefined) ? 'video' : 'image',
      width: 1000,
      height: 1000,
      captured_at: at,
      status: 'done',
      error_code: null,
      error: null,
      processed_at: at,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  if (detections.length === 0) return [];
  const rows = await db
    .insertInto('detections')
    .values(
      detections.map((d) => ({
        camera_id: cameraId,
        media_file_id: media.id,
        file_path: 'x.jpg',
        file_type: 'jpg',
        detected_at: at,
        object_type: d.objectType,
        confidence: d.confidence,
        bbox_x: d.box?.x ?? 400,
        bbox_y: d.box?.y ?? 300,
        bbox_width: d.box?.width ?? 200,
        bbox_height: d.box?.height ?? 400,
        thumbnail_path: null,
        frame_index: d.frameIndex ?? null,
        duration: null,
        video_codec: null,
        video_width: null,
        video_height: null,
        zone_ids: d.zoneIds ?? [],
        enrichment_data: null,
      })),
    )
    .returning('id')
    .execute();
  return rows.map((r) => r.id);
}
