-- 0009: when a picture was taken, as the camera says. media_files.captured_at stays the file's modification time
-- (what reconciliation and retention compare a file on disk with); taken_at is the capture time detections, visits,
-- night and schedules are judged by: EXIF DateTimeOriginal, else a time in the file's name or folders, else the
-- modification time (taken_source says which); a camera time that is not believed (in the future, before 2001) is
-- replaced by the arrival time ('arrival'). Rows from before this migration keep their modification time.
-- Plain SQL that runs unchanged on PostgreSQL 15+ and PGlite. Applied in one transaction by src/storage/migrate.ts.

ALTER TABLE media_files ADD COLUMN taken_at timestamptz;
ALTER TABLE media_files ADD COLUMN taken_source text NOT NULL DEFAULT 'file_time'
  CHECK (taken_source IN ('exif', 'file_name', 'file_time', 'arrival'));
