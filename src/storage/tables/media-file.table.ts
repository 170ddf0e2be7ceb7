import type { Generated, Insertable, Selectable } from 'kysely';
import type { MediaType } from '../../domain/events.js';

export type MediaStatus = 'queued' | 'processing' | 'done' | 'failed' | 'rejected';

export interface MediaFileTable {
  id: Generated<number>;
  camera_id: string;
  /** Relative to media_root, with forward slashes. */
  path: string;
  sha256: string;
  size: number;
  media_type: MediaType;
  width: number | null;
  height: number | null;
  captured_at: Date;
  /** When the camera took it (EXIF, file name, else the file time); null on rows from before migration 0009. */
  taken_at: Date | null;
  taken_source: Generated<'exif' | 'file_name' | 'file_time' | 'arrival'>;
  status: Generated<MediaStatus>;
  error_code: string | null;
  error: string | null;
  attempts: Generated<number>;
  detection_count: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  processed_at: Date | null;
}

export interface MediaAliasTable {
  path: string;
  media_file_id: number;
  size: number;
  created_at: Generated<Date>;
}

export interface MediaRejectionTable {
  path: string;
  camera_id: string | null;
  size: number;
  modified_at: Date;
  error_code: string;
  error: string;
  created_at: Generated<Date>;
}

export type MediaFileRow = Selectable<MediaFileTable>;
export type NewMediaFile = Insertable<MediaFileTable>;
export type MediaRejectionRow = Selectable<MediaRejectionTable>;
