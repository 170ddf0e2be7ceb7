import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
import { vectorToBytes } from '../../../src/features/identity/vectors.js';
import type { Db } from '../../../src/storage/database.js';
import { upsertZoneByName } from '../../../src/storage/zone.repository.js';
import { seedDetections } from '../../support/seed.js';
import { createTestStore, ENGINES, engineUnavailable, type TestStore } from '../../support/stores.js';

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
