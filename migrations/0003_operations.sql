-- 0003: operations: GPU samples, the application log table (warn and above), and the indexes the retention job
-- reads by (age = when HSI stored a row, `created_at`).
-- Plain SQL that runs unchanged on PostgreSQL 15+ and PGlite. Applied in one transaction by src/storage/migrate.ts.

-- One row per GPU per sample of `nvidia-smi` (several GPUs: several rows with the same recorded_at).
-- memory in MiB, temperature in degrees Celsius, power in watts; null where the driver reports [N/A].
CREATE TABLE gpu_stats (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  recorded_at     timestamptz NOT NULL DEFAULT now(),
  gpu_name        text,
  gpu_utilization real,
  memory_used     integer,
  memory_total    integer,
  temperature     real,
  power_usage     real,
  inference_fps   real
);
CREATE INDEX idx_gpu_stats_recorded_at_brin ON gpu_stats USING brin (recorded_at);

-- Log lines worth keeping (warn and above by default), written in batches by src/ops/db-log-stream.ts. No foreign
-- keys: a line about a camera or event must be stored even when that row is gone (or never was).
CREATE TABLE logs (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  "timestamp"   timestamptz NOT NULL DEFAULT now(),
  level         text NOT NULL CHECK (level IN ('trace', 'debug', 'info', 'warn', 'error', 'fatal')),
  component     text NOT NULL,
  message       text NOT NULL,
  camera_id     text,
  event_id      bigint,
  request_id    text,
  detection_id  bigint,
  duration_ms   integer,
  extra         jsonb,
  source        text NOT NULL DEFAULT 'backend'
);
CREATE INDEX idx_logs_timestamp_brin ON logs USING brin ("timestamp");
CREATE INDEX idx_logs_level ON logs (level);
CREATE INDEX idx_logs_message_fts ON logs USING gin (to_tsvector('english', message));

-- Retention deletes by storage age; these tables are append-mostly, so BRIN stays tiny.
CREATE INDEX idx_detections_created_at_brin ON detections USING brin (created_at);
CREATE INDEX idx_events_created_at_brin ON events USING brin (created_at);
CREATE INDEX idx_media_files_created_at_brin ON media_files USING brin (created_at);
