-- 0002: security events and what hangs off them (detection links, feedback, analysis audits, prompt versions),
-- camera zones, the house arming mode, the audit log, alert rules and alerts.
-- Plain SQL that runs unchanged on PostgreSQL 15+ and PGlite. Applied in one transaction by src/storage/migrate.ts.

-- One event per closed batch: batch_id is UNIQUE, so a replayed analysis never creates a second event.
CREATE TABLE events (
  id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  batch_id           text NOT NULL UNIQUE,
  camera_id          text NOT NULL REFERENCES cameras (id),
  started_at         timestamptz NOT NULL,
  ended_at           timestamptz NOT NULL,
  risk_score         integer NOT NULL CHECK (risk_score BETWEEN 0 AND 100),
  risk_level         text NOT NULL CHECK (risk_level IN ('low', 'medium', 'high', 'critical')),
  summary            text NOT NULL,
  reasoning          text NOT NULL DEFAULT '',
  recommended_action text,
  llm_prompt         text,
  analysis_source    text NOT NULL CHECK (analysis_source IN ('llm', 'rules', 'rules_fallback')),
  prompt_version     text,
  model              text,
  object_types       text[] NOT NULL DEFAULT '{}',
  detection_count    integer NOT NULL DEFAULT 0 CHECK (detection_count >= 0),
  is_fast_path       boolean NOT NULL DEFAULT false,
  reviewed           boolean NOT NULL DEFAULT false,
  notes              text,
  snooze_until       timestamptz,
  created_at         timestamptz NOT NULL DEFAULT now(),
  deleted_at         timestamptz,
  search_vector      tsvector,
  CHECK (ended_at >= started_at)
);
CREATE INDEX idx_events_camera_started ON events (camera_id, started_at);
CREATE INDEX idx_events_started_at_brin ON events USING brin (started_at);
CREATE INDEX idx_events_unreviewed ON events (started_at) WHERE reviewed = false AND deleted_at IS NULL;
CREATE INDEX idx_events_search_vector ON events USING gin (search_vector);

-- Full-text search: summary (weight A), reasoning (B) and object types (C), English stemming.
CREATE FUNCTION events_search_vector_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.search_vector :=
    setweight(to_tsvector('english', coalesce(NEW.summary, '')), 'A') ||
    setweight(to_tsvector('english', coalesce(NEW.reasoning, '')), 'B') ||
    setweight(to_tsvector('english', array_to_string(coalesce(NEW.object_types, '{}'::text[]), ' ')), 'C');
  RETURN NEW;
END
$$;
CREATE TRIGGER events_search_vector
  BEFORE INSERT OR UPDATE OF summary, reasoning, object_types ON events
  FOR EACH ROW EXECUTE FUNCTION events_search_vector_update();

-- A detection belongs to exactly one event.
CREATE TABLE event_detections (
  event_id      bigint NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  detection_id  bigint NOT NULL REFERENCES detections (id) ON DELETE CASCADE,
  PRIMARY KEY (event_id, detection_id),
  CONSTRAINT event_detections_detection_id_key UNIQUE (detection_id)
);

-- What the user said about an event's score: feeds the calibration of the risk prompt.
CREATE TABLE event_feedback (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id          bigint NOT NULL UNIQUE REFERENCES events (id) ON DELETE CASCADE,
  feedback_type     text NOT NULL
                    CHECK (feedback_type IN ('accurate', 'false_positive', 'missed_threat', 'severity_wrong')),
  notes             text,
  expected_severity text CHECK (expected_severity IN ('low', 'medium', 'high', 'critical')),
  created_at        timestamptz NOT NULL DEFAULT now()
);

-- How each event was analysed: one row per event.
CREATE TABLE event_audits (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id        bigint NOT NULL UNIQUE REFERENCES events (id) ON DELETE CASCADE,
  analysis_source text NOT NULL CHECK (analysis_source IN ('llm', 'rules', 'rules_fallback')),
  prompt_version  text,
  model           text,
  duration_ms     integer NOT NULL CHECK (duration_ms >= 0),
  llm_attempts    integer NOT NULL DEFAULT 0 CHECK (llm_attempts >= 0),
  raw_response    text,
  corrections     jsonb,
  created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE prompt_versions (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  version       text NOT NULL UNIQUE,
  system_prompt text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);

-- Zones in normalised coordinates (see src/domain/zones.ts). `armed` is the zone's arming switch, kept when the
-- configuration is synced again; `source` tells config-file zones (removed when gone from the file) from API ones.
CREATE TABLE camera_zones (
  id          text PRIMARY KEY,
  camera_id   text NOT NULL REFERENCES cameras (id) ON DELETE CASCADE,
  name        text NOT NULL,
  zone_type   text NOT NULL DEFAULT 'other'
              CHECK (zone_type IN ('entry_point', 'driveway', 'sidewalk', 'yard', 'other')),
  shape       jsonb NOT NULL,
  color       text NOT NULL DEFAULT '#3b82f6' CHECK (color ~ '^#[0-9a-fA-F]{6}$'),
  enabled     boolean NOT NULL DEFAULT true,
  priority    integer NOT NULL DEFAULT 0,
  armed       boolean NOT NULL DEFAULT false,
  source      text NOT NULL DEFAULT 'api' CHECK (source IN ('config', 'api')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT camera_zones_camera_name_key UNIQUE (camera_id, name)
);

-- The house mode (the Home Assistant alarm panel): a single row; no row means disarmed.
CREATE TABLE house_state (
  id          integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  mode        text NOT NULL CHECK (mode IN ('disarmed', 'armed_home', 'armed_away', 'armed_night')),
  changed_at  timestamptz NOT NULL DEFAULT now(),
  changed_by  text NOT NULL
);

CREATE TABLE audit_logs (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  "timestamp"   timestamptz NOT NULL DEFAULT now(),
  action        text NOT NULL,
  resource_type text NOT NULL,
  resource_id   text,
  actor         text NOT NULL,
  details       jsonb,
  ip_address    text,
  user_agent    text,
  status        text NOT NULL DEFAULT 'success' CHECK (status IN ('success', 'failure'))
);
CREATE INDEX idx_audit_logs_timestamp_brin ON audit_logs USING brin ("timestamp");
CREATE INDEX idx_audit_logs_action ON audit_logs (action, "timestamp");

-- Alert rules (see src/domain/alert-rules.ts). A null list or threshold does not constrain.
CREATE TABLE alert_rules (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name               text NOT NULL UNIQUE CHECK (btrim(name) <> ''),
  description        text,
  enabled            boolean NOT NULL DEFAULT true,
  severity           text NOT NULL DEFAULT 'medium' CHECK (severity IN ('low', 'medium', 'high', 'critical')),
  risk_threshold     integer CHECK (risk_threshold BETWEEN 0 AND 100),
  object_types       text[],
  camera_ids         text[],
  zone_ids           text[],
  min_confidence     real CHECK (min_confidence BETWEEN 0 AND 1),
  schedule           jsonb,
  house_modes        text[],
  require_armed_zone boolean NOT NULL DEFAULT false,
  dedup_key_template text DEFAULT '{camera_id}:{rule_id}',
  cooldown_seconds   integer NOT NULL DEFAULT 300 CHECK (cooldown_seconds >= 0),
  channels           text[] NOT NULL DEFAULT '{}',
  source             text NOT NULL DEFAULT 'api' CHECK (source IN ('default', 'config', 'api')),
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);

-- `version_id` is the optimistic lock: every status change bumps it and names the version it expects.
CREATE TABLE alerts (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id        bigint NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  rule_id         uuid REFERENCES alert_rules (id) ON DELETE SET NULL,
  severity        text NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
  status          text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'delivered', 'acknowledged', 'dismissed')),
  dedup_key       text NOT NULL,
  message         text NOT NULL,
  channels        text[] NOT NULL DEFAULT '{}',
  metadata        jsonb,
  version_id      integer NOT NULL DEFAULT 1,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  delivered_at    timestamptz,
  acknowledged_at timestamptz,
  dismissed_at    timestamptz,
  -- An event evaluated again never raises the same rule twice.
  CONSTRAINT alerts_event_rule_key UNIQUE (event_id, rule_id)
);
CREATE INDEX idx_alerts_dedup_created ON alerts (dedup_key, created_at);
CREATE INDEX idx_alerts_active ON alerts (created_at) WHERE status IN ('pending', 'delivered');
CREATE INDEX idx_alerts_rule ON alerts (rule_id);
