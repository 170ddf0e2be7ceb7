-- 0001: cameras, media files (the durable inbox), detections, background jobs.
-- Plain SQL that runs unchanged on PostgreSQL 15+ and PGlite. Applied in one transaction by src/storage/migrate.ts.

CREATE TABLE cameras (
  id            text PRIMARY KEY,
  name          text NOT NULL,
  folder_path   text NOT NULL,
  status        text NOT NULL DEFAULT 'online' CHECK (status IN ('online', 'offline', 'error', 'unknown')),
  detection_enabled boolean NOT NULL DEFAULT true,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_seen_at  timestamptz,
  deleted_at    timestamptz
);
CREATE UNIQUE INDEX idx_cameras_folder_path ON cameras (folder_path) WHERE deleted_at IS NULL;

-- Every accepted upload gets a row before its job is queued; sha256 is unique forever (a duplicate is never
-- processed twice). `path` is relative to media_root; one path may hold several contents over time.
CREATE TABLE media_files (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  camera_id     text NOT NULL REFERENCES cameras (id),
  path          text NOT NULL,
  sha256        text NOT NULL UNIQUE,
  size          bigint NOT NULL,
  media_type    text NOT NULL CHECK (media_type IN ('image', 'video')),
  width         integer,
  height        integer,
  captured_at   timestamptz NOT NULL,
  status        text NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'processing', 'done', 'failed', 'rejected')),
  error_code    text,
  error         text,
  attempts      integer NOT NULL DEFAULT 0,
  detection_count integer NOT NULL DEFAULT 0,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  processed_at  timestamptz
);
CREATE INDEX idx_media_files_path ON media_files (path);
CREATE INDEX idx_media_files_camera_created ON media_files (camera_id, created_at);
CREATE INDEX idx_media_files_pending ON media_files (id) WHERE status IN ('queued', 'processing');
CREATE INDEX idx_media_files_failed ON media_files (updated_at) WHERE status = 'failed';

-- Other names under which already-known content arrived (same sha256): remembered so reconciliation does not hash
-- them again at every start.
CREATE TABLE media_aliases (
  path          text PRIMARY KEY,
  media_file_id bigint NOT NULL REFERENCES media_files (id) ON DELETE CASCADE,
  size          bigint NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);

-- Files refused before they earned a media_files row (not an image, too large, outside the root...), so the reason
-- is visible and reconciliation does not retry them at every start. Keyed by path + size + mtime.
CREATE TABLE media_rejections (
  path          text PRIMARY KEY,
  camera_id     text,
  size          bigint NOT NULL,
  modified_at   timestamptz NOT NULL,
  error_code    text NOT NULL,
  error         text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE detections (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  camera_id       text NOT NULL REFERENCES cameras (id),
  media_file_id   bigint NOT NULL REFERENCES media_files (id) ON DELETE CASCADE,
  file_path       text NOT NULL,
  file_type       text,
  detected_at     timestamptz NOT NULL,
  object_type     text NOT NULL,
  confidence      real NOT NULL CHECK (confidence >= 0 AND confidence <= 1),
  bbox_x          integer NOT NULL,
  bbox_y          integer NOT NULL,
  bbox_width      integer NOT NULL,
  bbox_height     integer NOT NULL,
  thumbnail_path  text,
  media_type      text NOT NULL DEFAULT 'image' CHECK (media_type IN ('image', 'video')),
  frame_index     integer,
  duration        real,
  video_codec     text,
  video_width     integer,
  video_height    integer,
  zone_ids        text[] NOT NULL DEFAULT '{}',
  enrichment_data jsonb,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_detections_camera_time ON detections (camera_id, detected_at);
CREATE INDEX idx_detections_camera_object_type ON detections (camera_id, object_type, detected_at);
CREATE INDEX idx_detections_media_file ON detections (media_file_id);
CREATE INDEX idx_detections_detected_at_brin ON detections USING brin (detected_at);
CREATE INDEX idx_detections_enrichment_gin ON detections USING gin (enrichment_data jsonb_path_ops);

CREATE TABLE jobs (
  id            text PRIMARY KEY,
  job_type      text NOT NULL,
  status        text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
  progress      integer NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
  message       text,
  error         text,
  result        jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  started_at    timestamptz,
  completed_at  timestamptz
);
CREATE INDEX idx_jobs_type_created ON jobs (job_type, created_at);
