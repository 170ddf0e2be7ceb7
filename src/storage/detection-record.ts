import type { DetectionRecord } from '../domain/events.js';
import type { DetectionRow } from './tables/detection.table.js';

/** A stored detection as the bus, the enrichment stage and MQTT see it. */
export function detectionRowToRecord(row: DetectionRow): DetectionRecord {
  return {
    id: row.id,
    cameraId: row.camera_id,
    mediaFileId: row.media_file_id,
    filePath: row.file_path,
    detectedAt: row.detected_at,
    objectType: row.object_type,
    confidence: row.confidence,
    bbox: { x: row.bbox_x, y: row.bbox_y, width: row.bbox_width, height: row.bbox_height },
    thumbnailPath: row.thumbnail_path,
    frameIndex: row.frame_index,
  };
}
