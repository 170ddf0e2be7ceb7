-- 0008: identity. Who HSI sees: the household (members, their re-identification gallery, their vehicles, where
-- each may be and when), faces (people known by face, their face vectors, every face seen), and the people seen
-- without a name (entities: one per person re-identified across pictures and cameras; journeys: an entity's path
-- over cameras within minutes).
-- Every vector is a bytea of little-endian float32, L2-normalised, with the id of the model that made it
-- (`<file name>@<sha256 prefix>`): vectors of different models are never compared. Vectors never leave the machine.
-- Plain SQL that runs unchanged on PostgreSQL 15+ and PGlite. Applied in one transaction by src/storage/migrate.ts.

CREATE TABLE household_members (
  id               integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name             text NOT NULL CHECK (btrim(name) <> ''),
  role             text NOT NULL DEFAULT 'resident'
                   CHECK (role IN ('resident', 'family', 'service_worker', 'frequent_visitor')),
  -- full: never alarms on their own; partial: lowers risk less; monitor: recognised and logged only.
  trust_level      text NOT NULL DEFAULT 'full' CHECK (trust_level IN ('full', 'partial', 'monitor')),
  -- When they are usually around: a list of HSI schedules ({days?, start, end}); null: any time.
  typical_schedule jsonb,
  notes            text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX household_members_name_key ON household_members (lower(name));

-- A member's re-identification gallery: appearance vectors from enrolment photos, past detections or a named
-- visitor. Removed with the member.
CREATE TABLE person_embeddings (
  id           integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  member_id    integer NOT NULL REFERENCES household_members (id) ON DELETE CASCADE,
  model_id     text NOT NULL,
  embedding    bytea NOT NULL,
  source       text NOT NULL CHECK (source IN ('photo', 'detection', 'entity')),
  detection_id bigint REFERENCES detections (id) ON DELETE SET NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_person_embeddings_member ON person_embeddings (member_id);

CREATE TABLE registered_vehicles (
  id            integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  member_id     integer REFERENCES household_members (id) ON DELETE SET NULL,
  description   text NOT NULL CHECK (btrim(description) <> ''),
  vehicle_type  text NOT NULL DEFAULT 'car'
                CHECK (vehicle_type IN ('car', 'truck', 'motorcycle', 'bicycle', 'van', 'other')),
  color         text,
  license_plate text,
  trusted       boolean NOT NULL DEFAULT true,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX registered_vehicles_plate_key ON registered_vehicles (upper(license_plate))
  WHERE license_plate IS NOT NULL;

-- Who may be in a zone, and when (schedule null: any time). A zone with rows admits only those members; a zone
-- without rows admits every member. One row per (zone, member), so removing either removes the permission.
CREATE TABLE zone_household_configs (
  id         integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  zone_id    text NOT NULL REFERENCES camera_zones (id) ON DELETE CASCADE,
  member_id  integer NOT NULL REFERENCES household_members (id) ON DELETE CASCADE,
  schedule   jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT zone_household_configs_zone_member_key UNIQUE (zone_id, member_id)
);
CREATE INDEX idx_zone_household_member ON zone_household_configs (member_id);

-- People known by face: a household member's face identity, a named visitor, or an automatic cluster of an
-- unknown face seen more than once ("Unknown person 3", `auto_cluster`) until someone names it.
CREATE TABLE known_persons (
  id           integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name         text NOT NULL CHECK (btrim(name) <> ''),
  member_id    integer UNIQUE REFERENCES household_members (id) ON DELETE CASCADE,
  auto_cluster boolean NOT NULL DEFAULT false,
  notes        text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Every face HSI found on a person crop: where, how good (the quality gate's verdict), its vector when it passed,
-- and whom it matched. `is_unknown`: a face good enough to judge that matched nobody known.
CREATE TABLE face_detection_events (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  detection_id  bigint NOT NULL REFERENCES detections (id) ON DELETE CASCADE,
  camera_id     text NOT NULL,
  detected_at   timestamptz NOT NULL,
  bbox_x        real NOT NULL,
  bbox_y        real NOT NULL,
  bbox_width    real NOT NULL,
  bbox_height   real NOT NULL,
  confidence    real NOT NULL,
  quality       real NOT NULL,
  -- null: the face passed the quality gate; otherwise why it did not (too small, blurred, turned away).
  rejected      text,
  model_id      text,
  embedding     bytea,
  person_id     integer REFERENCES known_persons (id) ON DELETE SET NULL,
  similarity    real,
  -- The best similarity to any named person's face (matched or not): how far from everyone known it is.
  named_similarity real,
  is_unknown    boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_face_events_detection ON face_detection_events (detection_id);
CREATE INDEX idx_face_events_time ON face_detection_events (detected_at);
CREATE INDEX idx_face_events_person ON face_detection_events (person_id) WHERE person_id IS NOT NULL;

-- A known person's face gallery. Removed with the person; a face event it came from may go (retention) and the
-- vector stays until the person is removed.
CREATE TABLE face_embeddings (
  id            integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  person_id     integer NOT NULL REFERENCES known_persons (id) ON DELETE CASCADE,
  model_id      text NOT NULL,
  embedding     bytea NOT NULL,
  quality       real NOT NULL DEFAULT 1,
  face_event_id bigint REFERENCES face_detection_events (id) ON DELETE SET NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_face_embeddings_person ON face_embeddings (person_id);

-- One person re-identified across pictures and cameras, named or not. `embedding` is the running mean of its
-- sightings' vectors (re-normalised); `member_id` once any sighting matched a household member.
CREATE TABLE entities (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  entity_type      text NOT NULL DEFAULT 'person',
  model_id         text NOT NULL,
  embedding        bytea NOT NULL,
  first_seen_at    timestamptz NOT NULL,
  last_seen_at     timestamptz NOT NULL,
  appearance_count integer NOT NULL DEFAULT 1,
  cameras          text[] NOT NULL DEFAULT '{}',
  member_id        integer REFERENCES household_members (id) ON DELETE SET NULL,
  metadata         jsonb NOT NULL DEFAULT '{}',
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_entities_last_seen ON entities (model_id, last_seen_at);

-- An entity's path over cameras: sightings no more than the journey window apart make one journey; `steps` is
-- the ordered list of {camera_id, at} where the camera changed.
CREATE TABLE journeys (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  entity_id    uuid NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
  started_at   timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  cameras      text[] NOT NULL,
  steps        jsonb NOT NULL
);
CREATE INDEX idx_journeys_entity ON journeys (entity_id, last_seen_at);

-- The re-identification vector of each person detection, the entity it joined, the household member it matched
-- (when one did) and the journey it belongs to. Removed with its detection (retention).
CREATE TABLE reid_embeddings (
  detection_id      bigint PRIMARY KEY REFERENCES detections (id) ON DELETE CASCADE,
  camera_id         text NOT NULL,
  detected_at       timestamptz NOT NULL,
  model_id          text NOT NULL,
  embedding         bytea NOT NULL,
  entity_id         uuid REFERENCES entities (id) ON DELETE SET NULL,
  entity_similarity real,
  member_id         integer REFERENCES household_members (id) ON DELETE SET NULL,
  member_similarity real,
  journey_id        uuid REFERENCES journeys (id) ON DELETE SET NULL,
  created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_reid_entity ON reid_embeddings (entity_id, detected_at);
CREATE INDEX idx_reid_time ON reid_embeddings (detected_at);
CREATE INDEX idx_reid_member ON reid_embeddings (member_id, detected_at) WHERE member_id IS NOT NULL;

-- The security events whose Home Assistant "stranger" event fired: once per event, also across restarts and
-- processes (the open and the close of a visit are analysed apart).
CREATE TABLE stranger_notices (
  event_id    bigint PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
  notified_at timestamptz NOT NULL DEFAULT now()
);

-- Identity conditions of alert rules: only when someone unknown was seen; only for these members; never when
-- everyone seen was a trusted member within their schedule.
ALTER TABLE alert_rules ADD COLUMN unknown_person boolean NOT NULL DEFAULT false;
ALTER TABLE alert_rules ADD COLUMN person_ids integer[];
ALTER TABLE alert_rules ADD COLUMN ignore_trusted boolean NOT NULL DEFAULT false;
