import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertService } from '../../../src/alerts/alert.service.js';
import { ArmingService } from '../../../src/alerts/arming.service.js';
import { loadConfig } from '../../../src/config/load.js';
import type { BusEvents, EventRecord } from '../../../src/domain/events.js';
import { identityHaSource } from '../../../src/features/identity/ha-entities.js';
import { FakeClock } from '../../../src/lib/clock.js';
import { EventBus } from '../../../src/lib/event-bus.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { MqttBridge } from '../../../src/mqtt/bridge.js';
import { MqttConnection } from '../../../src/mqtt/client.js';
import type { Db } from '../../../src/storage/database.js';
import { eventToRecord, insertEventForBatch } from '../../../src/storage/event.repository.js';
import { newEvent, systemHealth } from '../../support/builders.js';
import { services } from '../../support/env.js';
import { HomeAssistant, payloadsOf } from '../../support/home-assistant.js';
import { clearRetained, readRetained, uniqueBaseTopic } from '../../support/mqtt-watcher.js';
import { seedDetections } from '../../support/seed.js';
import { serviceDown } from '../../support/services.js';
import { createTestStore, engineUnavailable, type TestStore } from '../../support/stores.js';

/**
 * The identity feature's Home Assistant entities end to end: the MQTT bridge with the identity source publishes to
 * Mosquitto, a plain MQTT client plays Home Assistant, and the identity rows (members, re-identified sightings,
 * entities, journeys, a face match) are written straight into PostgreSQL. The clock is fake, so presence, "today"
 * and the last-seen times are exact; the health interval (1 s) is real.
 */

const skip =
  (await engineUnavailable('postgres')) ?? (await serviceDown('Mosquitto', services.mqttUrl, 1883)) ?? undefined;
if (skip) console.warn(`skipping Home Assistant identity tests: ${skip}`);

/** 22:16 in Berlin: the local day began at 2026-11-23T23:00Z. */
const NOW = Date.parse('2026-11-24T21:16:00.000Z');
const at = (iso: string) => new Date(iso);

const HEALTH = systemHealth();

// ---- identity rows, as the re-identification and face processors write them ---------------------------------

async function addMember(db: Db, name: string, role: 'resident' | 'service_worker' = 'resident'): Promise<number> {
  const row = await db
    .insertInto('household_members')
    .values({ name, role, typical_schedule: null, notes: null })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

async function addEntity(db: Db, memberId: number | null, seenAt: Date): Promise<string> {
  const row = await db
    .insertInto('entities')
    .values({
      model_id: 'reid@test',
      embedding: new Uint8Array(8),
      first_seen_at: seenAt,
      last_seen_at: seenAt,
      member_id: memberId,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

async function addJourney(db: Db, entityId: string, steps: { camera_id: string; at: string }[]): Promise<string> {
  const row = await db
    .insertInto('journeys')
    .values({
      entity_id: entityId,
      started_at: at(steps[0]?.at ?? ''),
      last_seen_at: at(steps.at(-1)?.at ?? ''),
      cameras: steps.map((s) => s.camera_id),
      steps: JSON.stringify(steps),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** One person detection on `cameraId` at `seenAt`, re-identified as `entityId` (and matched to `memberId`). */
async function addSighting(
  db: Db,
  cameraId: string,
  seenAt: Date,
  reid: { entityId: string; memberId?: number; journeyId?: string },
): Promise<number> {
  const [detectionId] = await seedDetections(db, cameraId, [{ objectType: 'person', confidence: 0.9 }], seenAt);
  if (detectionId === undefined) throw new Error('no detection seeded');
  await db
    .insertInto('reid_embeddings')
    .values({
      detection_id: detectionId,
      camera_id: cameraId,
      detected_at: seenAt,
      model_id: 'reid@test',
      embedding: new Uint8Array(8),
      entity_id: reid.entityId,
      entity_similarity: 0.9,
      member_id: reid.memberId ?? null,
      member_similarity: reid.memberId === undefined ? null : 0.82,
      journey_id: reid.journeyId ?? null,
    })
    .execute();
  return detectionId;
}

/** A face on a person detection on `cameraId` at `seenAt` that matched the known person `personId`. */
async function addFaceSighting(db: Db, cameraId: string, seenAt: Date, personId: number): Promise<void> {
  const [detectionId] = await seedDetections(db, cameraId, [{ objectType: 'person', confidence: 0.9 }], seenAt);
  if (detectionId === undefined) throw new Error('no detection seeded');
  await db
    .insertInto('face_detection_events')
    .values({
      detection_id: detectionId,
      camera_id: cameraId,
      detected_at: seenAt,
      bbox_x: 10,
      bbox_y: 10,
      bbox_width: 60,
      bbox_height: 60,
      confidence: 0.95,
      quality: 0.9,
      rejected: null,
      model_id: 'face@test',
      embedding: null,
      person_id: personId,
      similarity: 0.7,
    })
    .execute();
}

describe.skipIf(skip !== undefined)('identity entities in Home Assistant (Mosquitto, PostgreSQL)', () => {
  let t: TestStore;
  let dir: string;
  let ha: HomeAssistant;
  let connection: MqttConnection;
  let bridge: MqttBridge;
  let bus: EventBus<BusEvents>;
  let clock: FakeClock;
  const base = uniqueBaseTopic();
  const prefix = `ha-${base}`;
  const ids = { alice: 0, bob: 0, stranger: '', strangerDetection: 0, aliceDetection: 0 };

  const memberConfig = (id: number) => `${prefix}/device/${base}_member_${id}/config`;
  const memberState = (id: number) => `${base}/members/${id}/state`;
  const json = (payload: string) => JSON.parse(payload) as Record<string, unknown>;
  /** The stranger events fired so far, parsed. */
  const strangers = () => payloadsOf(ha.messages, `${base}/hub/stranger`).map(json);

  beforeAll(async () => {
    t = await createTestStore('postgres');
    const db = t.store.db;
    dir = mkdtempSync(path.join(os.tmpdir(), 'hsi-ha-identity-'));
    ids.alice = await addMember(db, 'Alice');
    ids.bob = await addMember(db, 'Bob', 'service_worker');
    // Alice: by appearance at the front door 2 minutes ago.
    const aliceEntity = await addEntity(db, ids.alice, at('2026-11-24T21:14:00Z'));
    ids.aliceDetection = await addSighting(db, 'front_door', at('2026-11-24T21:14:00Z'), {
      entityId: aliceEntity,
      memberId: ids.alice,
    });
    // Bob: by appearance 3 hours ago, then by face on the driveway 30 minutes ago.
    await addSighting(db, 'front_door', at('2026-11-24T18:16:00Z'), { entityId: aliceEntity, memberId: ids.bob });
    const bobFace = await db
      .insertInto('known_persons')
      .values({ name: 'Bob', member_id: ids.bob, notes: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    await addFaceSighting(db, 'driveway', at('2026-11-24T20:46:00Z'), bobFace.id);
    // A stranger walking from the driveway to the front door (one journey), seen today.
    ids.stranger = await addEntity(db, null, at('2026-11-24T21:13:40Z'));
    const steps = [
      { camera_id: 'driveway', at: '2026-11-24T21:13:40.000Z' },
      { camera_id: 'front_door', at: '2026-11-24T21:14:03.000Z' },
    ];
    const journey = await addJourney(db, ids.stranger, steps);
    await addSighting(db, 'driveway', at(steps[0]?.at ?? ''), { entityId: ids.stranger, journeyId: journey });
    ids.strangerDetection = await addSighting(db, 'front_door', at(steps[1]?.at ?? ''), {
      entityId: ids.stranger,
      journeyId: journey,
    });
    // Two more unnamed people: 00:30 local today (still yesterday in UTC), and 23:30 local yesterday.
    for (const seen of ['2026-11-23T23:30:00Z', '2026-11-23T22:30:00Z']) {
      await addSighting(db, 'driveway', at(seen), { entityId: await addEntity(db, null, at(seen)) });
    }

    const { config } = loadConfig({
      env: {
        HSI_MQTT_BASE_TOPIC: base,
        HSI_MQTT_DISCOVERY_PREFIX: prefix,
        HSI_HOMEASSISTANT_HEALTH_INTERVAL_S: '1',
        HSI_SITE_TIMEZONE: 'Europe/Berlin',
        HSI_IDENTITY_PRESENCE_MINUTES: '10',
      },
      cwd: dir,
      optionsFile: path.join(dir, 'no-options.json'),
    });
    const log = silentLogger();
    clock = new FakeClock(NOW);
    bus = new EventBus<BusEvents>(log);
    ha = await HomeAssistant.connect(services.mqttUrl, { base, prefix });
    connection = new MqttConnection({ url: services.mqttUrl, baseTopic: base, offlineQueueMax: 100, log });
    bridge = new MqttBridge({
      brokerUrl: services.mqttUrl,
      mqtt: config.mqtt,
      ha: config.homeassistant,
      version: '9.9.9',
      mediaRoot: dir,
      extractFrames: async () => [],
      publisher: connection,
      db,
      bus,
      alerts: new AlertService({ db, bus, log, clock }),
      arming: new ArmingService({ db, bus, log, clock }),
      commands: { handle: async () => ({ states: [] }), failedCodes: 0 },
      status: { health: async () => HEALTH },
      components: [identityHaSource(config)],
      log,
      clock,
      random: () => 0,
    });
    bridge.start();
    await connection.start();
  }, 30_000);

  afterAll(async () => {
    bridge?.stop();
    await connection?.stop();
    await ha?.close();
    await clearRetained(services.mqttUrl, base);
    await clearRetained(services.mqttUrl, `${prefix}/device`);
    await t?.dispose();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('discovers a device per member and the hub entities, then publishes each state', { timeout: 15_000 }, async () => {
    const hub = json((await ha.next(`${prefix}/device/${base}_hub/config`)).payload) as {
      cmps: Record<string, { unique_id: string; state_topic: string }>;
    };
    expect(hub.cmps.stranger?.unique_id).toBe(`${base}_hub_stranger`);
    expect(hub.cmps.visitors_today?.state_topic).toBe(`${base}/hub/visitors_today`);

    for (const [id, name, model] of [
      [ids.alice, 'Alice', 'Household member: resident'],
      [ids.bob, 'Bob', 'Household member: service worker'],
    ] as const) {
      const device = json((await ha.next(memberConfig(id))).payload) as {
        dev: Record<string, unknown>;
        cmps: Record<string, { unique_id: string; state_topic: string; device_class: string }>;
      };
      expect(device.dev).toMatchObject({
        identifiers: [`${base}_member_${id}`],
        name,
        model,
        via_device: `${base}_hub`,
      });
      expect(device.cmps.last_seen).toMatchObject({
        unique_id: `${base}_member_${id}_last_seen`,
        state_topic: memberState(id),
        device_class: 'timestamp',
      });
      expect(device.cmps.present).toMatchObject({
        unique_id: `${base}_member_${id}_present`,
        state_topic: memberState(id),
        device_class: 'presence',
      });
    }

    const alice = await ha.next(memberState(ids.alice));
    expect(await readRetained(services.mqttUrl, memberState(ids.alice))).toBe(alice.payload);
    expect(json(alice.payload)).toStrictEqual({
      last_seen: '2026-11-24T21:14:00.000Z',
      camera: 'front_door',
      via: 'appearance',
      similarity: 0.82,
      present: true,
    });
    // Bob's face on the driveway is newer than his appearance at the door: it is his last sighting, 30 min ago.
    expect(json((await ha.next(memberState(ids.bob))).payload)).toStrictEqual({
      last_seen: '2026-11-24T20:46:00.000Z',
      camera: 'driveway',
      via: 'face',
      similarity: expect.closeTo(0.7, 5),
      present: false,
    });
    // The stranger and the 00:30 visitor are today in Berlin; the 23:30 one was yesterday.
    expect(json((await ha.next(`${base}/hub/visitors_today`)).payload)).toStrictEqual({
      count: 2,
      since: '2026-11-23T23:00:00.000Z',
    });
  });

  it('fires the stranger event once per security event, with the journey, and tells who was seen', {
    timeout: 15_000,
  }, async () => {
    const db = t.store.db;
    const from = ha.mark();
    const { event } = await insertEventForBatch(
      db,
      newEvent({ cameraId: 'front_door', startedAt: at('2026-11-24T21:14:00Z'), closedAt: null }),
      [ids.aliceDetection, ids.strangerDetection],
    );
    const record = eventToRecord(event);
    bus.emit('event.created', { event: record, latencyMs: 1 });
    const fired = json((await ha.next(`${base}/hub/stranger`, () => true, from)).payload);
    expect(fired).toStrictEqual({
      event_type: 'stranger',
      event_id: event.id,
      camera: 'front_door',
      unknown: 1,
      persons: 1,
      members: ['Alice'],
      entities: expect.arrayContaining([ids.stranger]),
      journey: ['driveway', 'front_door'],
      started_at: '2026-11-24T21:14:00.000Z',
    });
    const security = json((await ha.next(`${base}/cameras/front_door/security_event`, () => true, from)).payload);
    expect(security).toMatchObject({ event_type: 'low', event_id: event.id });
    expect(security.people).toStrictEqual({
      persons: 1,
      members: ['Alice'],
      unknown: 1,
      journey: ['driveway', 'front_door'],
    });
    expect(security.last_recognized).toStrictEqual({
      name: 'Alice',
      at: '2026-11-24T21:14:00.000Z',
      via: 'appearance',
    });

    // Its updates, and the same event announced again, never fire it a second time.
    const closed: EventRecord = { ...record, closedAt: new Date(NOW) };
    bus.emit('event.updated', { event: closed, previous: record, latencyMs: 1 });
    bus.emit('event.updated', { event: closed, previous: closed, latencyMs: 1 });
    bus.emit('event.created', { event: record, latencyMs: 1 });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(strangers().filter((s) => s.event_id === event.id)).toHaveLength(1);
  });

  it('fires on the first analysis that shows a stranger, not on one that shows only a member', {
    timeout: 15_000,
  }, async () => {
    const db = t.store.db;
    const from = ha.mark();
    const aliceEntity = await addEntity(db, ids.alice, at('2026-11-24T21:15:00Z'));
    const aliceAgain = await addSighting(db, 'front_door', at('2026-11-24T21:15:00Z'), {
      entityId: aliceEntity,
      memberId: ids.alice,
    });
    const { event } = await insertEventForBatch(
      db,
      newEvent({ cameraId: 'front_door', startedAt: at('2026-11-24T21:15:00Z'), closedAt: null }),
      [aliceAgain],
    );
    const record = eventToRecord(event);
    bus.emit('event.created', { event: record, latencyMs: 1 });
    const security = json((await ha.next(`${base}/cameras/front_door/security_event`, () => true, from)).payload);
    expect(security.people).toStrictEqual({ persons: 1, members: ['Alice'], unknown: 0, journey: null });
    // Alice's new sighting reaches her device with the event (no stranger was fired before it).
    await ha.next(memberState(ids.alice), (p) => p.includes('21:15:00.000Z'), from);
    expect(strangers().filter((s) => s.event_id === event.id)).toStrictEqual([]);

    // More detections join the visit: a stranger now. The update fires the event, once.
    const strangerNow = await addSighting(db, 'front_door', at('2026-11-24T21:15:30Z'), { entityId: ids.stranger });
    await db.insertInto('event_detections').values({ event_id: event.id, detection_id: strangerNow }).execute();
    const updated: EventRecord = { ...record, detectionCount: 2 };
    bus.emit('event.updated', { event: updated, previous: record, latencyMs: 1 });
    const fired = json((await ha.next(`${base}/hub/stranger`, (p) => json(p).event_id === event.id, from)).payload);
    expect(fired).toMatchObject({ event_id: event.id, unknown: 1, members: ['Alice'], journey: null });
    bus.emit('event.updated', { event: { ...updated, closedAt: new Date(NOW) }, previous: updated, latencyMs: 1 });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(strangers().filter((s) => s.event_id === event.id)).toHaveLength(1);
  });

  it('a member is no longer present once presence_minutes passed since their last sighting', {
    timeout: 15_000,
  }, async () => {
    const from = ha.mark();
    clock.advance(11 * 60_000); // 21:27: Alice was last seen at 21:15
    const alice = await ha.next(memberState(ids.alice), (p) => json(p).present === false, from, 5000);
    expect(json(alice.payload)).toMatchObject({ last_seen: '2026-11-24T21:15:00.000Z', present: false });
  });

  it('re-discovers a renamed member; clears a deleted member: device first, then its state', {
    timeout: 15_000,
  }, async () => {
    const db = t.store.db;
    const from = ha.mark();
    await db.updateTable('household_members').set({ name: 'Alice B.' }).where('id', '=', ids.alice).execute();
    await db.deleteFrom('household_members').where('id', '=', ids.bob).execute();
    const renamed = await ha.next(memberConfig(ids.alice), (p) => p.includes('Alice B.'), from, 5000);
    expect(json(renamed.payload).dev).toMatchObject({ name: 'Alice B.' });
    const config = await ha.next(memberConfig(ids.bob), (p) => p === '', from, 5000);
    const state = await ha.next(memberState(ids.bob), (p) => p === '', from, 5000);
    expect(ha.messages.indexOf(config)).toBeLessThan(ha.messages.indexOf(state));
    expect(await readRetained(services.mqttUrl, memberConfig(ids.bob), 500)).toBeUndefined();
    expect(await readRetained(services.mqttUrl, memberState(ids.bob), 500)).toBeUndefined();
    expect(await readRetained(services.mqttUrl, memberConfig(ids.alice), 1000)).toContain('Alice B.');
  });
});
