import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiContext, ApiRoutes } from '../../api/context.js';
import { ApiError, badRequest, conflict, leadingField, notFound } from '../../api/errors.js';
import { sourcePicture } from '../../api/routes/detections.js';
import { dateTime, errors, idParams, listOf, scheduleSchema } from '../../api/schemas.js';
import type { Config } from '../../config/schema.js';
import type { Schedule } from '../../domain/schedule.js';
import { AppError } from '../../lib/errors.js';
import { type ModelRuntime, OnnxModelRuntime } from '../../models/model-runtime.js';
import type { DbOrTx } from '../../storage/database.js';
import { eventDetectionIds, getEvent } from '../../storage/event.repository.js';
import { detectionImageSource } from '../../storage/queries/detections.js';
import type { MemberRole, TrustLevel, VehicleType } from '../../storage/tables/identity.table.js';
import { getZone } from '../../storage/zone.repository.js';
import {
  EnrolmentRefused,
  type EnrolmentResult,
  enrolFromEntity,
  lazyEnrolmentModels,
  type PreparedEnrolment,
  prepareFromDetection,
  prepareFromPhoto,
} from './enrolment.js';
import {
  countPersonEmbeddings,
  createMember,
  createVehicle,
  deleteMember,
  deletePerson,
  deleteVehicle,
  detectionSource,
  type Entity,
  facesOfPerson,
  findMemberByName,
  findPersonOfMember,
  findVehicleByPlate,
  getEntity,
  getKnownPerson,
  getMember,
  getVehicle,
  type HouseholdMember,
  type Journey,
  type KnownPerson,
  listEntities,
  listJourneys,
  listKnownPersons,
  listMembers,
  listVehicles,
  listZonePermissions,
  MEMBER_ROLES,
  type MemberInput,
  mergePersons,
  namePerson,
  removeZonePermission,
  setZonePermission,
  TRUST_LEVELS,
  updateMember,
  updateVehicle,
  VEHICLE_TYPES,
  type Vehicle,
  type VehicleInput,
  type ZonePermission,
} from './household.repository.js';
import { lockIdentity, sightingsOfDetections } from './identity.repository.js';
import { peopleThresholds, visitPeople } from './visit-people.js';

/**
 * The identity feature's HTTP API: the household (members, their enrolment, vehicles, who may be in which zone),
 * the face library (`/api/faces`: people known by face, unknown clusters to name, merging) and the people seen
 * (`/api/entities`, `/api/journeys`). Every change is audited with the API user as actor.
 */

/** Largest enrolment photo accepted (a raw `image/jpeg`, `image/png` or `image/webp` body). */
export const ENROL_PHOTO_MAX_BYTES = 20 * 1024 * 1024;

const PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/webp'];

// ------------------------------------------------------------------------------------------------ schemas

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const num = { type: 'number' } as const;
const bool = { type: 'boolean' } as const;
const nullableStr = { type: ['string', 'null'] } as const;
const nullableInt = { type: ['integer', 'null'] } as const;
const nullableDate = { type: ['string', 'null'], format: 'date-time' } as const;
const obj = (properties: Record<string, unknown>) => ({ type: 'object', properties }) as const;
const boxSchema = obj({ x: num, y: num, width: num, height: num });
const uuidParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', format: 'uuid' } },
} as const;
const memberIdField = { type: 'integer', minimum: 1, maximum: 2_147_483_647 } as const;

const memberSchema = obj({
  id: int,
  name: str,
  role: { type: 'string', enum: MEMBER_ROLES },
  trust_level: { type: 'string', enum: TRUST_LEVELS },
  typical_schedule: { type: ['array', 'null'], items: scheduleSchema },
  notes: nullableStr,
  appearance_vectors: int,
  face_vectors: int,
  known_person_id: nullableInt,
  created_at: dateTime,
  updated_at: dateTime,
});

const memberDetailSchema = obj({
  ...memberSchema.properties,
  gallery: { type: 'array', items: obj({ model_id: str, source: str, count: int }) },
});

const memberFields = {
  name: { type: 'string', minLength: 1, maxLength: 100 },
  role: { type: 'string', enum: MEMBER_ROLES },
  trust_level: {
    type: 'string',
    enum: TRUST_LEVELS,
    description: 'full: never alarms on their own; partial: lowers risk less; monitor: recognised and logged only',
  },
  typical_schedule: {
    type: ['array', 'null'],
    items: scheduleSchema,
    maxItems: 50,
    description: 'When they are usually around; null: any time',
  },
  notes: { type: ['string', 'null'], maxLength: 2000 },
} as const;

const vehicleSchema = obj({
  id: int,
  member_id: nullableInt,
  member_name: nullableStr,
  description: str,
  vehicle_type: { type: 'string', enum: VEHICLE_TYPES },
  color: nullableStr,
  license_plate: nullableStr,
  trusted: bool,
  created_at: dateTime,
  updated_at: dateTime,
});

const vehicleFields = {
  member_id: { ...memberIdField, type: ['integer', 'null'] },
  description: { type: 'string', minLength: 1, maxLength: 200 },
  vehicle_type: { type: 'string', enum: VEHICLE_TYPES },
  color: { type: ['string', 'null'], maxLength: 50 },
  license_plate: { type: ['string', 'null'], minLength: 1, maxLength: 20 },
  trusted: bool,
} as const;

const permissionSchema = obj({
  zone_id: str,
  member_id: int,
  member_name: str,
  schedule: { ...scheduleSchema, type: ['object', 'null'], required: [] },
  created_at: dateTime,
});

const personSchema = obj({
  id: int,
  name: str,
  member_id: nullableInt,
  member_name: nullableStr,
  auto_cluster: bool,
  notes: nullableStr,
  face_vectors: int,
  sightings: int,
  last_seen_at: nullableDate,
  created_at: dateTime,
  updated_at: dateTime,
});

const personDetailSchema = obj({
  ...personSchema.properties,
  vectors: {
    type: 'array',
    items: obj({ id: int, model_id: str, quality: num, face_event_id: nullableInt, created_at: dateTime }),
  },
  faces: {
    type: 'array',
    items: obj({
      id: int,
      detection_id: int,
      camera_id: str,
      detected_at: dateTime,
      bbox: boxSchema,
      confidence: num,
      quality: num,
      rejected: nullableStr,
      similarity: { type: ['number', 'null'] },
      is_unknown: bool,
    }),
  },
});

const entitySchema = obj({
  id: str,
  entity_type: str,
  model_id: str,
  first_seen_at: dateTime,
  last_seen_at: dateTime,
  appearance_count: int,
  cameras: { type: 'array', items: str },
  member_id: nullableInt,
  member_name: nullableStr,
  metadata: { type: 'object', additionalProperties: true },
});

const journeySchema = obj({
  id: str,
  entity_id: str,
  member_id: nullableInt,
  member_name: nullableStr,
  started_at: dateTime,
  last_seen_at: dateTime,
  cameras: { type: 'array', items: str },
  steps: { type: 'array', items: obj({ camera_id: str, at: str }) },
});

const eventPeopleSchema = obj({
  event_id: int,
  persons: int,
  unknown: int,
  members: {
    type: 'array',
    items: obj({
      id: int,
      name: str,
      trust: str,
      via: { type: 'string', enum: ['face', 'appearance'] },
      similarity: num,
    }),
  },
  entities: { type: 'array', items: str },
  journey: {
    type: ['object', 'null'],
    properties: {
      id: str,
      cameras: { type: 'array', items: str },
      steps: { type: 'array', items: obj({ camera_id: str, at: str }) },
    },
  },
});

const enrolmentSchema = obj({
  member_id: int,
  source: { type: 'string', enum: ['photo', 'detection', 'entity'] },
  appearance_vectors: int,
  reid_model_id: str,
  person_box: { ...boxSchema, type: ['object', 'null'] },
  face: obj({
    status: { type: 'string', enum: ['enrolled', 'none found', 'not usable', 'faces off', 'not looked for'] },
    reason: str,
    person_id: int,
    vector_id: int,
    model_id: str,
    quality: num,
    box: boxSchema,
  }),
});

// ------------------------------------------------------------------------------------------------ JSON

const memberJson = (m: HouseholdMember) => ({
  id: m.id,
  name: m.name,
  role: m.role,
  trust_level: m.trustLevel,
  typical_schedule: m.typicalSchedule,
  notes: m.notes,
  appearance_vectors: m.appearanceVectors,
  face_vectors: m.faceVectors,
  known_person_id: m.knownPersonId,
  created_at: m.createdAt.toISOString(),
  updated_at: m.updatedAt.toISOString(),
});

const vehicleJson = (v: Vehicle) => ({
  id: v.id,
  member_id: v.memberId,
  member_name: v.memberName,
  description: v.description,
  vehicle_type: v.vehicleType,
  color: v.color,
  license_plate: v.licensePlate,
  trusted: v.trusted,
  created_at: v.createdAt.toISOString(),
  updated_at: v.updatedAt.toISOString(),
});

const permissionJson = (p: ZonePermission) => ({
  zone_id: p.zoneId,
  member_id: p.memberId,
  member_name: p.memberName,
  schedule: p.schedule,
  created_at: p.createdAt.toISOString(),
});

const personJson = (p: KnownPerson) => ({
  id: p.id,
  name: p.name,
  member_id: p.memberId,
  member_name: p.memberName,
  auto_cluster: p.autoCluster,
  notes: p.notes,
  face_vectors: p.faceVectors,
  sightings: p.sightings,
  last_seen_at: p.lastSeenAt?.toISOString() ?? null,
  created_at: p.createdAt.toISOString(),
  updated_at: p.updatedAt.toISOString(),
});

const entityJson = (e: Entity) => ({
  id: e.id,
  entity_type: e.entityType,
  model_id: e.modelId,
  first_seen_at: e.firstSeenAt.toISOString(),
  last_seen_at: e.lastSeenAt.toISOString(),
  appearance_count: e.appearanceCount,
  cameras: e.cameras,
  member_id: e.memberId,
  member_name: e.memberName,
  metadata: e.metadata,
});

const journeyJson = (j: Journey) => ({
  id: j.id,
  entity_id: j.entityId,
  member_id: j.memberId,
  member_name: j.memberName,
  started_at: j.startedAt.toISOString(),
  last_seen_at: j.lastSeenAt.toISOString(),
  cameras: j.cameras,
  steps: j.steps.map((s) => ({ camera_id: s.cameraId, at: s.at })),
});

/** An enrolment's outcome as the API answers it. */
export function enrolmentJson(r: EnrolmentResult) {
  const face = r.face;
  return {
    member_id: r.memberId,
    source: r.source,
    appearance_vectors: r.appearanceVectors,
    reid_model_id: r.reidModelId,
    person_box: r.personBox,
    face:
      face.status === 'enrolled'
        ? {
            status: face.status,
            person_id: face.personId,
            vector_id: face.vectorId,
            model_id: face.modelId,
            quality: face.quality,
            box: face.box,
          }
        : face.status === 'not usable'
          ? { status: face.status, reason: face.reason }
          : { status: face.status },
  };
}

// ------------------------------------------------------------------------------------------------ helpers

interface MemberBody {
  name: string;
  role?: MemberRole;
  trust_level?: TrustLevel;
  typical_schedule?: Schedule[] | null;
  notes?: string | null;
}

interface VehicleBody {
  member_id?: number | null;
  description: string;
  vehicle_type?: VehicleType;
  color?: string | null;
  license_plate?: string | null;
  trusted?: boolean;
}

type IdRequest = FastifyRequest<{ Params: { id: number } }>;

const memberInput = (body: Partial<MemberBody>): Partial<MemberInput> => ({
  ...(body.name === undefined ? {} : { name: body.name }),
  ...(body.role === undefined ? {} : { role: body.role }),
  ...(body.trust_level === undefined ? {} : { trustLevel: body.trust_level }),
  ...(body.typical_schedule === undefined ? {} : { typicalSchedule: body.typical_schedule }),
  ...(body.notes === undefined ? {} : { notes: body.notes }),
});

const vehicleInput = (body: Partial<VehicleBody>): Partial<VehicleInput> => ({
  ...(body.member_id === undefined ? {} : { memberId: body.member_id }),
  ...(body.description === undefined ? {} : { description: body.description }),
  ...(body.vehicle_type === undefined ? {} : { vehicleType: body.vehicle_type }),
  ...(body.color === undefined ? {} : { color: body.color }),
  ...(body.license_plate === undefined ? {} : { licensePlate: body.license_plate }),
  ...(body.trusted === undefined ? {} : { trusted: body.trusted }),
});

/** Model files that cannot be opened: the service's configuration, not the request, is at fault. */
const MODEL_ERRORS = new Set(['MODEL_MISSING', 'MODEL_INVALID', 'DEVICE_UNAVAILABLE']);

/**
 * Domain validation (AppError INVALID_INPUT starting with the field) as a 400 naming that field, a refused
 * enrolment as a 400 naming its input, and a model that cannot be opened as a 503 saying which.
 */
async function validated<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof EnrolmentRefused) throw badRequest(error.field, error.message);
    if (error instanceof AppError && error.code === 'INVALID_INPUT') {
      throw badRequest(leadingField(error.message) ?? 'body', error.message);
    }
    if (error instanceof AppError && MODEL_ERRORS.has(error.code)) {
      throw new ApiError(503, error.code, `enrolment is unavailable: ${error.message}`);
    }
    throw error;
  }
}

async function memberOr404(db: DbOrTx, id: number): Promise<HouseholdMember> {
  const member = await getMember(db, id);
  if (member === undefined) throw notFound(`no household member with id ${id}`);
  return member;
}

async function personOr404(db: DbOrTx, id: number): Promise<KnownPerson> {
  const person = await getKnownPerson(db, id);
  if (person === undefined) throw notFound(`no person with id ${id} in the face library`);
  return person;
}

async function assertNameFree(db: DbOrTx, name: string, self?: number): Promise<void> {
  const other = await findMemberByName(db, name);
  if (other !== undefined && other.id !== self) {
    throw conflict(`a household member is named "${other.name}" already (id ${other.id})`);
  }
}

async function assertPlateFree(db: DbOrTx, plate: string | null | undefined, self?: number): Promise<void> {
  if (plate === undefined || plate === null) return;
  const other = await findVehicleByPlate(db, plate);
  if (other !== undefined && other.id !== self) {
    throw conflict(`licence plate ${other.licensePlate} is registered already (vehicle ${other.id})`);
  }
}

async function assertMemberExists(db: DbOrTx, memberId: number | null | undefined, field: string): Promise<void> {
  if (memberId === undefined || memberId === null) return;
  if ((await getMember(db, memberId)) === undefined) {
    throw badRequest(field, `${field} ${memberId} is not a household member (GET /api/household/members lists them)`);
  }
}

const listQuery = {
  limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
  offset: { type: 'integer', minimum: 0, maximum: 1_000_000, default: 0 },
} as const;

// ------------------------------------------------------------------------------------------------ routes

/** The identity routes, for the feature's `routes` hook. Enrolment opens its models on first use. */
export function identityRoutes(config: Config): ApiRoutes {
  return (app, ctx) => {
    let own: ModelRuntime | undefined;
    const runtime = () => {
      if (ctx.deps.models !== undefined) return ctx.deps.models;
      own ??= new OnnxModelRuntime({ config, log: ctx.deps.log });
      return own;
    };
    app.addHook('onClose', async () => own?.close());
    const models = lazyEnrolmentModels(runtime, config);
    memberRoutes(app, ctx);
    enrolmentRoutes(app, ctx, config, models);
    vehicleRoutes(app, ctx);
    permissionRoutes(app, ctx);
    faceRoutes(app, ctx);
    entityRoutes(app, ctx, config);
  };
}

function memberRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { db } = ctx.deps;
  const tags = ['household'];
  const audit = (request: FastifyRequest, action: string, m: HouseholdMember, tx: DbOrTx, details = {}) =>
    ctx.audit(
      request,
      {
        action: `household_member.${action}`,
        resourceType: 'household_member',
        resourceId: String(m.id),
        details: { name: m.name, ...details },
      },
      tx,
    );

  app.get(
    '/api/household/members',
    {
      schema: {
        tags,
        summary: 'Household members, by name, with the size of their galleries',
        response: { 200: listOf('members', memberSchema), ...errors() },
      },
    },
    async () => ({ members: (await listMembers(db)).map(memberJson) }),
  );
  app.post<{ Body: MemberBody }>(
    '/api/household/members',
    {
      schema: {
        tags,
        summary: 'Add a household member (then enrol them: POST /api/household/members/:id/enrol)',
        body: { type: 'object', required: ['name'], additionalProperties: false, properties: memberFields },
        response: { 201: memberSchema, ...errors(400, 409) },
      },
    },
    async (request, reply) => {
      const member = await validated(() =>
        db.transaction().execute(async (tx) => {
          await assertNameFree(tx, request.body.name);
          const created = await createMember(tx, memberInput(request.body) as MemberInput);
          await audit(request, 'create', created, tx);
          return created;
        }),
      );
      ctx.deps.bus.emit('household.changed', { memberId: member.id, action: 'created' });
      return reply.status(201).send(memberJson(member));
    },
  );
  app.get<{ Params: { id: number } }>(
    '/api/household/members/:id',
    {
      schema: {
        tags,
        summary: 'One member, with their gallery per model and source',
        params: idParams,
        response: { 200: memberDetailSchema, ...errors(404) },
      },
    },
    async (request) => {
      const member = await memberOr404(db, request.params.id);
      const gallery = await countPersonEmbeddings(db, member.id);
      return {
        ...memberJson(member),
        gallery: gallery.map((g) => ({ model_id: g.modelId, source: g.source, count: g.count })),
      };
    },
  );
  app.patch<{ Params: { id: number }; Body: Partial<MemberBody> }>(
    '/api/household/members/:id',
    {
      schema: {
        tags,
        summary: 'Change the fields given (null clears typical_schedule and notes)',
        params: idParams,
        body: { type: 'object', additionalProperties: false, minProperties: 1, properties: memberFields },
        response: { 200: memberSchema, ...errors(400, 404, 409) },
      },
    },
    async (request) => {
      const member = await validated(() =>
        db.transaction().execute(async (tx) => {
          await memberOr404(tx, request.params.id);
          if (request.body.name !== undefined) await assertNameFree(tx, request.body.name, request.params.id);
          const updated = (await updateMember(tx, request.params.id, memberInput(request.body))) as HouseholdMember;
          await audit(request, 'update', updated, tx, { fields: Object.keys(request.body) });
          return updated;
        }),
      );
      ctx.deps.bus.emit('household.changed', { memberId: member.id, action: 'updated' });
      return memberJson(member);
    },
  );
  app.delete<{ Params: { id: number } }>(
    '/api/household/members/:id',
    {
      schema: {
        tags,
        summary: 'Remove a member and every vector of theirs (gallery, face identity, matched sightings, entities)',
        params: idParams,
        response: {
          200: obj({
            id: int,
            name: str,
            removed: obj({
              appearance_vectors: int,
              face_vectors: int,
              face_sighting_vectors: int,
              sighting_vectors: int,
              entities: int,
            }),
          }),
          ...errors(404),
        },
      },
    },
    async (request) => {
      const answer = await db.transaction().execute(async (tx) => {
        const removal = await deleteMember(tx, request.params.id);
        if (removal === undefined) throw notFound(`no household member with id ${request.params.id}`);
        const removed = {
          appearance_vectors: removal.appearanceVectors,
          face_vectors: removal.faceVectors,
          face_sighting_vectors: removal.faceSightingVectors,
          sighting_vectors: removal.sightingVectors,
          entities: removal.entities,
        };
        await audit(request, 'delete', removal.member, tx, { removed });
        return { id: removal.member.id, name: removal.member.name, removed };
      });
      ctx.deps.bus.emit('household.changed', { memberId: answer.id, action: 'deleted' });
      return answer;
    },
  );
}

function enrolmentRoutes(
  app: FastifyInstance,
  ctx: ApiContext,
  config: Config,
  models: ReturnType<typeof lazyEnrolmentModels>,
): void {
  const { db } = ctx.deps;
  const tags = ['household'];
  const requireFace = {
    type: 'boolean',
    default: false,
    description: 'Refuse unless a usable face is enrolled too (face recognition must be on)',
  } as const;

  /** Runs `prepare` (the models), then stores and audits it in one transaction. */
  const enrol = async (request: IdRequest, prepare: () => Promise<PreparedEnrolment>, details = {}) => {
    const member = await memberOr404(db, request.params.id);
    const prepared = await validated(prepare);
    return db.transaction().execute(async (tx) => {
      await memberOr404(tx, member.id); // still there after the models ran
      const result = await prepared.store(tx, member);
      await ctx.audit(
        request,
        {
          action: 'household_member.enrol',
          resourceType: 'household_member',
          resourceId: String(member.id),
          details: { name: member.name, source: result.source, face: result.face.status, ...details },
        },
        tx,
      );
      return enrolmentJson(result);
    });
  };

  // A raw photo body only here: the content-type parser lives in this plugin's scope.
  app.register(async (scope) => {
    scope.addContentTypeParser(PHOTO_TYPES, { parseAs: 'buffer', bodyLimit: ENROL_PHOTO_MAX_BYTES }, (_r, body, done) =>
      done(null, body),
    );
    scope.post<{ Params: { id: number }; Querystring: { require_face: boolean } }>(
      '/api/household/members/:id/enrol',
      {
        bodyLimit: ENROL_PHOTO_MAX_BYTES,
        schema: {
          tags,
          summary:
            'Enrol a member from a photo of them (the body: image/jpeg, image/png or image/webp, at most 20 MiB). ' +
            'The photo must show exactly one person; their appearance joins the re-identification gallery and, ' +
            'with faces on, their one usable face their face identity. No face found: the appearance alone is enrolled.',
          consumes: PHOTO_TYPES,
          params: idParams,
          querystring: { type: 'object', additionalProperties: false, properties: { require_face: requireFace } },
          response: { 201: enrolmentSchema, ...errors(400, 404, 413, 415, 503) },
        },
      },
      async (request, reply) => {
        const image = request.body;
        if (!Buffer.isBuffer(image)) {
          throw new ApiError(
            415,
            'UNSUPPORTED_MEDIA_TYPE',
            `send the photo as the body, with Content-Type ${PHOTO_TYPES.join(', ')}`,
          );
        }
        const result = await enrol(request, async () =>
          prepareFromPhoto(await models(), config, image, { requireFace: request.query.require_face }),
        );
        return reply.status(201).send(result);
      },
    );
  });

  app.post<{ Params: { id: number }; Body: { detection_id: number; require_face?: boolean } }>(
    '/api/household/members/:id/enrol-from-detection',
    {
      schema: {
        tags,
        summary:
          'Enrol a member from a past person detection of them (its photo, or its frame of a clip): the box is the ' +
          'detection’s; faces as for a photo',
        params: idParams,
        body: {
          type: 'object',
          required: ['detection_id'],
          additionalProperties: false,
          properties: {
            detection_id: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
            require_face: requireFace,
          },
        },
        response: { 201: enrolmentSchema, ...errors(400, 404, 503) },
      },
    },
    async (request, reply) => {
      const { detection_id: detectionId, require_face } = request.body;
      const detection = await detectionSource(db, detectionId);
      if (detection === undefined) throw badRequest('detection_id', `detection_id ${detectionId} is not a detection`);
      const result = await enrol(
        request,
        async () => {
          // The picture as the detector saw it, only while the file still holds what was processed (its sha256),
          // never through a link: the same reader as GET /api/detections/:id/image.
          const source = await detectionImageSource(db, detectionId);
          if (source === undefined) throw badRequest('detection_id', `detection_id ${detectionId} is not a detection`);
          const image = await sourcePicture(ctx, source);
          return prepareFromDetection(await models(), config, detection, image, { requireFace: require_face === true });
        },
        { detection_id: detectionId },
      );
      return reply.status(201).send(result);
    },
  );

  app.post<{ Params: { id: string }; Body: { member_id: number } }>(
    '/api/entities/:id/name',
    {
      schema: {
        tags: ['household', 'entities'],
        summary:
          '"This visitor is Jane": the entity joins the member (its appearance vectors are copied into their gallery, ' +
          'its sightings linked to them)',
        params: uuidParams,
        body: {
          type: 'object',
          required: ['member_id'],
          additionalProperties: false,
          properties: { member_id: memberIdField },
        },
        response: { 201: enrolmentSchema, ...errors(400, 404, 409) },
      },
    },
    async (request, reply) => {
      const result = await db.transaction().execute(async (tx) => {
        await lockIdentity(tx); // checked and named under the lock: no worker relabels it in between
        const entity = await getEntity(tx, request.params.id);
        if (entity === undefined) throw notFound(`no entity with id ${request.params.id}`);
        const member = await getMember(tx, request.body.member_id);
        if (member === undefined) {
          throw badRequest('member_id', `member_id ${request.body.member_id} is not a household member`);
        }
        if (entity.memberId !== null) {
          throw conflict(
            entity.memberId === member.id
              ? `entity ${entity.id} is ${member.name} already`
              : `entity ${entity.id} is linked to ${entity.memberName ?? `member ${entity.memberId}`} already`,
          );
        }
        const enrolled = await enrolFromEntity(tx, member, entity.id);
        await ctx.audit(
          request,
          {
            action: 'entity.name',
            resourceType: 'entity',
            resourceId: entity.id,
            details: { member_id: member.id, name: member.name, vectors: enrolled.appearanceVectors },
          },
          tx,
        );
        return enrolled;
      });
      return reply.status(201).send(enrolmentJson(result));
    },
  );
}

function vehicleRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { db } = ctx.deps;
  const tags = ['household'];
  const audit = (request: FastifyRequest, action: string, v: Vehicle, tx: DbOrTx) =>
    ctx.audit(
      request,
      {
        action: `vehicle.${action}`,
        resourceType: 'vehicle',
        resourceId: String(v.id),
        details: { description: v.description, license_plate: v.licensePlate },
      },
      tx,
    );
  app.get<{ Querystring: { member_id?: number } }>(
    '/api/household/vehicles',
    {
      schema: {
        tags,
        summary: 'Registered vehicles (of one member with member_id)',
        querystring: { type: 'object', additionalProperties: false, properties: { member_id: memberIdField } },
        response: { 200: listOf('vehicles', vehicleSchema), ...errors(400) },
      },
    },
    async (request) => ({ vehicles: (await listVehicles(db, request.query.member_id)).map(vehicleJson) }),
  );
  app.post<{ Body: VehicleBody }>(
    '/api/household/vehicles',
    {
      schema: {
        tags,
        summary: 'Register a vehicle',
        body: { type: 'object', required: ['description'], additionalProperties: false, properties: vehicleFields },
        response: { 201: vehicleSchema, ...errors(400, 409) },
      },
    },
    async (request, reply) => {
      const vehicle = await validated(() =>
        db.transaction().execute(async (tx) => {
          await assertMemberExists(tx, request.body.member_id, 'member_id');
          await assertPlateFree(tx, request.body.license_plate);
          const created = await createVehicle(tx, vehicleInput(request.body) as VehicleInput);
          await audit(request, 'create', created, tx);
          return created;
        }),
      );
      return reply.status(201).send(vehicleJson(vehicle));
    },
  );
  app.get<{ Params: { id: number } }>(
    '/api/household/vehicles/:id',
    { schema: { tags, summary: 'One vehicle', params: idParams, response: { 200: vehicleSchema, ...errors(404) } } },
    async (request) => {
      const vehicle = await getVehicle(db, request.params.id);
      if (vehicle === undefined) throw notFound(`no vehicle with id ${request.params.id}`);
      return vehicleJson(vehicle);
    },
  );
  app.patch<{ Params: { id: number }; Body: Partial<VehicleBody> }>(
    '/api/household/vehicles/:id',
    {
      schema: {
        tags,
        summary: 'Change the fields given (null clears member, colour and plate)',
        params: idParams,
        body: { type: 'object', additionalProperties: false, minProperties: 1, properties: vehicleFields },
        response: { 200: vehicleSchema, ...errors(400, 404, 409) },
      },
    },
    async (request) => {
      const vehicle = await validated(() =>
        db.transaction().execute(async (tx) => {
          if ((await getVehicle(tx, request.params.id)) === undefined) {
            throw notFound(`no vehicle with id ${request.params.id}`);
          }
          await assertMemberExists(tx, request.body.member_id, 'member_id');
          await assertPlateFree(tx, request.body.license_plate, request.params.id);
          const updated = (await updateVehicle(tx, request.params.id, vehicleInput(request.body))) as Vehicle;
          await audit(request, 'update', updated, tx);
          return updated;
        }),
      );
      return vehicleJson(vehicle);
    },
  );
  app.delete<{ Params: { id: number } }>(
    '/api/household/vehicles/:id',
    {
      schema: {
        tags,
        summary: 'Remove a vehicle',
        params: idParams,
        response: { 204: { type: 'null' }, ...errors(404) },
      },
    },
    async (request, reply) => {
      await db.transaction().execute(async (tx) => {
        const removed = await deleteVehicle(tx, request.params.id);
        if (removed === undefined) throw notFound(`no vehicle with id ${request.params.id}`);
        await audit(request, 'delete', removed, tx);
      });
      return reply.status(204).send();
    },
  );
}

function permissionRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { db } = ctx.deps;
  const tags = ['household'];
  const pairParams = {
    type: 'object',
    required: ['zoneId', 'memberId'],
    additionalProperties: false,
    properties: { zoneId: { type: 'string', minLength: 1, maxLength: 200 }, memberId: memberIdField },
  } as const;
  type PairRequest = FastifyRequest<{ Params: { zoneId: string; memberId: number } }>;
  const checkPair = async (tx: DbOrTx, request: PairRequest) => {
    const { zoneId, memberId } = request.params;
    if ((await getZone(tx, zoneId)) === undefined) throw notFound(`no zone with id ${zoneId}`);
    await memberOr404(tx, memberId);
  };
  const audit = (request: PairRequest, action: string, tx: DbOrTx, details: Record<string, unknown> = {}) =>
    ctx.audit(
      request,
      {
        action: `zone_permission.${action}`,
        resourceType: 'zone',
        resourceId: request.params.zoneId,
        details: { member_id: request.params.memberId, ...details },
      },
      tx,
    );

  app.get<{ Querystring: { zone_id?: string; member_id?: number } }>(
    '/api/household/zone-permissions',
    {
      schema: {
        tags,
        summary:
          'Who may be in which zone, and when. A zone with permissions admits only those members (at their ' +
          'times); a zone without admits every member.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { zone_id: { type: 'string', minLength: 1, maxLength: 200 }, member_id: memberIdField },
        },
        response: { 200: listOf('permissions', permissionSchema), ...errors(400) },
      },
    },
    async (request) => ({
      permissions: (
        await listZonePermissions(db, {
          ...(request.query.zone_id === undefined ? {} : { zoneId: request.query.zone_id }),
          ...(request.query.member_id === undefined ? {} : { memberId: request.query.member_id }),
        })
      ).map(permissionJson),
    }),
  );
  app.put<{ Params: { zoneId: string; memberId: number }; Body: { schedule?: Schedule | null } }>(
    '/api/household/zones/:zoneId/members/:memberId',
    {
      schema: {
        tags,
        summary: 'Allow a member in a zone, at the times of `schedule` (null or absent: any time)',
        params: pairParams,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { schedule: { ...scheduleSchema, type: ['object', 'null'] } },
        },
        response: { 200: permissionSchema, ...errors(400, 404) },
      },
    },
    async (request) => {
      const permission = await validated(() =>
        db.transaction().execute(async (tx) => {
          await checkPair(tx, request);
          const set = await setZonePermission(
            tx,
            request.params.zoneId,
            request.params.memberId,
            request.body?.schedule ?? null,
          );
          await audit(request, 'set', tx, { schedule: set.schedule });
          return set;
        }),
      );
      return permissionJson(permission);
    },
  );
  app.delete<{ Params: { zoneId: string; memberId: number } }>(
    '/api/household/zones/:zoneId/members/:memberId',
    {
      schema: {
        tags,
        summary: "Remove a member's permission for a zone",
        params: pairParams,
        response: { 204: { type: 'null' }, ...errors(404) },
      },
    },
    async (request, reply) => {
      await db.transaction().execute(async (tx) => {
        const { zoneId, memberId } = request.params;
        if (!(await removeZonePermission(tx, zoneId, memberId))) {
          throw notFound(`member ${memberId} has no permission for zone ${zoneId}`);
        }
        await audit(request, 'remove', tx);
      });
      return reply.status(204).send();
    },
  );
}

function faceRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { db } = ctx.deps;
  const tags = ['faces'];
  const audit = (request: FastifyRequest, action: string, p: KnownPerson, tx: DbOrTx, details = {}) =>
    ctx.audit(
      request,
      {
        action: `person.${action}`,
        resourceType: 'person',
        resourceId: String(p.id),
        details: { name: p.name, ...details },
      },
      tx,
    );

  app.get<{ Querystring: { auto_cluster?: boolean } }>(
    '/api/faces/persons',
    {
      schema: {
        tags,
        summary:
          'People known by face, with their face counts (auto_cluster: only the unnamed groups, or only the named)',
        querystring: { type: 'object', additionalProperties: false, properties: { auto_cluster: bool } },
        response: { 200: listOf('persons', personSchema), ...errors(400) },
      },
    },
    async (request) => ({
      persons: (
        await listKnownPersons(
          db,
          request.query.auto_cluster === undefined ? {} : { autoCluster: request.query.auto_cluster },
        )
      ).map(personJson),
    }),
  );
  app.get(
    '/api/faces/clusters',
    {
      schema: {
        tags,
        summary: 'Unknown faces seen more than once ("Unknown person N"), to name: POST /api/faces/persons/:id/name',
        response: { 200: listOf('clusters', personSchema), ...errors() },
      },
    },
    async () => ({ clusters: (await listKnownPersons(db, { autoCluster: true })).map(personJson) }),
  );
  app.get<{ Params: { id: number }; Querystring: { limit: number } }>(
    '/api/faces/persons/:id',
    {
      schema: {
        tags,
        summary: 'One person: their face vectors (newest first) and the newest faces seen of them',
        params: idParams,
        querystring: { type: 'object', additionalProperties: false, properties: { limit: listQuery.limit } },
        response: { 200: personDetailSchema, ...errors(400, 404) },
      },
    },
    async (request) => {
      const person = await personOr404(db, request.params.id);
      const faces = await facesOfPerson(db, person.id, request.query.limit);
      return {
        ...personJson(person),
        vectors: faces.vectors.map((v) => ({
          id: v.id,
          model_id: v.modelId,
          quality: v.quality,
          face_event_id: v.faceEventId,
          created_at: v.createdAt.toISOString(),
        })),
        faces: faces.sightings.map((s) => ({
          id: s.id,
          detection_id: s.detectionId,
          camera_id: s.cameraId,
          detected_at: s.detectedAt.toISOString(),
          bbox: s.bbox,
          confidence: s.confidence,
          quality: s.quality,
          rejected: s.rejected,
          similarity: s.similarity,
          is_unknown: s.isUnknown,
        })),
      };
    },
  );
  app.post<{ Params: { id: number }; Body: { name: string; member_id?: number | null } }>(
    '/api/faces/persons/:id/name',
    {
      schema: {
        tags,
        summary:
          'Rename a person, or name a cluster ("this is Jane"): it stops being a cluster; member_id links it to a ' +
          'household member (null unlinks)',
        params: idParams,
        body: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 100 },
            member_id: { ...memberIdField, type: ['integer', 'null'] },
          },
        },
        response: { 200: personSchema, ...errors(400, 404, 409) },
      },
    },
    async (request) => {
      const person = await validated(() =>
        db.transaction().execute(async (tx) => {
          await lockIdentity(tx); // no enrichment worker matches against the library while it changes
          const before = await personOr404(tx, request.params.id);
          const memberId = request.body.member_id;
          if (memberId !== undefined && memberId !== null) {
            await assertMemberExists(tx, memberId, 'member_id');
            const theirs = await findPersonOfMember(tx, memberId);
            if (theirs !== undefined && theirs.id !== before.id) {
              throw conflict(
                `member ${memberId} has a face identity already (person ${theirs.id}, "${theirs.name}"): ` +
                  `merge this one into it (POST /api/faces/persons/${before.id}/merge {"into": ${theirs.id}})`,
              );
            }
          }
          const named = (await namePerson(tx, before.id, {
            name: request.body.name,
            ...(memberId === undefined ? {} : { memberId }),
          })) as KnownPerson;
          await audit(request, 'name', named, tx, {
            previous_name: before.name,
            was_cluster: before.autoCluster,
            member_id: named.memberId,
          });
          return named;
        }),
      );
      return personJson(person);
    },
  );
  app.post<{ Params: { id: number }; Body: { into: number } }>(
    '/api/faces/persons/:id/merge',
    {
      schema: {
        tags,
        summary: 'Merge this person into another (`into`): its face vectors and faces move there, and it is removed',
        params: idParams,
        body: {
          type: 'object',
          required: ['into'],
          additionalProperties: false,
          properties: { into: { type: 'integer', minimum: 1, maximum: 2_147_483_647 } },
        },
        response: {
          200: obj({ into: personSchema, moved_vectors: int, moved_faces: int }),
          ...errors(400, 404),
        },
      },
    },
    async (request) =>
      validated(() =>
        db.transaction().execute(async (tx) => {
          await lockIdentity(tx);
          const from = await personOr404(tx, request.params.id);
          if ((await getKnownPerson(tx, request.body.into)) === undefined) {
            throw badRequest('into', `into ${request.body.into} is not a person in the face library`);
          }
          const merged = await mergePersons(tx, from.id, request.body.into);
          if (merged === undefined) throw notFound(`no person with id ${request.params.id} in the face library`);
          await audit(request, 'merge', from, tx, {
            into: merged.into.id,
            into_name: merged.into.name,
            moved_vectors: merged.movedVectors,
            moved_faces: merged.movedSightings,
          });
          return {
            into: personJson(merged.into),
            moved_vectors: merged.movedVectors,
            moved_faces: merged.movedSightings,
          };
        }),
      ),
  );
  app.delete<{ Params: { id: number } }>(
    '/api/faces/persons/:id',
    {
      schema: {
        tags,
        summary: 'Remove a person and their face vectors (their faces seen stay, unmatched)',
        params: idParams,
        response: { 204: { type: 'null' }, ...errors(404) },
      },
    },
    async (request, reply) => {
      await db.transaction().execute(async (tx) => {
        await lockIdentity(tx);
        const removed = await deletePerson(tx, request.params.id);
        if (removed === undefined) throw notFound(`no person with id ${request.params.id} in the face library`);
        await audit(request, 'delete', removed, tx, { face_vectors: removed.faceVectors });
      });
      return reply.status(204).send();
    },
  );
}

function entityRoutes(app: FastifyInstance, ctx: ApiContext, config: Config): void {
  const { db } = ctx.deps;
  const tags = ['entities'];
  app.get<{ Querystring: { limit: number; offset: number; member_id?: number; known?: boolean; camera?: string } }>(
    '/api/entities',
    {
      schema: {
        tags,
        summary: 'People re-identified across pictures and cameras, last seen first (paged)',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...listQuery,
            member_id: memberIdField,
            known: { type: 'boolean', description: 'true: only household members; false: only strangers' },
            camera: { type: 'string', minLength: 1, maxLength: 200 },
          },
        },
        response: {
          200: obj({ entities: { type: 'array', items: entitySchema }, total: int, limit: int, offset: int }),
          ...errors(400),
        },
      },
    },
    async (request) => {
      const q = request.query;
      const { entities, total } = await listEntities(db, {
        limit: q.limit,
        offset: q.offset,
        ...(q.member_id === undefined ? {} : { memberId: q.member_id }),
        ...(q.known === undefined ? {} : { known: q.known }),
        ...(q.camera === undefined ? {} : { cameraId: q.camera }),
      });
      return { entities: entities.map(entityJson), total, limit: q.limit, offset: q.offset };
    },
  );
  app.get<{ Params: { id: string } }>(
    '/api/entities/:id',
    {
      schema: {
        tags,
        summary: 'One entity and its newest journeys',
        params: uuidParams,
        response: {
          200: obj({ ...entitySchema.properties, journeys: { type: 'array', items: journeySchema } }),
          ...errors(400, 404),
        },
      },
    },
    async (request) => {
      const entity = await getEntity(db, request.params.id);
      if (entity === undefined) throw notFound(`no entity with id ${request.params.id}`);
      const journeys = await listJourneys(db, { entityId: entity.id, limit: 50 });
      return { ...entityJson(entity), journeys: journeys.map(journeyJson) };
    },
  );
  app.get<{
    Querystring: { limit: number; offset: number; entity_id?: string; multi_camera?: boolean; since?: string };
  }>(
    '/api/journeys',
    {
      schema: {
        tags,
        summary: "Journeys (an entity's path over cameras), newest first; multi_camera: only those over 2+ cameras",
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...listQuery,
            entity_id: { type: 'string', format: 'uuid' },
            multi_camera: { type: 'boolean', default: false },
            since: { type: 'string', format: 'date-time' },
          },
        },
        response: { 200: listOf('journeys', journeySchema), ...errors(400) },
      },
    },
    async (request) => {
      const q = request.query;
      const journeys = await listJourneys(db, {
        limit: q.limit,
        offset: q.offset,
        ...(q.entity_id === undefined ? {} : { entityId: q.entity_id }),
        ...(q.multi_camera === true ? { multiCamera: true } : {}),
        ...(q.since === undefined ? {} : { since: new Date(q.since) }),
      });
      return { journeys: journeys.map(journeyJson) };
    },
  );
  app.get<{ Params: { id: number } }>(
    '/api/events/:id/people',
    {
      schema: {
        tags,
        summary:
          "Who the security event's people were: household members recognised (by face or appearance, how sure), " +
          'how many were unknown, and the path over cameras of anyone who crossed several',
        params: idParams,
        response: { 200: eventPeopleSchema, ...errors(404) },
      },
    },
    async (request) => {
      const ids = await eventDetectionIdsOr404(db, request.params.id);
      const people = visitPeople(await sightingsOfDetections(db, ids), peopleThresholds(config));
      return {
        event_id: request.params.id,
        persons: people.persons,
        unknown: people.unknown,
        members: people.members.map((m) => ({
          id: m.id,
          name: m.name,
          trust: m.trust,
          via: m.via,
          similarity: Math.round(m.similarity * 1000) / 1000,
        })),
        entities: people.entities,
        journey: people.journey,
      };
    },
  );
}

/** The detection ids of a (not deleted) security event; 404 when there is none. */
async function eventDetectionIdsOr404(db: DbOrTx, eventId: number): Promise<number[]> {
  const event = await getEvent(db, eventId);
  if (event === undefined) throw notFound(`no security event with id ${eventId}`);
  return eventDetectionIds(db, eventId);
}
