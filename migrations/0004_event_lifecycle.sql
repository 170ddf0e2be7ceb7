-- 0004: an event is a visit with a lifecycle. The fast path opens it at once with every detection of its frame;
-- later detections of the same burst join it; when the batch closes it is analysed once more and closed.
-- closed_at: when that final analysis was stored; null while detections may still join. Events that existed
-- before this migration were final when written, so they are closed at their creation time.
-- Plain SQL that runs unchanged on PostgreSQL 15+ and PGlite. Applied in one transaction by src/storage/migrate.ts.

ALTER TABLE events ADD COLUMN closed_at timestamptz;
UPDATE events SET closed_at = created_at;
-- Open events (few at any time): the orphan sweep re-batches their detections after a crash.
CREATE INDEX idx_events_open ON events (camera_id) WHERE closed_at IS NULL;


-- Away arms every camera that has no zones (its whole view is one armed zone), unless the camera opts out.
ALTER TABLE cameras ADD COLUMN armed_when_away boolean NOT NULL DEFAULT true;

-- Alerts are a recoverable step of each analysis (an outbox on the event row): every analysis of an event bumps
-- analysis_version in the transaction that stores it; alert evaluation records the version it evaluated in
-- alerts_version. An event with alerts_version < analysis_version (the process died between the two) is evaluated
-- again at start and by the sweep. Events stored before this migration count as evaluated.
ALTER TABLE events ADD COLUMN analysis_version integer NOT NULL DEFAULT 1;
ALTER TABLE events ADD COLUMN alerts_version integer NOT NULL DEFAULT 1;
CREATE INDEX idx_events_alerts_due ON events (id) WHERE alerts_version < analysis_version;
