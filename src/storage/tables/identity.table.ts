import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/**
 * The identity tables (migration 0008). Vectors are `bytea` of little-endian float32 (see
 * `src/features/identity/vectors.ts`), each with the id of the model that made it.
 */

export type MemberRole = 'resident' | 'family' | 'service_worker' | 'frequent_visitor';
export type TrustLevel = 'full' | 'partial' | 'monitor';
/** bytea: node-postgres reads a Buffer, PGlite a Uint8Array. */
export type VectorColumn = ColumnType<Uint8Array, Uint8Array, Uint8Array>;

export interface HouseholdMemberTable {
  id: Generated<number>;
  name: string;
  role: Generated<MemberRole>;
  trust_level: Generated<TrustLevel>;
  /** A list of schedules ({days?, start, end, timezone?}) as JSON; null: any time. */
  typical_schedule: unknown | null;
  notes: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface PersonEmbeddingTable {
  id: Generated<number>;
  member_id: number;
  model_id: string;
  embedding: VectorColumn;
  source: 'photo' | 'detection' | 'entity';
  detection_id: number | null;
  created_at: Generated<Date>;
}

export type VehicleType = 'car' | 'truck' | 'motorcycle' | 'bicycle' | 'van' | 'other';

export interface RegisteredVehicleTable {
  id: Generated<number>;
  member_id: number | null;
  description: string;
  vehicle_type: Generated<VehicleType>;
  color: string | null;
  license_plate: string | null;
  trusted: Generated<boolean>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface ZoneHouseholdConfigTable {
  id: Generated<number>;
  zone_id: string;
  member_id: number;
  /** A schedule as JSON; null: any time. */
  schedule: unknown | null;
  created_at: Generated<Date>;
}

export interface KnownPersonTable {
  id: Generated<number>;
  name: string;
  member_id: number | null;
  auto_cluster: Generated<boolean>;
  notes: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface FaceDetectionEventTable {
  id: Generated<number>;
  detection_id: number;
  camera_id: string;
  detected_at: Date;
  bbox_x: number;
  bbox_y: number;
  bbox_width: number;
  bbox_height: number;
  confidence: number;
  quality: number;
  rejected: string | null;
  model_id: string | null;
  embedding: VectorColumn | null;
  person_id: number | null;
  similarity: number | null;
  named_similarity: number | null;
  is_unknown: Generated<boolean>;
  created_at: Generated<Date>;
}

export interface FaceEmbeddingTable {
  id: Generated<number>;
  person_id: number;
  model_id: string;
  embedding: VectorColumn;
  quality: Generated<number>;
  face_event_id: number | null;
  created_at: Generated<Date>;
}

export interface EntityTable {
  id: Generated<string>;
  entity_type: Generated<string>;
  model_id: string;
  embedding: VectorColumn;
  first_seen_at: Date;
  last_seen_at: Date;
  appearance_count: Generated<number>;
  cameras: Generated<string[]>;
  member_id: number | null;
  metadata: Generated<unknown>;
  created_at: Generated<Date>;
}

export interface JourneyStep {
  camera_id: string;
  at: string;
}

export interface JourneyTable {
  id: Generated<string>;
  entity_id: string;
  started_at: Date;
  last_seen_at: Date;
  cameras: string[];
  steps: ColumnType<JourneyStep[], string, string>;
}

export interface ReidEmbeddingTable {
  detection_id: number;
  camera_id: string;
  detected_at: Date;
  model_id: string;
  embedding: VectorColumn;
  entity_id: string | null;
  entity_similarity: number | null;
  member_id: number | null;
  member_similarity: number | null;
  journey_id: string | null;
  created_at: Generated<Date>;
}

export interface StrangerNoticeTable {
  event_id: number;
  notified_at: Generated<Date>;
}

export type HouseholdMemberRow = Selectable<HouseholdMemberTable>;
export type NewHouseholdMember = Insertable<HouseholdMemberTable>;
export type RegisteredVehicleRow = Selectable<RegisteredVehicleTable>;
export type KnownPersonRow = Selectable<KnownPersonTable>;
export type FaceDetectionEventRow = Selectable<FaceDetectionEventTable>;
export type EntityRow = Selectable<EntityTable>;
export type JourneyRow = Selectable<JourneyTable>;
export type ReidEmbeddingRow = Selectable<ReidEmbeddingTable>;
