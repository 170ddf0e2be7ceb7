import type { Generated, Insertable, Selectable } from 'kysely';
import type { MediaType } from '../../domain/events.js';

export interface DetectionTable {
  id: Generated<number>;
  camera_id: string;
  media_file_id: number;
  file_path: string;
  file_type: string | null;
  detected_at: Date;
  object_type: string;
  confidence: number;
  bbox_x: number;
  bbox_y: number;
  bbox_width: number;
  bbox_height: number;
  thumbnail_path: string | null;
  media_type: Generated<MediaType>;
  frame_index: number | null;
  duration: number | null;
  video_codec: string | null;
  video_width: number | null;
  video_height: number | null;
  zone_ids: Generated<string[]>;
  enrichment_data: unknown | null;
  created_at: Generated<Date>;
}

export type DetectionRow = Selectable<DetectionTable>;
export type NewDetection = Insertable<DetectionTable>;
