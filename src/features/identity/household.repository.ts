import { sql } from 'kysely';
import { type Schedule, validateSchedule } from '../../domain/schedule.js';
import { AppError } from '../../lib/errors.js';
import type { DbOrTx } from '../../storage/database.js';
import type {
  HouseholdMemberRow,
  KnownPersonRow,
  MemberRole,
  RegisteredVehicleRow,
  TrustLevel,
  VehicleType,
} from '../../storage/tables/identity.table.js';
import { lockIdentity } from './identity.repository.js';
import { bytesToVector, vectorToBytes } from './vectors.js';

/**
 * All SQL of the household and the face library: members (and their re-identification gallery), their vehicles,
 * who may be in which zone and when, people known by face (named or an automatic cluster) with their face vectors,
 * and the listings of entities (people re-identified across pictures) and their journeys. Values are validated here
 * (an `INVALID_INPUT` AppError whose message starts with the field); uniqueness (a member's name, a plate, one
 * face identity per member) is the caller's to check first, with the `find…` functions, so it can answer 409.
 */

export const MEMBER_ROLES: readonly MemberRole[] = ['resident', 'family', 'service_worker', 'frequent_visitor'];
export const TRUST_LEVELS: readonly TrustLevel[] = ['full', 'partial', 'monitor'];
export const VEHICLE_TYPES: readonly VehicleType[] = ['car', 'truck', 'motorcycle', 'bicycle', 'van', 'other'];

const invalid = (message: string) => new AppError('INVALID_INPUT', message, { permanent: true });

// ---------------------------------------------------------------------------------------------------------------
// Household members
// ---------------------------------------------------------------------------------------------------------------

/** A household member as stored, with the size of their galleries. */
export interface HouseholdMember {
  id: number;
  name: string;
  role: MemberRole;
  trustLevel: TrustLevel;
  /** When they are usually around; null: any time. */
  typicalSchedule: Schedule[] | null;
  notes: string | null;
  /** Re-identification vectors in their gallery (every model). */
  appearanceVectors: number;
  /** Face vectors of their face identity (0 without one). */
  faceVectors: number;
  /** Their face identity in the face library, once they have one. */
  knownPersonId: number | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface MemberInput {
  name: string;
  role?: MemberRole;
  trustLevel?: TrustLevel;
  typicalSchedule?: Schedule[] | null;
  notes?: string | null;
}

/** The problems of a member's fields, each starting with the field it is about; empty: valid. */
export function validateMemberInput(input: Partial<MemberInput>): string[] {
  const problems: string[] = [];
  if (input.name !== undefined && (typeof input.name !== 'string' || input.name.trim() === '')) {
    problems.push('name must be a non-empty text');
  } else if (input.name !== undefined && input.name.length > 100) problems.push('name must be at most 100 characters');
  if (input.role !== undefined && !MEMBER_ROLES.includes(input.role)) {
    problems.push(`role must be one of ${MEMBER_ROLES.join(', ')}, got ${JSON.stringify(input.role)}`);
  }
  if (input.trustLevel !== undefined && !TRUST_LEVELS.includes(input.trustLevel)) {
    problems.push(`trust_level must be one of ${TRUST_LEVELS.join(', ')}, got ${JSON.stringify(input.trustLevel)}`);
  }
  const schedules = input.typicalSchedule;
  if (schedules !== undefined && schedules !== null) {
    if (!Array.isArray(schedules)) problems.push('typical_schedule must be a list of schedules {days?, start, end}');
    else for (const [i, s] of schedules.entries()) problems.push(...validateSchedule(s, `typical_schedule[${i}]`));
  }
  return problems;
}

function assertValid(problems: string[]): void {
  if (problems.length > 0) throw invalid(problems.join('; '));
}

const memberColumns = [
  'm.id',
  'm.name',
  'm.role',
  'm.trust_level',
  'm.typical_schedule',
  'm.notes',
  'm.created_at',
  'm.updated_at',
] as const;

function memberQuery(db: DbOrTx) {
  return db
    .selectFrom('household_members as m')
    .leftJoin('known_persons as kp', 'kp.member_id', 'm.id')
    .select(memberColumns)
    .select((eb) => [
      'kp.id as known_person_id',
      eb
        .selectFrom('person_embeddings as pe')
        .whereRef('pe.member_id', '=', 'm.id')
        .select(eb.fn.countAll<string>().as('n'))
        .as('appearance_vectors'),
      eb
        .selectFrom('face_embeddings as fe')
        .whereRef('fe.person_id', '=', 'kp.id')
        .select(eb.fn.countAll<string>().as('n'))
        .as('face_vectors'),
    ]);
}

type MemberQueryRow = Pick<
  HouseholdMemberRow,
  'id' | 'name' | 'role' | 'trust_level' | 'typical_schedule' | 'notes' | 'created_at' | 'updated_at'
> & {
  known_person_id: number | null;
  appearance_vectors: string | number | bigint | null;
  face_vectors: string | number | bigint | null;
};

function toMember(row: MemberQueryRow): HouseholdMember {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    trustLevel: row.trust_level,
    typicalSchedule: (row.typical_schedule as Schedule[] | null) ?? null,
    notes: row.notes,
    appearanceVectors: Number(row.appearance_vectors ?? 0),
    faceVectors: Number(row.face_vectors ?? 0),
    knownPersonId: row.known_person_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Every member, by name. */
export async function listMembers(db: DbOrTx): Promise<HouseholdMember[]> {
  const rows = await memberQuery(db).orderBy(sql`lower(m.name)`).orderBy('m.id').execute();
  return rows.map(toMember);
}

export async function getMember(db: DbOrTx, id: number): Promise<HouseholdMember | undefined> {
  const row = await memberQuery(db).where('m.id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : toMember(row);
}

/** The member of that name, whatever its case. */
export async function findMemberByName(db: DbOrTx, name: string): Promise<HouseholdMember | undefined> {
  const row = await memberQuery(db).where(sql<boolean>`lower(m.name) = lower(${name.trim()})`).executeTakeFirst();
  return row === undefined ? undefined : toMember(row);
}

/** Adds a member (fields validated: INVALID_INPUT naming the field). The name must be free (`findMemberByName`). */
export async function createMember(db: DbOrTx, input: MemberInput): Promise<HouseholdMember> {
  assertValid(validateMemberInput(input));
  const { id } = await db
    .insertInto('household_members')
    .values({
      name: input.name.trim(),
      ...(input.role === undefined ? {} : { role: input.role }),
      ...(input.trustLevel === undefined ? {} : { trust_level: input.trustLevel }),
      typical_schedule:
        input.typicalSchedule === undefined || input.typicalSchedule === null
          ? null
          : JSON.stringify(input.typicalSchedule),
      notes: input.notes ?? null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return (await getMember(db, id)) as HouseholdMember;
}

/**
 * Changes the fields given (undefined: kept; `typicalSchedule`/`notes` null: cleared). A new name must be free.
 * Their face identity, when named after them, follows a rename. Undefined: no such member.
 */
export async function updateMember(
  db: DbOrTx,
  id: number,
  patch: Partial<MemberInput>,
): Promise<HouseholdMember | undefined> {
  assertValid(validateMemberInput(patch));
  const before = await getMember(db, id);
  if (before === undefined) return undefined;
  const values: Record<string, unknown> = {};
  if (patch.name !== undefined) values.name = patch.name.trim();
  if (patch.role !== undefined) values.role = patch.role;
  if (patch.trustLevel !== undefined) values.trust_level = patch.trustLevel;
  if (patch.typicalSchedule !== undefined) {
    values.typical_schedule = patch.typicalSchedule === null ? null : JSON.stringify(patch.typicalSchedule);
  }
  if (patch.notes !== undefined) values.notes = patch.notes;
  await db
    .updateTable('household_members')
    .set({ ...values, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .execute();
  if (patch.name !== undefined && before.knownPersonId !== null) {
    await db
      .updateTable('known_persons')
      .set({ name: patch.name.trim(), updated_at: sql<Date>`now()` })
      .where('id', '=', before.knownPersonId)
      .where('name', '=', before.name)
      .execute();
  }
  return getMember(db, id);
}

/** What removing a member removed with them. */
export interface MemberRemoval {
  member: HouseholdMember;
  appearanceVectors: number;
  faceVectors: number;
  /** Face sightings matched to them whose vectors were erased (the sightings stay, unmatched). */
  faceSightingVectors: number;
  /** Re-identification vectors of detections matched to them, erased. */
  sightingVectors: number;
  /** Entities (re-identified people) linked to them, removed with their journeys. */
  entities: number;
}

/**
 * Removes a member and every vector of theirs: their re-identification gallery and their face identity with its
 * face vectors (both by the foreign keys' cascade), the vectors of face sightings matched to that identity, the
 * re-identification vectors of detections matched to them or on their entities, and those entities (with their
 * journeys). Holds the identity lock, so no enrichment worker writes a sighting of theirs meanwhile.
 * Their vehicles stay, unassigned. Run it in a transaction. Undefined: no such member.
 */
export async function deleteMember(db: DbOrTx, id: number): Promise<MemberRemoval | undefined> {
  await lockIdentity(db);
  const member = await getMember(db, id);
  if (member === undefined) return undefined;
  let faceSightingVectors = 0;
  if (member.knownPersonId !== null) {
    const erased = await db
      .updateTable('face_detection_events')
      .set({ embedding: null, model_id: null })
      .where('person_id', '=', member.knownPersonId)
      .where('embedding', 'is not', null)
      .executeTakeFirst();
    faceSightingVectors = Number(erased.numUpdatedRows);
  }
  // Their sightings: matched to them directly, or on an entity of theirs (joined below the member threshold: the
  // vector is still theirs).
  const sightings = await db
    .deleteFrom('reid_embeddings')
    .where((eb) =>
      eb.or([
        eb('member_id', '=', id),
        eb('entity_id', 'in', eb.selectFrom('entities').select('id').where('member_id', '=', id)),
      ]),
    )
    .executeTakeFirst();
  const entities = await db.deleteFrom('entities').where('member_id', '=', id).executeTakeFirst();
  await db.deleteFrom('household_members').where('id', '=', id).execute();
  return {
    member,
    appearanceVectors: member.appearanceVectors,
    faceVectors: member.faceVectors,
    faceSightingVectors,
    sightingVectors: Number(sightings.numDeletedRows),
    entities: Number(entities.numDeletedRows),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Re-identification gallery (person_embeddings)
// ---------------------------------------------------------------------------------------------------------------

export type GallerySource = 'photo' | 'detection' | 'entity';

export interface GalleryVectorInput {
  memberId: number;
  /** The id of the model that made the vector (`Embedder.modelId`). */
  modelId: string;
  vector: Float32Array;
  source: GallerySource;
  detectionId?: number | null;
}

/** Adds one appearance vector to a member's gallery; its id. */
export async function addPersonEmbedding(db: DbOrTx, input: GalleryVectorInput): Promise<number> {
  if (input.vector.length === 0) throw invalid('embedding must not be empty');
  const { id } = await db
    .insertInto('person_embeddings')
    .values({
      member_id: input.memberId,
      model_id: input.modelId,
      embedding: vectorToBytes(input.vector),
      source: input.source,
      detection_id: input.detectionId ?? null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return id;
}

/** How many gallery vectors a member has per model id (and source). */
export async function countPersonEmbeddings(
  db: DbOrTx,
  memberId: number,
): Promise<{ modelId: string; source: GallerySource; count: number }[]> {
  const rows = await db
    .selectFrom('person_embeddings')
    .where('member_id', '=', memberId)
    .select(['model_id', 'source', (eb) => eb.fn.countAll<string>().as('n')])
    .groupBy(['model_id', 'source'])
    .orderBy('model_id')
    .orderBy('source')
    .execute();
  return rows.map((r) => ({ modelId: r.model_id, source: r.source, count: Number(r.n) }));
}

// ---------------------------------------------------------------------------------------------------------------
// Registered vehicles
// ---------------------------------------------------------------------------------------------------------------

export interface Vehicle {
  id: number;
  memberId: number | null;
  memberName: string | null;
  description: string;
  vehicleType: VehicleType;
  color: string | null;
  licensePlate: string | null;
  trusted: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface VehicleInput {
  memberId?: number | null;
  description: string;
  vehicleType?: VehicleType;
  color?: string | null;
  licensePlate?: string | null;
  trusted?: boolean;
}

/** The problems of a vehicle's fields, each starting with its field; empty: valid. */
export function validateVehicleInput(input: Partial<VehicleInput>): string[] {
  const problems: string[] = [];
  if (input.description !== undefined && input.description.trim() === '') {
    problems.push('description must be a non-empty text');
  }
  if (input.vehicleType !== undefined && !VEHICLE_TYPES.includes(input.vehicleType)) {
    problems.push(`vehicle_type must be one of ${VEHICLE_TYPES.join(', ')}, got ${JSON.stringify(input.vehicleType)}`);
  }
  if (input.licensePlate !== undefined && input.licensePlate !== null && input.licensePlate.trim() === '') {
    problems.push('license_plate must be null or a non-empty text');
  }
  return problems;
}

function vehicleQuery(db: DbOrTx) {
  return db
    .selectFrom('registered_vehicles as v')
    .leftJoin('household_members as m', 'm.id', 'v.member_id')
    .selectAll('v')
    .select('m.name as member_name');
}

function toVehicle(row: RegisteredVehicleRow & { member_name: string | null }): Vehicle {
  return {
    id: row.id,
    memberId: row.member_id,
    memberName: row.member_name,
    description: row.description,
    vehicleType: row.vehicle_type,
    color: row.color,
    licensePlate: row.license_plate,
    trusted: row.trusted,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Every vehicle (optionally one member's), by description. */
export async function listVehicles(db: DbOrTx, memberId?: number): Promise<Vehicle[]> {
  let query = vehicleQuery(db);
  if (memberId !== undefined) query = query.where('v.member_id', '=', memberId);
  return (await query.orderBy(sql`lower(v.description)`).orderBy('v.id').execute()).map(toVehicle);
}

export async function getVehicle(db: DbOrTx, id: number): Promise<Vehicle | undefined> {
  const row = await vehicleQuery(db).where('v.id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : toVehicle(row);
}

/** The vehicle with that plate (case and spaces as typed; compared upper-cased). */
export async function findVehicleByPlate(db: DbOrTx, plate: string): Promise<Vehicle | undefined> {
  const row = await vehicleQuery(db)
    .where(sql<boolean>`upper(v.license_plate) = upper(${plate.trim()})`)
    .executeTakeFirst();
  return row === undefined ? undefined : toVehicle(row);
}

const plateOf = (plate: string | null | undefined) => (plate === undefined || plate === null ? null : plate.trim());

/** Registers a vehicle (its member, when given, must exist; its plate must be free: `findVehicleByPlate`). */
export async function createVehicle(db: DbOrTx, input: VehicleInput): Promise<Vehicle> {
  assertValid(validateVehicleInput(input));
  const { id } = await db
    .insertInto('registered_vehicles')
    .values({
      member_id: input.memberId ?? null,
      description: input.description.trim(),
      ...(input.vehicleType === undefined ? {} : { vehicle_type: input.vehicleType }),
      color: input.color ?? null,
      license_plate: plateOf(input.licensePlate),
      ...(input.trusted === undefined ? {} : { trusted: input.trusted }),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return (await getVehicle(db, id)) as Vehicle;
}

/** Changes the fields given (undefined: kept, null: cleared). Undefined: no such vehicle. */
export async function updateVehicle(
  db: DbOrTx,
  id: number,
  patch: Partial<VehicleInput>,
): Promise<Vehicle | undefined> {
  assertValid(validateVehicleInput(patch));
  const values: Record<string, unknown> = {};
  if (patch.memberId !== undefined) values.member_id = patch.memberId;
  if (patch.description !== undefined) values.description = patch.description.trim();
  if (patch.vehicleType !== undefined) values.vehicle_type = patch.vehicleType;
  if (patch.color !== undefined) values.color = patch.color;
  if (patch.licensePlate !== undefined) values.license_plate = plateOf(patch.licensePlate);
  if (patch.trusted !== undefined) values.trusted = patch.trusted;
  const result = await db
    .updateTable('registered_vehicles')
    .set({ ...values, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) return undefined;
  return getVehicle(db, id);
}

/** Removes a vehicle; the removed one, or undefined when there was none. */
export async function deleteVehicle(db: DbOrTx, id: number): Promise<Vehicle | undefined> {
  const vehicle = await getVehicle(db, id);
  if (vehicle !== undefined) await db.deleteFrom('registered_vehicles').where('id', '=', id).execute();
  return vehicle;
}

// ---------------------------------------------------------------------------------------------------------------
// Zone permissions (zone_household_configs)
// ---------------------------------------------------------------------------------------------------------------

/** A member allowed in a zone, at the times of `schedule` (null: any time). */
export interface ZonePermission {
  zoneId: string;
  memberId: number;
  memberName: string;
  schedule: Schedule | null;
  createdAt: Date;
}

function permissionQuery(db: DbOrTx) {
  return db
    .selectFrom('zone_household_configs as z')
    .innerJoin('household_members as m', 'm.id', 'z.member_id')
    .select(['z.zone_id', 'z.member_id', 'm.name as member_name', 'z.schedule', 'z.created_at']);
}

function toPermission(row: {
  zone_id: string;
  member_id: number;
  member_name: string;
  schedule: unknown;
  created_at: Date;
}): ZonePermission {
  return {
    zoneId: row.zone_id,
    memberId: row.member_id,
    memberName: row.member_name,
    schedule: (row.schedule as Schedule | null) ?? null,
    createdAt: row.created_at,
  };
}

/**
 * Allows a member in a zone (at the times of `schedule`, validated; null: any time), replacing what was set for
 * that pair. The zone and the member must exist (the caller checks, to name which is missing).
 */
export async function setZonePermission(
  db: DbOrTx,
  zoneId: string,
  memberId: number,
  schedule: Schedule | null,
): Promise<ZonePermission> {
  if (schedule !== null) assertValid(validateSchedule(schedule, 'schedule'));
  const json = schedule === null ? null : JSON.stringify(schedule);
  await db
    .insertInto('zone_household_configs')
    .values({ zone_id: zoneId, member_id: memberId, schedule: json })
    .onConflict((oc) => oc.columns(['zone_id', 'member_id']).doUpdateSet({ schedule: json }))
    .execute();
  const row = await permissionQuery(db)
    .where('z.zone_id', '=', zoneId)
    .where('z.member_id', '=', memberId)
    .executeTakeFirstOrThrow();
  return toPermission(row);
}

/** Permissions of one zone, one member, or all, by zone then member name. */
export async function listZonePermissions(
  db: DbOrTx,
  filter: { zoneId?: string; memberId?: number } = {},
): Promise<ZonePermission[]> {
  let query = permissionQuery(db);
  if (filter.zoneId !== undefined) query = query.where('z.zone_id', '=', filter.zoneId);
  if (filter.memberId !== undefined) query = query.where('z.member_id', '=', filter.memberId);
  const rows = await query.orderBy('z.zone_id').orderBy(sql`lower(m.name)`).execute();
  return rows.map(toPermission);
}

/** Removes a member's permission for a zone; whether there was one. */
export async function removeZonePermission(db: DbOrTx, zoneId: string, memberId: number): Promise<boolean> {
  const result = await db
    .deleteFrom('zone_household_configs')
    .where('zone_id', '=', zoneId)
    .where('member_id', '=', memberId)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Face library (known_persons, face_embeddings, face_detection_events)
// ---------------------------------------------------------------------------------------------------------------

/** A person known by face: a member's face identity, a named visitor, or an unnamed cluster of an unknown face. */
export interface KnownPerson {
  id: number;
  name: string;
  memberId: number | null;
  memberName: string | null;
  /** An automatic group of an unknown face seen more than once, until someone names it. */
  autoCluster: boolean;
  notes: string | null;
  /** Vectors in their face gallery. */
  faceVectors: number;
  /** Face sightings matched to them. */
  sightings: number;
  lastSeenAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

function personQuery(db: DbOrTx) {
  return db
    .selectFrom('known_persons as p')
    .leftJoin('household_members as m', 'm.id', 'p.member_id')
    .selectAll('p')
    .select((eb) => [
      'm.name as member_name',
      eb
        .selectFrom('face_embeddings as fe')
        .whereRef('fe.person_id', '=', 'p.id')
        .select(eb.fn.countAll<string>().as('n'))
        .as('face_vectors'),
      eb
        .selectFrom('face_detection_events as fd')
        .whereRef('fd.person_id', '=', 'p.id')
        .select(eb.fn.countAll<string>().as('n'))
        .as('sightings'),
      eb
        .selectFrom('face_detection_events as fd')
        .whereRef('fd.person_id', '=', 'p.id')
        .select((sub) => sub.fn.max('fd.detected_at').as('at'))
        .as('last_seen_at'),
    ]);
}

function toPerson(
  row: KnownPersonRow & {
    member_name: string | null;
    face_vectors: string | number | bigint | null;
    sightings: string | number | bigint | null;
    last_seen_at: Date | string | null;
  },
): KnownPerson {
  return {
    id: row.id,
    name: row.name,
    memberId: row.member_id,
    memberName: row.member_name,
    autoCluster: row.auto_cluster,
    notes: row.notes,
    faceVectors: Number(row.face_vectors ?? 0),
    sightings: Number(row.sightings ?? 0),
    lastSeenAt: row.last_seen_at === null ? null : new Date(row.last_seen_at),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** People known by face, by name; `autoCluster` true: only the unnamed clusters, false: only the named people. */
export async function listKnownPersons(db: DbOrTx, filter: { autoCluster?: boolean } = {}): Promise<KnownPerson[]> {
  let query = personQuery(db);
  if (filter.autoCluster !== undefined) query = query.where('p.auto_cluster', '=', filter.autoCluster);
  const rows = await query.orderBy(sql`lower(p.name)`).orderBy('p.id').execute();
  return rows.map(toPerson);
}

export async function getKnownPerson(db: DbOrTx, id: number): Promise<KnownPerson | undefined> {
  const row = await personQuery(db).where('p.id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : toPerson(row);
}

/** The face identity of a member, if they have one. */
export async function findPersonOfMember(db: DbOrTx, memberId: number): Promise<KnownPerson | undefined> {
  const row = await personQuery(db).where('p.member_id', '=', memberId).executeTakeFirst();
  return row === undefined ? undefined : toPerson(row);
}

/** Adds a person to the face library (a member's identity: `memberId`, which must have none yet). */
export async function createKnownPerson(
  db: DbOrTx,
  input: { name: string; memberId?: number | null; autoCluster?: boolean; notes?: string | null },
): Promise<KnownPerson> {
  if (input.name.trim() === '') throw invalid('name must be a non-empty text');
  const { id } = await db
    .insertInto('known_persons')
    .values({
      name: input.name.trim(),
      member_id: input.memberId ?? null,
      auto_cluster: input.autoCluster ?? false,
      notes: input.notes ?? null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return (await getKnownPerson(db, id)) as KnownPerson;
}

/** A member's face identity: theirs, or a new one named after them. */
export async function personForMember(db: DbOrTx, member: { id: number; name: string }): Promise<KnownPerson> {
  return (await findPersonOfMember(db, member.id)) ?? createKnownPerson(db, { name: member.name, memberId: member.id });
}

/** Adds a face vector to a person's gallery; its id. */
export async function addFaceEmbedding(
  db: DbOrTx,
  input: { personId: number; modelId: string; vector: Float32Array; quality: number; faceEventId?: number | null },
): Promise<number> {
  if (input.vector.length === 0) throw invalid('embedding must not be empty');
  const { id } = await db
    .insertInto('face_embeddings')
    .values({
      person_id: input.personId,
      model_id: input.modelId,
      embedding: vectorToBytes(input.vector),
      quality: input.quality,
      face_event_id: input.faceEventId ?? null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return id;
}

/** One vector of a person's face gallery (the vector itself stays in the database). */
export interface FaceVector {
  id: number;
  modelId: string;
  quality: number;
  faceEventId: number | null;
  createdAt: Date;
}

/** One face HSI saw on a person crop. */
export interface FaceSighting {
  id: number;
  detectionId: number;
  cameraId: string;
  detectedAt: Date;
  bbox: { x: number; y: number; width: number; height: number };
  confidence: number;
  quality: number;
  rejected: string | null;
  similarity: number | null;
  isUnknown: boolean;
}

/** A person's face gallery (newest first) and the newest `limit` face sightings matched to them. */
export async function facesOfPerson(
  db: DbOrTx,
  personId: number,
  limit = 100,
): Promise<{ vectors: FaceVector[]; sightings: FaceSighting[] }> {
  const vectors = await db
    .selectFrom('face_embeddings')
    .where('person_id', '=', personId)
    .select(['id', 'model_id', 'quality', 'face_event_id', 'created_at'])
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  const sightings = await db
    .selectFrom('face_detection_events')
    .where('person_id', '=', personId)
    .select([
      'id',
      'detection_id',
      'camera_id',
      'detected_at',
      'bbox_x',
      'bbox_y',
      'bbox_width',
      'bbox_height',
      'confidence',
      'quality',
      'rejected',
      'similarity',
      'is_unknown',
    ])
    .orderBy('detected_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return {
    vectors: vectors.map((v) => ({
      id: v.id,
      modelId: v.model_id,
      quality: v.quality,
      faceEventId: v.face_event_id === null ? null : Number(v.face_event_id),
      createdAt: v.created_at,
    })),
    sightings: sightings.map((s) => ({
      id: Number(s.id),
      detectionId: Number(s.detection_id),
      cameraId: s.camera_id,
      detectedAt: s.detected_at,
      bbox: { x: s.bbox_x, y: s.bbox_y, width: s.bbox_width, height: s.bbox_height },
      confidence: s.confidence,
      quality: s.quality,
      rejected: s.rejected,
      similarity: s.similarity,
      isUnknown: s.is_unknown,
    })),
  };
}

/**
 * Names a person ("this is Jane"): sets the name, makes a cluster a named person (`auto_cluster` false) and, when
 * `memberId` is given, links it to that member (null: unlinks). The member must exist and have no other face
 * identity (the caller checks: merging is the way to join two). Undefined: no such person.
 */
export async function namePerson(
  db: DbOrTx,
  id: number,
  input: { name: string; memberId?: number | null },
): Promise<KnownPerson | undefined> {
  if (input.name.trim() === '') throw invalid('name must be a non-empty text');
  const result = await db
    .updateTable('known_persons')
    .set({
      name: input.name.trim(),
      auto_cluster: false,
      ...(input.memberId === undefined ? {} : { member_id: input.memberId }),
      updated_at: sql<Date>`now()`,
    })
    .where('id', '=', id)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) return undefined;
  // Sightings matched to a named person are no longer "unknown".
  await db.updateTable('face_detection_events').set({ is_unknown: false }).where('person_id', '=', id).execute();
  return getKnownPerson(db, id);
}

/** What a merge moved. */
export interface MergeResult {
  into: KnownPerson;
  movedVectors: number;
  movedSightings: number;
}

/**
 * Merges person `fromId` into `intoId`: its face vectors and sightings move over, and it is removed. When only
 * `from` is a member's identity, `into` becomes it. Two identities of different members are refused (INVALID_INPUT);
 * run it in a transaction. Undefined: either person is missing.
 */
export async function mergePersons(db: DbOrTx, fromId: number, intoId: number): Promise<MergeResult | undefined> {
  if (fromId === intoId) throw invalid('into must be another person than the one merged');
  const from = await getKnownPerson(db, fromId);
  const into = await getKnownPerson(db, intoId);
  if (from === undefined || into === undefined) return undefined;
  if (from.memberId !== null && into.memberId !== null && from.memberId !== into.memberId) {
    throw invalid(
      `into: ${from.name} and ${into.name} are the face identities of two different household members; ` +
        'remove one of them instead',
    );
  }
  const vectors = await db
    .updateTable('face_embeddings')
    .set({ person_id: intoId })
    .where('person_id', '=', fromId)
    .executeTakeFirst();
  const sightings = await db
    .updateTable('face_detection_events')
    .set({ person_id: intoId, ...(into.autoCluster ? {} : { is_unknown: false }) })
    .where('person_id', '=', fromId)
    .executeTakeFirst();
  await db.deleteFrom('known_persons').where('id', '=', fromId).execute();
  if (from.memberId !== null && into.memberId === null) {
    await db
      .updateTable('known_persons')
      .set({ member_id: from.memberId, auto_cluster: false, updated_at: sql<Date>`now()` })
      .where('id', '=', intoId)
      .execute();
  }
  return {
    into: (await getKnownPerson(db, intoId)) as KnownPerson,
    movedVectors: Number(vectors.numUpdatedRows),
    movedSightings: Number(sightings.numUpdatedRows),
  };
}

/** Removes a person and their face vectors (cascade); their sightings stay, unmatched. Undefined: none. */
export async function deletePerson(db: DbOrTx, id: number): Promise<KnownPerson | undefined> {
  const person = await getKnownPerson(db, id);
  if (person !== undefined) await db.deleteFrom('known_persons').where('id', '=', id).execute();
  return person;
}

// ---------------------------------------------------------------------------------------------------------------
// Entities and journeys
// ---------------------------------------------------------------------------------------------------------------

/** One person re-identified across pictures and cameras. */
export interface Entity {
  id: string;
  entityType: string;
  modelId: string;
  firstSeenAt: Date;
  lastSeenAt: Date;
  appearanceCount: number;
  cameras: string[];
  memberId: number | null;
  memberName: string | null;
  metadata: Record<string, unknown>;
}

function entityQuery(db: DbOrTx) {
  return db
    .selectFrom('entities as e')
    .leftJoin('household_members as m', 'm.id', 'e.member_id')
    .select([
      'e.id',
      'e.entity_type',
      'e.model_id',
      'e.first_seen_at',
      'e.last_seen_at',
      'e.appearance_count',
      'e.cameras',
      'e.member_id',
      'e.metadata',
      'm.name as member_name',
    ]);
}

function toEntity(row: {
  id: string;
  entity_type: string;
  model_id: string;
  first_seen_at: Date;
  last_seen_at: Date;
  appearance_count: number;
  cameras: string[];
  member_id: number | null;
  metadata: unknown;
  member_name: string | null;
}): Entity {
  return {
    id: row.id,
    entityType: row.entity_type,
    modelId: row.model_id,
    firstSeenAt: row.first_seen_at,
    lastSeenAt: row.last_seen_at,
    appearanceCount: row.appearance_count,
    cameras: row.cameras,
    memberId: row.member_id,
    memberName: row.member_name,
    metadata: (row.metadata as Record<string, unknown> | null) ?? {},
  };
}

export interface EntityQuery {
  limit: number;
  offset?: number;
  /** Only those linked to this member. */
  memberId?: number;
  /** true: only those linked to a member; false: only strangers. */
  known?: boolean;
  /** Only those seen on this camera. */
  cameraId?: string;
}

/** Entities, newest `last_seen_at` first, with the total matching the filter (for paging). */
export async function listEntities(db: DbOrTx, query: EntityQuery): Promise<{ entities: Entity[]; total: number }> {
  const filtered = <Q extends ReturnType<typeof entityQuery>>(q: Q): Q => {
    let out = q;
    if (query.memberId !== undefined) out = out.where('e.member_id', '=', query.memberId) as Q;
    if (query.known !== undefined) out = out.where('e.member_id', query.known ? 'is not' : 'is', null) as Q;
    if (query.cameraId !== undefined) out = out.where(sql<boolean>`${query.cameraId} = ANY(e.cameras)`) as Q;
    return out;
  };
  const rows = await filtered(entityQuery(db))
    .orderBy('e.last_seen_at', 'desc')
    .orderBy('e.id')
    .limit(query.limit)
    .offset(query.offset ?? 0)
    .execute();
  const total = await filtered(entityQuery(db))
    .clearSelect()
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return { entities: rows.map(toEntity), total: Number(total.n) };
}

export async function getEntity(db: DbOrTx, id: string): Promise<Entity | undefined> {
  const row = await entityQuery(db).where('e.id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : toEntity(row);
}

/** An entity's vectors: its running mean, then up to `limit` of its newest sightings' vectors of the same model. */
export async function entityVectors(
  db: DbOrTx,
  id: string,
  limit: number,
): Promise<{ modelId: string; mean: Float32Array; sightings: { detectionId: number; vector: Float32Array }[] }> {
  const entity = await db
    .selectFrom('entities')
    .where('id', '=', id)
    .select(['model_id', 'embedding'])
    .executeTakeFirstOrThrow();
  const rows = await db
    .selectFrom('reid_embeddings')
    .where('entity_id', '=', id)
    .where('model_id', '=', entity.model_id)
    .select(['detection_id', 'embedding'])
    .orderBy('detected_at', 'desc')
    .limit(limit)
    .execute();
  return {
    modelId: entity.model_id,
    mean: bytesToVector(entity.embedding),
    sightings: rows.map((r) => ({ detectionId: Number(r.detection_id), vector: bytesToVector(r.embedding) })),
  };
}

/** Links an entity to a member (null: unlinks), with the sightings it holds. Whether the entity exists. */
export async function setEntityMember(db: DbOrTx, id: string, memberId: number | null): Promise<boolean> {
  const result = await db.updateTable('entities').set({ member_id: memberId }).where('id', '=', id).executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) return false;
  await db.updateTable('reid_embeddings').set({ member_id: memberId }).where('entity_id', '=', id).execute();
  return true;
}

/** An entity's path over cameras. */
export interface Journey {
  id: string;
  entityId: string;
  memberId: number | null;
  memberName: string | null;
  startedAt: Date;
  lastSeenAt: Date;
  cameras: string[];
  steps: { cameraId: string; at: string }[];
}

export interface JourneyQuery {
  limit: number;
  offset?: number;
  entityId?: string;
  /** Only journeys over more than one camera. */
  multiCamera?: boolean;
  /** Only journeys seen at or after this. */
  since?: Date;
}

/** Journeys, newest `last_seen_at` first. */
export async function listJourneys(db: DbOrTx, query: JourneyQuery): Promise<Journey[]> {
  let q = db
    .selectFrom('journeys as j')
    .innerJoin('entities as e', 'e.id', 'j.entity_id')
    .leftJoin('household_members as m', 'm.id', 'e.member_id')
    .select([
      'j.id',
      'j.entity_id',
      'j.started_at',
      'j.last_seen_at',
      'j.cameras',
      'j.steps',
      'e.member_id',
      'm.name as member_name',
    ]);
  if (query.entityId !== undefined) q = q.where('j.entity_id', '=', query.entityId);
  if (query.multiCamera === true) q = q.where(sql<boolean>`cardinality(j.cameras) > 1`);
  if (query.since !== undefined) q = q.where('j.last_seen_at', '>=', query.since);
  const rows = await q
    .orderBy('j.last_seen_at', 'desc')
    .orderBy('j.id')
    .limit(query.limit)
    .offset(query.offset ?? 0)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    entityId: r.entity_id,
    memberId: r.member_id,
    memberName: r.member_name,
    startedAt: r.started_at,
    lastSeenAt: r.last_seen_at,
    cameras: r.cameras,
    steps: (typeof r.steps === 'string' ? (JSON.parse(r.steps) as typeof r.steps) : r.steps).map((s) => ({
      cameraId: s.camera_id,
      at: s.at,
    })),
  }));
}

// ---------------------------------------------------------------------------------------------------------------
// Detections (enrolment from a past detection)
// ---------------------------------------------------------------------------------------------------------------

/** What enrolling from a past detection needs of it: its box and its media file. */
export interface DetectionSource {
  id: number;
  cameraId: string;
  objectType: string;
  bbox: { x: number; y: number; width: number; height: number };
  mediaType: 'image' | 'video';
  frameIndex: number | null;
  /** Relative to `media_root`. */
  mediaPath: string;
}

export async function detectionSource(db: DbOrTx, id: number): Promise<DetectionSource | undefined> {
  const row = await db
    .selectFrom('detections as d')
    .innerJoin('media_files as f', 'f.id', 'd.media_file_id')
    .where('d.id', '=', id)
    .select([
      'd.id',
      'd.camera_id',
      'd.object_type',
      'd.bbox_x',
      'd.bbox_y',
      'd.bbox_width',
      'd.bbox_height',
      'd.media_type',
      'd.frame_index',
      'f.path',
    ])
    .executeTakeFirst();
  if (row === undefined) return undefined;
  return {
    id: Number(row.id),
    cameraId: row.camera_id,
    objectType: row.object_type,
    bbox: { x: row.bbox_x, y: row.bbox_y, width: row.bbox_width, height: row.bbox_height },
    mediaType: row.media_type,
    frameIndex: row.frame_index,
    mediaPath: row.path,
  };
}
