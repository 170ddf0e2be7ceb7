import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertService } from '../../../src/alerts/alert.service.js';
import { ArmingService } from '../../../src/alerts/arming.service.js';
import { readinessChecks } from '../../../src/api/deps.js';
import { createApi } from '../../../src/api/server.js';
import { loadConfig } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/schema.js';
import type { BusEvents } from '../../../src/domain/events.js';
import {
  addFaceEmbedding,
  addPersonEmbedding,
  countPersonEmbeddings,
  createKnownPerson,
  createMember,
  createVehicle,
  deleteMember,
  deletePerson,
  entityVectors,
  facesOfPerson,
  findMemberByName,
  findPersonOfMember,
  getKnownPerson,
  getMember,
  listEntities,
  listJourneys,
  listKnownPersons,
  listMembers,
  listVehicles,
  listZonePermissions,
  mergePersons,
  namePerson,
  personForMember,
  removeZonePermission,
  setEntityMember,
  setZonePermission,
  updateMember,
} from '../../../src/features/identity/household.repository.js';
import { identityRoutes } from '../../../src/features/identity/routes.js';
import { vectorToBytes } from '../../../src/features/identity/vectors.js';
import { detectionEnqueuer } from '../../../src/ingest/ingest.service.js';
import { systemClock } from '../../../src/lib/clock.js';
import { EventBus } from '../../../src/lib/event-bus.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { OnnxModelRuntime } from '../../../src/models/model-runtime.js';
import type { AnalysisJob, DetectionJob } from '../../../src/queue/contracts.js';
import { MemoryQueueFactory } from '../../../src/queue/memory.js';
import type { Db } from '../../../src/storage/database.js';
import { upsertZoneByName } from '../../../src/storage/zone.repository.js';
import { assetsDir, fixtureImage, missingAsset, modelPath } from '../../support/env.js';
import { seedDetections } from '../../support/seed.js';
import { createTestStore, ENGINES, engineUnavailable, type TestStore } from '../../support/stores.js';
import { call, type ErrorJson } from '../api/harness.js';

/** A unit vector of `dims` with 1 at `hot`. */
function unit(dims: number, hot: number): Float32Array {
  const v = new Float32Array(dims);
  v[hot] = 1;
  return v;
}

const count = async (db: Db, table: 'person_embeddings' | 'face_embeddings' | 'known_persons' | 'entities') =>
  Number(
    (
      await db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

/** A face sighting on a fresh detection, matched to `personId`, with a vector. */
async function seedFaceEvent(db: Db, personId: number | null, at = new Date()): Promise<number> {
  const [detectionId] = await seedDetections(db, 'front_door', [{ objectType: 'person', confidence: 0.9 }], at);
  const row = await db
    .insertInto('face_detection_events')
    .values({
      detection_id: detectionId as number,
      camera_id: 'front_door',
      detected_at: at,
      bbox_x: 10,
      bbox_y: 10,
      bbox_width: 40,
      bbox_height: 40,
      confidence: 0.9,
      quality: 0.8,
      rejected: null,
      model_id: 'face@abc',
      embedding: vectorToBytes(unit(4, 0)),
      person_id: personId,
      similarity: 0.7,
      is_unknown: personId === null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

/** An entity seen on `cameras`, with one sighting vector per camera and a journey over them. */
async function seedEntity(db: Db, cameras: string[], lastSeen: Date, memberId: number | null = null) {
  const entity = await db
    .insertInto('entities')
    .values({
      model_id: 'reid@abc',
      embedding: vectorToBytes(unit(8, 1)),
      first_seen_at: new Date(lastSeen.getTime() - 60_000),
      last_seen_at: lastSeen,
      appearance_count: cameras.length,
      cameras,
      member_id: memberId,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const journey = await db
    .insertInto('journeys')
    .values({
      entity_id: entity.id,
      started_at: new Date(lastSeen.getTime() - 60_000),
      last_seen_at: lastSeen,
      cameras,
      steps: JSON.stringify(
        cameras.map((c, i) => ({ camera_id: c, at: new Date(lastSeen.getTime() + i).toISOString() })),
      ),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  for (const camera of cameras) {
    const [detectionId] = await seedDetections(db, camera, [{ objectType: 'person', confidence: 0.9 }], lastSeen);
    await db
      .insertInto('reid_embeddings')
      .values({
        detection_id: detectionId as number,
        camera_id: camera,
        detected_at: lastSeen,
        model_id: 'reid@abc',
        embedding: vectorToBytes(unit(8, 2)),
        entity_id: entity.id,
        entity_similarity: 0.9,
        member_id: memberId,
        member_similarity: memberId === null ? null : 0.8,
        journey_id: journey.id,
      })
      .execute();
  }
  return { entityId: entity.id, journeyId: journey.id };
}

for (const engine of ENGINES) {
  const skip = await engineUnavailable(engine);
  if (skip) console.warn(`skipping ${engine} household repository tests: ${skip}`);

  describe.skipIf(skip !== undefined)(`household repository on ${engine}`, () => {
    let t: TestStore;
    let db: Db;

    beforeAll(async () => {
      t = await createTestStore(engine);
      db = t.store.db;
    });
    afterAll(async () => t?.dispose());

    it('adds, finds (any case), updates and lists members; refuses bad schedules naming the field', async () => {
      const jane = await createMember(db, {
        name: ' Jane ',
        role: 'family',
        typicalSchedule: [{ days: ['mon', 'fri'], start: '07:00', end: '19:00' }],
      });
      expect(jane).toMatchObject({ name: 'Jane', role: 'family', trustLevel: 'full', appearanceVectors: 0 });
      expect((await findMemberByName(db, 'JANE'))?.id).toBe(jane.id);
      await expect(
        createMember(db, { name: 'Bob', typicalSchedule: [{ start: '25:00', end: '06:00' }] }),
      ).rejects.toThrow(/^typical_schedule\[0\]\.start must be a 24-hour time/);
      await expect(createMember(db, { name: '  ' })).rejects.toThrow(/^name must be a non-empty text/);
      const updated = await updateMember(db, jane.id, { trustLevel: 'partial', typicalSchedule: null });
      expect(updated).toMatchObject({ trustLevel: 'partial', typicalSchedule: null, role: 'family' });
      expect(await updateMember(db, 999_999, { notes: 'x' })).toBeUndefined();
      expect((await listMembers(db)).map((m) => m.name)).toContain('Jane');
    });

    it('keeps vehicles and zone permissions, with schedules validated', async () => {
      const sam = await createMember(db, { name: 'Sam' });
      const car = await createVehicle(db, { memberId: sam.id, description: 'Blue Golf', licensePlate: 'AB 123' });
      expect(car).toMatchObject({ memberName: 'Sam', vehicleType: 'car', trusted: true, licensePlate: 'AB 123' });
      expect((await listVehicles(db, sam.id)).map((v) => v.id)).toStrictEqual([car.id]);
      await seedDetections(db, 'front_door', []);
      await upsertZoneByName(db, {
        cameraId: 'front_door',
        name: 'Porch',
        shape: { kind: 'rectangle', x: 0, y: 0, width: 1, height: 1 },
        source: 'api',
      });
      const allowed = await setZonePermission(db, 'front_door__porch', sam.id, { start: '08:00', end: '18:00' });
      expect(allowed).toMatchObject({ memberName: 'Sam', schedule: { start: '08:00', end: '18:00' } });
      const anyTime = await setZonePermission(db, 'front_door__porch', sam.id, null);
      expect(anyTime.schedule).toBeNull();
      await expect(setZonePermission(db, 'front_door__porch', sam.id, { start: '8', end: '18:00' })).rejects.toThrow(
        /^schedule\.start/,
      );
      expect(await listZonePermissions(db, { zoneId: 'front_door__porch' })).toHaveLength(1);
      expect(await removeZonePermission(db, 'front_door__porch', sam.id)).toBe(true);
      expect(await removeZonePermission(db, 'front_door__porch', sam.id)).toBe(false);
    });

    it('removing a member removes every vector of theirs (gallery, face identity, sightings, entities)', async () => {
      const ann = await createMember(db, { name: 'Ann' });
      await addPersonEmbedding(db, { memberId: ann.id, modelId: 'reid@abc', vector: unit(8, 0), source: 'photo' });
      await addPersonEmbedding(db, { memberId: ann.id, modelId: 'reid@def', vector: unit(8, 1), source: 'photo' });
      expect(await countPersonEmbeddings(db, ann.id)).toStrictEqual([
        { modelId: 'reid@abc', source: 'photo', count: 1 },
        { modelId: 'reid@def', source: 'photo', count: 1 },
      ]);
      const face = await personForMember(db, ann);
      expect(face).toMatchObject({ name: 'Ann', memberId: ann.id, autoCluster: false });
      expect((await personForMember(db, ann)).id).toBe(face.id);
      await addFaceEmbedding(db, { personId: face.id, modelId: 'face@abc', vector: unit(4, 0), quality: 0.9 });
      const eventId = await seedFaceEvent(db, face.id);
      const { entityId } = await seedEntity(db, ['front_door', 'garden'], new Date(), ann.id);
      expect(await getMember(db, ann.id)).toMatchObject({
        appearanceVectors: 2,
        faceVectors: 1,
        knownPersonId: face.id,
      });

      const before = {
        gallery: await count(db, 'person_embeddings'),
        faces: await count(db, 'face_embeddings'),
        persons: await count(db, 'known_persons'),
      };
      const removed = await db.transaction().execute((tx) => deleteMember(tx, ann.id));
      expect(removed).toMatchObject({
        appearanceVectors: 2,
        faceVectors: 1,
        faceSightingVectors: 1,
        sightingVectors: 2,
        entities: 1,
      });
      expect(await count(db, 'person_embeddings')).toBe(before.gallery - 2);
      expect(await count(db, 'face_embeddings')).toBe(before.faces - 1);
      expect(await count(db, 'known_persons')).toBe(before.persons - 1);
      expect(await getKnownPerson(db, face.id)).toBeUndefined();
      const event = await db
        .selectFrom('face_detection_events')
        .where('id', '=', eventId)
        .select(['embedding', 'person_id'])
        .executeTakeFirstOrThrow();
      expect(event).toStrictEqual({ embedding: null, person_id: null });
      const left = await db.selectFrom('reid_embeddings').where('member_id', '=', ann.id).selectAll().execute();
      expect(left).toHaveLength(0);
      expect((await listEntities(db, { limit: 10 })).entities.map((e) => e.id)).not.toContain(entityId);
      expect(await deleteMember(db, ann.id)).toBeUndefined();
    });

    it('names a cluster ("this is Jane"), merges one person into another, deletes a person with its vectors', async () => {
      const jane = (await findMemberByName(db, 'jane'))!;
      const cluster = await createKnownPerson(db, { name: 'Unknown person 1', autoCluster: true });
      const other = await createKnownPerson(db, { name: 'Unknown person 2', autoCluster: true });
      await addFaceEmbedding(db, { personId: cluster.id, modelId: 'face@abc', vector: unit(4, 1), quality: 0.7 });
      await addFaceEmbedding(db, { personId: other.id, modelId: 'face@abc', vector: unit(4, 2), quality: 0.6 });
      await seedFaceEvent(db, cluster.id);
      await seedFaceEvent(db, other.id);
      expect((await listKnownPersons(db, { autoCluster: true })).map((p) => p.id)).toEqual(
        expect.arrayContaining([cluster.id, other.id]),
      );

      const named = await namePerson(db, cluster.id, { name: 'Jane', memberId: jane.id });
      expect(named).toMatchObject({ name: 'Jane', autoCluster: false, memberId: jane.id, memberName: 'Jane' });
      expect((await listKnownPersons(db, { autoCluster: true })).map((p) => p.id)).not.toContain(cluster.id);
      const unknownLeft = await db
        .selectFrom('face_detection_events')
        .where('person_id', '=', cluster.id)
        .where('is_unknown', '=', true)
        .selectAll()
        .execute();
      expect(unknownLeft).toHaveLength(0);

      const merged = await mergePersons(db, other.id, cluster.id);
      expect(merged).toMatchObject({ movedVectors: 1, movedSightings: 1, into: { faceVectors: 2, sightings: 2 } });
      expect(await getKnownPerson(db, other.id)).toBeUndefined();
      const faces = await facesOfPerson(db, cluster.id);
      expect([faces.vectors.length, faces.sightings.length]).toStrictEqual([2, 2]);
      await expect(mergePersons(db, cluster.id, cluster.id)).rejects.toThrow(/^into must be another person/);
      expect(await mergePersons(db, 999_999, cluster.id)).toBeUndefined();

      const stray = await createKnownPerson(db, { name: 'Unknown person 3', autoCluster: true });
      await addFaceEmbedding(db, { personId: stray.id, modelId: 'face@abc', vector: unit(4, 3), quality: 0.6 });
      const faceVectors = await count(db, 'face_embeddings');
      expect((await deletePerson(db, stray.id))?.id).toBe(stray.id);
      expect(await count(db, 'face_embeddings')).toBe(faceVectors - 1);
    });

    it('lists entities newest first (paged, with the member name) and journeys (per entity, multi-camera)', async () => {
      const jane = (await findMemberByName(db, 'jane'))!;
      const t0 = Date.parse('2026-03-01T10:00:00Z');
      const old = await seedEntity(db, ['garden'], new Date(t0));
      const recent = await seedEntity(db, ['front_door', 'garage'], new Date(t0 + 3_600_000), jane.id);
      const page1 = await listEntities(db, { limit: 1 });
      expect(page1.total).toBeGreaterThanOrEqual(2);
      expect(page1.entities[0]).toMatchObject({
        id: recent.entityId,
        memberName: 'Jane',
        cameras: ['front_door', 'garage'],
      });
      const page2 = await listEntities(db, { limit: 1, offset: 1 });
      expect(page2.entities[0]?.id).not.toBe(recent.entityId);
      expect((await listEntities(db, { limit: 10, known: false })).entities.map((e) => e.id)).toContain(old.entityId);
      expect((await listEntities(db, { limit: 10, cameraId: 'garage' })).entities.map((e) => e.id)).toStrictEqual([
        recent.entityId,
      ]);
      const multi = await listJourneys(db, { limit: 10, multiCamera: true, since: new Date(t0) });
      expect(multi.map((j) => j.entityId)).toStrictEqual([recent.entityId]);
      expect(multi[0]?.steps.map((s) => s.cameraId)).toStrictEqual(['front_door', 'garage']);
      expect((await listJourneys(db, { limit: 10, entityId: old.entityId })).map((j) => j.id)).toStrictEqual([
        old.journeyId,
      ]);

      const vectors = await entityVectors(db, old.entityId, 5);
      expect([vectors.modelId, vectors.mean.length, vectors.sightings.length]).toStrictEqual(['reid@abc', 8, 1]);
      expect(await setEntityMember(db, old.entityId, jane.id)).toBe(true);
      const linked = await db
        .selectFrom('reid_embeddings')
        .where('entity_id', '=', old.entityId)
        .select('member_id')
        .execute();
      expect(linked.map((r) => r.member_id)).toStrictEqual([jane.id]);
    });
  });
}

// ------------------------------------------------------------------------------------------------ the HTTP API

const modelFiles = [
  modelPath('yolox_nano.onnx'),
  modelPath('person-reidentification-retail-0248.onnx'),
  modelPath('version-RFB-320.onnx'),
  modelPath('MobileFaceNet.onnx'),
  fixtureImage('person_astronaut.png'),
  fixtureImage('no_target_coffee.png'),
];
const assetsMissing = missingAsset(...modelFiles);
if (assetsMissing) console.warn(`skipping household enrolment tests: ${assetsMissing}`);

/** The full configuration of the tests: the shared models, on the CPU, media under `mediaRoot`. */
function testConfig(mediaRoot: string): Config {
  const config = loadConfig({
    cwd: mediaRoot,
    optionsFile: path.join(mediaRoot, 'no-options.json'),
    env: {
      HSI_ASSETS_DIR: assetsDir(),
      HSI_MEDIA_ROOT: mediaRoot,
      HSI_DATA_DIR: `${mediaRoot}-data`,
      HSI_DETECTOR_DEVICE: 'cpu',
    },
  }).config;
  return { ...config, http: { ...config.http, host: '127.0.0.1', port: 0, api_key: '' } };
}

/** Two copies of a photo side by side: two people. */
async function collage(file: string): Promise<Buffer> {
  const meta = await sharp(file).metadata();
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  const one = await sharp(file).removeAlpha().png().toBuffer();
  return sharp({ create: { width: width * 2, height, channels: 3, background: '#808080' } })
    .composite([
      { input: one, left: 0, top: 0 },
      { input: one, left: width, top: 0 },
    ])
    .png()
    .toBuffer();
}

/** The API with the identity routes over `db`; `models` absent: the routes open their own runtime. */
async function identityApi(
  db: Db,
  config: Config,
  models?: OnnxModelRuntime,
): Promise<{ app: FastifyInstance; closeQueues: () => Promise<void> }> {
  const log = silentLogger();
  const bus = new EventBus<BusEvents>(log);
  const queues = new MemoryQueueFactory({ clock: systemClock, log });
  const detection = queues.create<DetectionJob>('detection', { attempts: 1, backoffMs: 1 });
  const analysis = queues.create<AnalysisJob>('analysis', { attempts: 1, backoffMs: 1 });
  const views = { detection, analysis };
  const app = await createApi(config, {
    db,
    bus,
    alerts: new AlertService({ db, bus, log, clock: systemClock }),
    arming: new ArmingService({ db, bus, log, clock: systemClock }),
    queues: views,
    checks: readinessChecks(db, views, () => true),
    enqueueDetection: detectionEnqueuer(detection),
    extractFrames: async () => [],
    ...(models === undefined ? {} : { models }),
    routes: [identityRoutes(config)],
    log,
    clock: systemClock,
  });
  return { app, closeQueues: () => queues.close() };
}

let runtime: OnnxModelRuntime | undefined;
afterAll(async () => runtime?.close());

for (const engine of ENGINES) {
  const skip = await engineUnavailable(engine);
  if (skip) console.warn(`skipping ${engine} household API tests: ${skip}`);

  describe.skipIf(skip !== undefined)(`household, faces and entities API on ${engine}`, () => {
    let t: TestStore;
    let db: Db;
    let app: FastifyInstance;
    let mediaRoot: string;
    let config: Config;
    let closeQueues: () => Promise<void> = async () => undefined;
    const headers = { 'user-agent': 'household-test' };

    beforeAll(async () => {
      t = await createTestStore(engine);
      db = t.store.db;
      mediaRoot = mkdtempSync(path.join(os.tmpdir(), 'hsi-household-'));
      config = testConfig(mediaRoot);
      runtime ??= new OnnxModelRuntime({ config, log: silentLogger() });
      ({ app, closeQueues } = await identityApi(db, config, runtime));
      await seedDetections(db, 'front_door', []);
      await upsertZoneByName(db, {
        cameraId: 'front_door',
        name: 'Porch',
        shape: { kind: 'rectangle', x: 0, y: 0, width: 1, height: 1 },
        source: 'api',
      });
    });
    afterAll(async () => {
      await app?.close();
      await closeQueues();
      await t?.dispose();
      if (mediaRoot !== undefined) rmSync(mediaRoot, { recursive: true, force: true });
    });

    const audits = async (prefix: string) =>
      db
        .selectFrom('audit_logs')
        .where('action', 'like', `${prefix}%`)
        .select(['action', 'actor', 'resource_id', 'user_agent'])
        .orderBy('id')
        .execute();

    it('adds, lists, changes and shows members; 409 on a taken name, 400 naming bad fields; audited', async () => {
      const created = await call<Record<string, unknown>>(app, {
        method: 'POST',
        url: '/api/household/members',
        headers,
        payload: {
          name: 'Jane',
          role: 'resident',
          typical_schedule: [{ days: ['mon'], start: '07:00', end: '09:00' }],
        },
      });
      expect(created.res.statusCode).toBe(201);
      expect(created.json).toMatchObject({
        name: 'Jane',
        role: 'resident',
        trust_level: 'full',
        appearance_vectors: 0,
      });
      const id = created.json.id as number;

      const taken = await call<ErrorJson>(app, {
        method: 'POST',
        url: '/api/household/members',
        payload: { name: 'JANE' },
      });
      expect([taken.res.statusCode, taken.json.error.code]).toStrictEqual([409, 'CONFLICT']);
      const badTime = await call<ErrorJson>(app, {
        method: 'POST',
        url: '/api/household/members',
        payload: { name: 'Bob', typical_schedule: [{ start: '07:00', end: '25:61' }] },
      });
      expect([badTime.res.statusCode, badTime.json.error.field]).toStrictEqual([400, 'typical_schedule[0].end']);
      const badRole = await call<ErrorJson>(app, {
        method: 'POST',
        url: '/api/household/members',
        payload: { name: 'Bob', role: 'butler' },
      });
      expect([badRole.res.statusCode, badRole.json.error.field]).toStrictEqual([400, 'role']);
      const unknown = await call<ErrorJson>(app, {
        method: 'POST',
        url: '/api/household/members',
        payload: { name: 'Bob', age: 3 },
      });
      expect([unknown.res.statusCode, unknown.json.error.field]).toStrictEqual([400, 'age']);

      const patched = await call<Record<string, unknown>>(app, {
        method: 'PATCH',
        url: `/api/household/members/${id}`,
        headers,
        payload: { trust_level: 'partial', notes: 'works nights' },
      });
      expect(patched.json).toMatchObject({ trust_level: 'partial', notes: 'works nights', name: 'Jane' });
      const empty = await call<ErrorJson>(app, { method: 'PATCH', url: `/api/household/members/${id}`, payload: {} });
      expect(empty.res.statusCode).toBe(400);
      const missing = await call<ErrorJson>(app, { method: 'GET', url: '/api/household/members/999999' });
      expect([missing.res.statusCode, missing.json.error.code]).toStrictEqual([404, 'NOT_FOUND']);
      const shown = await call<Record<string, unknown>>(app, { method: 'GET', url: `/api/household/members/${id}` });
      expect(shown.json).toMatchObject({ id, gallery: [] });
      const listed = await call<{ members: { name: string }[] }>(app, { method: 'GET', url: '/api/household/members' });
      expect(listed.json.members.map((m) => m.name)).toStrictEqual(['Jane']);

      expect(await audits('household_member.')).toStrictEqual([
        { action: 'household_member.create', actor: 'api', resource_id: String(id), user_agent: 'household-test' },
        { action: 'household_member.update', actor: 'api', resource_id: String(id), user_agent: 'household-test' },
      ]);
    });

    it('registers vehicles and zone permissions with clear 400/404/409s, audited', async () => {
      const jane = (await findMemberByName(db, 'Jane'))!;
      const noMember = await call<ErrorJson>(app, {
        method: 'POST',
        url: '/api/household/vehicles',
        payload: { description: 'Red van', member_id: 999_999 },
      });
      expect([noMember.res.statusCode, noMember.json.error.field]).toStrictEqual([400, 'member_id']);
      const car = await call<Record<string, unknown>>(app, {
        method: 'POST',
        url: '/api/household/vehicles',
        payload: { description: 'Blue Golf', member_id: jane.id, license_plate: 'HSI 1', color: 'blue' },
      });
      expect(car.res.statusCode).toBe(201);
      expect(car.json).toMatchObject({ member_name: 'Jane', vehicle_type: 'car', trusted: true });
      const samePlate = await call<ErrorJson>(app, {
        method: 'POST',
        url: '/api/household/vehicles',
        payload: { description: 'Other', license_plate: 'hsi 1' },
      });
      expect(samePlate.res.statusCode).toBe(409);
      const vid = car.json.id as number;
      const patched = await call<Record<string, unknown>>(app, {
        method: 'PATCH',
        url: `/api/household/vehicles/${vid}`,
        payload: { trusted: false, vehicle_type: 'van' },
      });
      expect(patched.json).toMatchObject({ trusted: false, vehicle_type: 'van', license_plate: 'HSI 1' });
      expect((await call(app, { method: 'DELETE', url: `/api/household/vehicles/${vid}` })).res.statusCode).toBe(204);
      expect((await call(app, { method: 'DELETE', url: `/api/household/vehicles/${vid}` })).res.statusCode).toBe(404);

      const url = `/api/household/zones/front_door__porch/members/${jane.id}`;
      const noZone = await call<ErrorJson>(app, {
        method: 'PUT',
        url: `/api/household/zones/nope/members/${jane.id}`,
        payload: {},
      });
      expect(noZone.res.statusCode).toBe(404);
      const badSchedule = await call<ErrorJson>(app, {
        method: 'PUT',
        url,
        payload: { schedule: { start: '08:00', end: '18:00', timezone: 'Mars/Olympus' } },
      });
      expect([badSchedule.res.statusCode, badSchedule.json.error.field]).toStrictEqual([400, 'schedule.timezone']);
      const set = await call<Record<string, unknown>>(app, {
        method: 'PUT',
        url,
        payload: { schedule: { days: ['sat', 'sun'], start: '08:00', end: '18:00' } },
      });
      expect(set.json).toMatchObject({
        zone_id: 'front_door__porch',
        member_name: 'Jane',
        schedule: { start: '08:00' },
      });
      const list = await call<{ permissions: unknown[] }>(app, {
        method: 'GET',
        url: '/api/household/zone-permissions?zone_id=front_door__porch',
      });
      expect(list.json.permissions).toHaveLength(1);
      expect((await call(app, { method: 'DELETE', url })).res.statusCode).toBe(204);
      expect((await call(app, { method: 'DELETE', url })).res.statusCode).toBe(404);
      expect((await audits('vehicle.')).map((a) => a.action)).toStrictEqual([
        'vehicle.create',
        'vehicle.update',
        'vehicle.delete',
      ]);
      expect((await audits('zone_permission.')).map((a) => a.action)).toStrictEqual([
        'zone_permission.set',
        'zone_permission.remove',
      ]);
    });

    it('names a cluster after a member, refuses a second identity (409), merges and deletes people', async () => {
      const jane = (await findMemberByName(db, 'Jane'))!;
      const c1 = await createKnownPerson(db, { name: 'Unknown person 1', autoCluster: true });
      const c2 = await createKnownPerson(db, { name: 'Unknown person 2', autoCluster: true });
      await addFaceEmbedding(db, { personId: c1.id, modelId: 'face@abc', vector: unit(4, 0), quality: 0.8 });
      await addFaceEmbedding(db, { personId: c2.id, modelId: 'face@abc', vector: unit(4, 1), quality: 0.8 });
      await seedFaceEvent(db, c2.id);
      const clusters = await call<{ clusters: { id: number }[] }>(app, { method: 'GET', url: '/api/faces/clusters' });
      expect(clusters.json.clusters.map((c) => c.id)).toStrictEqual([c1.id, c2.id]);

      const named = await call<Record<string, unknown>>(app, {
        method: 'POST',
        url: `/api/faces/persons/${c1.id}/name`,
        payload: { name: 'Jane', member_id: jane.id },
      });
      expect(named.json).toMatchObject({ name: 'Jane', auto_cluster: false, member_id: jane.id, face_vectors: 1 });
      const second = await call<ErrorJson>(app, {
        method: 'POST',
        url: `/api/faces/persons/${c2.id}/name`,
        payload: { name: 'Jane', member_id: jane.id },
      });
      expect([second.res.statusCode, second.json.error.message]).toStrictEqual([409, expect.stringContaining('merge')]);
      const self = await call<ErrorJson>(app, {
        method: 'POST',
        url: `/api/faces/persons/${c1.id}/merge`,
        payload: { into: c1.id },
      });
      expect([self.res.statusCode, self.json.error.field]).toStrictEqual([400, 'into']);
      const merged = await call<Record<string, unknown>>(app, {
        method: 'POST',
        url: `/api/faces/persons/${c2.id}/merge`,
        payload: { into: c1.id },
      });
      expect(merged.json).toMatchObject({ moved_vectors: 1, moved_faces: 1, into: { id: c1.id, face_vectors: 2 } });
      const detail = await call<{ vectors: unknown[]; faces: unknown[] }>(app, {
        method: 'GET',
        url: `/api/faces/persons/${c1.id}`,
      });
      expect([detail.json.vectors.length, detail.json.faces.length]).toStrictEqual([2, 1]);
      const gone = await call(app, { method: 'GET', url: `/api/faces/persons/${c2.id}` });
      expect(gone.res.statusCode).toBe(404);

      const stray = await createKnownPerson(db, { name: 'Unknown person 3', autoCluster: true });
      expect((await call(app, { method: 'DELETE', url: `/api/faces/persons/${stray.id}` })).res.statusCode).toBe(204);
      expect((await audits('person.')).map((a) => a.action)).toStrictEqual([
        'person.name',
        'person.merge',
        'person.delete',
      ]);
    });

    it('lists entities and journeys; "this visitor is Jane" copies the entity vectors to her gallery', async () => {
      const jane = (await findMemberByName(db, 'Jane'))!;
      const visitor = await seedEntity(db, ['front_door', 'garden'], new Date('2026-03-02T10:00:00Z'));
      const listed = await call<{ entities: { id: string }[]; total: number }>(app, {
        method: 'GET',
        url: '/api/entities?limit=10&known=false',
      });
      expect(listed.json.entities.map((e) => e.id)).toContain(visitor.entityId);
      const journeys = await call<{ journeys: { entity_id: string; cameras: string[] }[] }>(app, {
        method: 'GET',
        url: '/api/journeys?multi_camera=true',
      });
      expect(journeys.json.journeys[0]).toMatchObject({
        entity_id: visitor.entityId,
        cameras: ['front_door', 'garden'],
      });
      const badId = await call<ErrorJson>(app, { method: 'GET', url: '/api/entities/not-a-uuid' });
      expect(badId.res.statusCode).toBe(400);

      const named = await call<Record<string, unknown>>(app, {
        method: 'POST',
        url: `/api/entities/${visitor.entityId}/name`,
        payload: { member_id: jane.id },
      });
      expect(named.res.statusCode).toBe(201);
      expect(named.json).toMatchObject({ source: 'entity', appearance_vectors: 3, reid_model_id: 'reid@abc' });
      expect(await countPersonEmbeddings(db, jane.id)).toStrictEqual([
        { modelId: 'reid@abc', source: 'entity', count: 3 },
      ]);
      const again = await call<ErrorJson>(app, {
        method: 'POST',
        url: `/api/entities/${visitor.entityId}/name`,
        payload: { member_id: jane.id },
      });
      expect(again.res.statusCode).toBe(409);
      const one = await call<Record<string, unknown>>(app, { method: 'GET', url: `/api/entities/${visitor.entityId}` });
      expect(one.json).toMatchObject({ member_name: 'Jane', journeys: [{ cameras: ['front_door', 'garden'] }] });
    });

    it.skipIf(assetsMissing !== undefined)(
      'enrols from a photo of one person (appearance and face), refuses none, two and non-photos',
      async () => {
        const created = await call<{ id: number }>(app, {
          method: 'POST',
          url: '/api/household/members',
          payload: { name: 'Eileen' },
        });
        const url = `/api/household/members/${created.json.id}/enrol`;
        const photo = readFileSync(fixtureImage('person_astronaut.png'));
        const enrolled = await call<Record<string, unknown>>(app, {
          method: 'POST',
          url,
          headers: { 'content-type': 'image/png' },
          payload: photo,
        });
        expect(enrolled.res.statusCode, enrolled.res.body).toBe(201);
        expect(enrolled.json).toMatchObject({
          member_id: created.json.id,
          source: 'photo',
          appearance_vectors: 1,
          reid_model_id: expect.stringMatching(/^person-reidentification-retail-0248\.onnx@[0-9a-f]{12}$/),
          face: { status: 'enrolled', model_id: expect.stringMatching(/^MobileFaceNet\.onnx@/) },
        });
        const member = await getMember(db, created.json.id);
        expect(member).toMatchObject({ appearanceVectors: 1, faceVectors: 1 });
        expect(await getKnownPerson(db, member?.knownPersonId ?? 0)).toMatchObject({
          name: 'Eileen',
          autoCluster: false,
        });

        const coffee = await call<ErrorJson>(app, {
          method: 'POST',
          url,
          headers: { 'content-type': 'image/png' },
          payload: readFileSync(fixtureImage('no_target_coffee.png')),
        });
        expect([coffee.res.statusCode, coffee.json.error.field]).toStrictEqual([400, 'image']);
        expect(coffee.json.error.message).toMatch(/^no person found/);
        const two = await call<ErrorJson>(app, {
          method: 'POST',
          url,
          headers: { 'content-type': 'image/png' },
          payload: await collage(fixtureImage('person_astronaut.png')),
        });
        expect([two.res.statusCode, two.json.error.message]).toStrictEqual([
          400,
          'the photo shows 2 people: crop it to the one to enrol',
        ]);
        const garbage = await call<ErrorJson>(app, {
          method: 'POST',
          url,
          headers: { 'content-type': 'image/jpeg' },
          payload: Buffer.from('not a photo at all'),
        });
        expect([garbage.res.statusCode, garbage.json.error.field]).toStrictEqual([400, 'image']);
        const text = await call<ErrorJson>(app, {
          method: 'POST',
          url,
          headers: { 'content-type': 'text/plain' },
          payload: 'hello',
        });
        expect(text.res.statusCode).toBe(415);
        const nobody = await call<ErrorJson>(app, {
          method: 'POST',
          url: '/api/household/members/999999/enrol',
          headers: { 'content-type': 'image/png' },
          payload: photo,
        });
        expect(nobody.res.statusCode).toBe(404);

        // The face covered: the person is still found, no face is; the appearance alone is enrolled, unless the
        // caller requires a face.
        const person = (await runtime!.detector().then((d) => d.detect(photo))).detections.find(
          (d) => d.label === 'person',
        )!.box;
        const cover = await sharp({
          create: {
            width: Math.round(person.width),
            height: Math.round(person.height * 0.3),
            channels: 3,
            background: '#777777',
          },
        })
          .png()
          .toBuffer();
        const faceless = await sharp(photo)
          .removeAlpha()
          .composite([{ input: cover, left: Math.round(person.x), top: Math.round(person.y) }])
          .png()
          .toBuffer();
        const required = await call<ErrorJson>(app, {
          method: 'POST',
          url: `${url}?require_face=true`,
          headers: { 'content-type': 'image/png' },
          payload: faceless,
        });
        expect([required.res.statusCode, required.json.error.field]).toStrictEqual([400, 'image']);
        expect(required.json.error.message).toMatch(/^no face found on the person/);
        const appearanceOnly = await call<Record<string, unknown>>(app, {
          method: 'POST',
          url,
          headers: { 'content-type': 'image/png' },
          payload: faceless,
        });
        expect(appearanceOnly.res.statusCode).toBe(201);
        expect(appearanceOnly.json).toMatchObject({ appearance_vectors: 1, face: { status: 'none found' } });

        // Only the two accepted enrolments were stored and audited.
        expect(await getMember(db, created.json.id)).toMatchObject({ appearanceVectors: 2, faceVectors: 1 });
        expect((await audits('household_member.enrol')).map((a) => a.resource_id)).toStrictEqual([
          String(created.json.id),
          String(created.json.id),
        ]);
      },
    );

    it.skipIf(assetsMissing !== undefined)(
      'enrols from a past person detection (its photo and box); refuses other objects and missing ones',
      async () => {
        const member = (await findMemberByName(db, 'Eileen'))!;
        const photo = readFileSync(fixtureImage('person_astronaut.png'));
        const result = await runtime!.detector().then((d) => d.detect(photo));
        const person = result.detections.find((d) => d.label === 'person')!;
        const [personId, cupId] = await seedDetections(db, 'front_door', [
          {
            objectType: 'person',
            confidence: person.confidence,
            box: {
              x: Math.round(person.box.x),
              y: Math.round(person.box.y),
              width: Math.round(person.box.width),
              height: Math.round(person.box.height),
            },
          },
          { objectType: 'cup', confidence: 0.9 },
        ]);
        const source = await db
          .selectFrom('detections as d')
          .innerJoin('media_files as f', 'f.id', 'd.media_file_id')
          .where('d.id', '=', personId as number)
          .select(['f.path', 'f.id'])
          .executeTakeFirstOrThrow();
        mkdirSync(path.dirname(path.join(mediaRoot, source.path)), { recursive: true });
        writeFileSync(path.join(mediaRoot, source.path), photo);
        // The file as processed: enrolment reads it only while it still has the recorded sha256.
        await db
          .updateTable('media_files')
          .set({ sha256: createHash('sha256').update(photo).digest('hex'), size: photo.length })
          .where('id', '=', source.id)
          .execute();
        const url = `/api/household/members/${member.id}/enrol-from-detection`;
        const enrolled = await call<Record<string, unknown>>(app, {
          method: 'POST',
          url,
          payload: { detection_id: personId },
        });
        expect(enrolled.res.statusCode, enrolled.res.body).toBe(201);
        expect(enrolled.json).toMatchObject({ source: 'detection', appearance_vectors: 1 });
        const gallery = await db
          .selectFrom('person_embeddings')
          .where('member_id', '=', member.id)
          .select(['source', 'detection_id'])
          .orderBy('id')
          .execute();
        expect(gallery.map((g) => [g.source, g.detection_id === null ? null : Number(g.detection_id)])).toStrictEqual([
          ['photo', null],
          ['photo', null],
          ['detection', personId],
        ]);
        const cup = await call<ErrorJson>(app, { method: 'POST', url, payload: { detection_id: cupId } });
        expect([cup.res.statusCode, cup.json.error.field]).toStrictEqual([400, 'detection_id']);
        expect(cup.json.error.message).toMatch(/not a person/);
        const none = await call<ErrorJson>(app, { method: 'POST', url, payload: { detection_id: 999_999 } });
        expect([none.res.statusCode, none.json.error.field]).toStrictEqual([400, 'detection_id']);
        // A camera wrote something else under the name since: not what was detected, so nothing is enrolled.
        writeFileSync(path.join(mediaRoot, source.path), readFileSync(fixtureImage('person_cameraman_gray.png')));
        const changed = await call<ErrorJson>(app, { method: 'POST', url, payload: { detection_id: personId } });
        expect([changed.res.statusCode, changed.json.error.code]).toStrictEqual([410, 'MEDIA_CHANGED']);
      },
    );

    it('removing a member through the API removes every vector of theirs, audited with the counts', async () => {
      const jane = (await findMemberByName(db, 'Jane'))!;
      const before = await count(db, 'person_embeddings');
      const removed = await call<{ removed: Record<string, number> }>(app, {
        method: 'DELETE',
        url: `/api/household/members/${jane.id}`,
      });
      expect(removed.res.statusCode).toBe(200);
      expect(removed.json.removed).toMatchObject({ appearance_vectors: 3, face_vectors: 2, entities: 1 });
      expect(await count(db, 'person_embeddings')).toBe(before - 3);
      expect(await findPersonOfMember(db, jane.id)).toBeUndefined();
      const left = await db
        .selectFrom('face_embeddings')
        .where('person_id', '=', jane.knownPersonId!)
        .selectAll()
        .execute();
      expect(left).toHaveLength(0);
      expect((await audits('household_member.delete')).map((a) => a.resource_id)).toStrictEqual([String(jane.id)]);
      const again = await call(app, { method: 'DELETE', url: `/api/household/members/${jane.id}` });
      expect(again.res.statusCode).toBe(404);
    });
  });
}

describe.skipIf(assetsMissing !== undefined)('household enrolment without a shared model runtime', () => {
  it('opens its own on the first enrolment; a model file that is missing answers 503 naming the setting', async () => {
    const t = await createTestStore('pglite');
    const mediaRoot = mkdtempSync(path.join(os.tmpdir(), 'hsi-household-'));
    const good = testConfig(mediaRoot);
    const broken: Config = { ...good, identity: { ...good.identity, reid_model: path.join(mediaRoot, 'gone.onnx') } };
    const apis = [await identityApi(t.store.db, good), await identityApi(t.store.db, broken)];
    try {
      const member = await createMember(t.store.db, { name: 'Eileen' });
      const enrol = (app: FastifyInstance) =>
        call<Record<string, unknown>>(app, {
          method: 'POST',
          url: `/api/household/members/${member.id}/enrol`,
          headers: { 'content-type': 'image/png' },
          payload: readFileSync(fixtureImage('person_astronaut.png')),
        });
      const ok = await enrol(apis[0]!.app);
      expect(ok.res.statusCode, ok.res.body).toBe(201);
      const failed = (await enrol(apis[1]!.app)) as unknown as { res: { statusCode: number }; json: ErrorJson };
      expect([failed.res.statusCode, failed.json.error.code]).toStrictEqual([503, 'MODEL_MISSING']);
      expect(failed.json.error.message).toMatch(
        /^enrolment is unavailable: identity\.reid_model: model file .*gone\.onnx/,
      );
      expect(await getMember(t.store.db, member.id)).toMatchObject({ appearanceVectors: 1 });
    } finally {
      for (const api of apis) {
        await api.app.close();
        await api.closeQueues();
      }
      await t.dispose();
      rmSync(mediaRoot, { recursive: true, force: true });
    }
  });
});
