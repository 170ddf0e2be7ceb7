-- 0007: the enrichment stage's record, and the facts each analysis saw. enrichment_runs: one row per media file and frame processor (faces, re-identification, ...):
-- how the processor did on that file (success: every frame; partial: some frames failed; failed: none), its first
-- error, how many results it stored and how long it took. A file is enriched once per processor: a replayed job
-- skips the processors that have a row, and reconciliation queues the files that lack one. Processors' own
-- results live in their tables (and detections.enrichment_data); this table only says what ran.
-- Plain SQL that runs unchanged on PostgreSQL 15+ and PGlite. Applied in one transaction by src/storage/migrate.ts.

CREATE TABLE enrichment_runs (
  media_file_id bigint NOT NULL REFERENCES media_files (id) ON DELETE CASCADE,
  processor text NOT NULL,
  status text NOT NULL CHECK (status IN ('success', 'partial', 'failed')),
  error text,
  results integer NOT NULL DEFAULT 0,
  duration_ms integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (media_file_id, processor)
);
CREATE INDEX idx_enrichment_runs_processor ON enrichment_runs (processor, status);

-- What the fact sources of the enabled features said about the event (the owner's feedback on the camera, ...),
-- by source, as the analysis saw it: for calibration and review.
ALTER TABLE event_audits ADD COLUMN facts jsonb;
