import type { Config } from '../../config/schema.js';
import { siteTimeZone } from '../../config/site.js';
import type { EventRecord } from '../../domain/events.js';
import { startOfLocalDay } from '../../domain/local-day.js';
import type { DiscoveryInput } from '../../mqtt/discovery.js';
import { type Component, component, type Scope } from '../../mqtt/discovery-components.js';
import type { HaComponentSource, HaDevice, HaMessage, HaUpdate } from '../../mqtt/ha-components.js';
import { memberStateTopic, strangerEventTopic, visitorsTodayTopic } from '../../mqtt/topics.js';
import type { Db } from '../../storage/database.js';
import { eventDetectionIds } from '../../storage/event.repository.js';
import type { MemberRole } from '../../storage/tables/identity.table.js';
import { sightingsOfDetections } from './identity.repository.js';
import { lastMemberSightings, lastRecognizedOnCamera, type MemberSighting } from './presence.js';
import {
  claimStrangerNotice,
  countVisitorsSince,
  listMemberSummaries,
  type MemberSummary,
} from './presence.repository.js';
import { type PeopleThresholds, peopleThresholds, type VisitPeople, visitPeople } from './visit-people.js';

/**
 * The identity feature in Home Assistant: a device per household member (a *Last seen* timestamp sensor with the
 * camera and how they were recognised, a *Present* presence sensor: seen in the last `identity.presence_minutes`),
 * the hub's *Stranger* event (once per security event that shows an unknown person) and *Visitors today* sensor
 * (unnamed people seen since the site's local midnight), and who was seen on each camera's security event.
 */

/** The hub event entity's one event type. */
export const STRANGER_EVENT_TYPE = 'stranger';

const ROLE_MODELS: Record<MemberRole, string> = {
  resident: 'Household member: resident',
  family: 'Household member: family',
  service_worker: 'Household member: service worker',
  frequent_visitor: 'Household member: frequent visitor',
};

/** The device key of a member: device `<node>_member_<id>`, unique ids `<node>_member_<id>_<component>`. */
export const memberDeviceKey = (memberId: number): string => `member_${memberId}`;

/** The hub's *Stranger* event and *Visitors today* sensor. Pure. */
export function identityHubComponents(input: DiscoveryInput, hub: Scope): Record<string, Component> {
  const base = input.baseTopic;
  return {
    stranger: component(hub, 'stranger', 'event', 'Stranger', {
      state_topic: strangerEventTopic(base),
      event_types: [STRANGER_EVENT_TYPE],
      icon: 'mdi:account-question',
    }),
    visitors_today: component(hub, 'visitors_today', 'sensor', 'Visitors today', {
      state_topic: visitorsTodayTopic(base),
      value_template: '{{ value_json.count }}',
      json_attributes_topic: visitorsTodayTopic(base),
      // Not total_increasing: the count drops when a visitor is named as a member, which is no counter reset.
      state_class: 'measurement',
      unit_of_measurement: 'visitors',
      icon: 'mdi:account-group',
    }),
  };
}

/** A member's *Last seen* and *Present* sensors, both read from `<base>/members/<id>/state`. Pure. */
export function memberComponents(input: DiscoveryInput, scope: Scope, memberId: number): Record<string, Component> {
  const topic = memberStateTopic(input.baseTopic, memberId);
  return {
    last_seen: component(scope, 'last_seen', 'sensor', 'Last seen', {
      state_topic: topic,
      value_template: '{{ value_json.last_seen }}',
      device_class: 'timestamp',
      json_attributes_topic: topic,
      json_attributes_template:
        "{{ {'camera': value_json.camera, 'via': value_json.via, 'similarity': value_json.similarity} | tojson }}",
      icon: 'mdi:account-clock',
    }),
    present: component(scope, 'present', 'binary_sensor', 'Present', {
      state_topic: topic,
      value_template: "{{ 'ON' if value_json.present else 'OFF' }}",
      device_class: 'presence',
    }),
  };
}

/** The Home Assistant device of a household member, named after them. */
export function memberDevice(member: MemberSummary): HaDevice {
  return {
    key: memberDeviceKey(member.id),
    name: member.name,
    model: ROLE_MODELS[member.role],
    components: (input, scope) => memberComponents(input, scope, member.id),
  };
}

/** Retained on `<base>/members/<id>/state`: present while the newest sighting is under `presenceMinutes` old. */
export function memberStatePayload(sighting: MemberSighting | undefined, now: Date, presenceMinutes: number) {
  const age = sighting === undefined ? Number.POSITIVE_INFINITY : now.getTime() - sighting.detectedAt.getTime();
  return {
    last_seen: sighting?.detectedAt.toISOString() ?? null,
    camera: sighting?.cameraId ?? null,
    via: sighting?.via ?? null,
    similarity: sighting?.similarity ?? null,
    present: age <= presenceMinutes * 60_000,
  };
}

/** Retained on `<base>/hub/visitors_today`: unnamed people seen since `since` (the site's local midnight). */
export function visitorsTodayPayload(count: number, since: Date) {
  return { count, since: since.toISOString() };
}

/** The hub's *Stranger* event for a security event that shows an unknown person; the rest become attributes. */
export function strangerEventPayload(event: EventRecord, people: VisitPeople) {
  return {
    event_type: STRANGER_EVENT_TYPE,
    event_id: event.id,
    camera: event.cameraId,
    unknown: people.unknown,
    persons: people.persons,
    members: people.members.map((m) => m.name),
    entities: [...people.entities],
    journey: people.journey === null ? null : [...people.journey.cameras],
    started_at: event.startedAt.toISOString(),
  };
}

/**
 * Attributes of a camera's security event: who this event's people were (members by name, how many unknown, the
 * cameras of their journey) and the camera's last recognised member (possibly from an earlier visit).
 */
export function securityEventPeople(
  people: VisitPeople,
  last: { name: string; detectedAt: Date; via: 'face' | 'appearance' } | undefined,
) {
  return {
    people: {
      persons: people.persons,
      members: people.members.map((m) => m.name),
      unknown: people.unknown,
      journey: people.journey === null ? null : [...people.journey.cameras],
    },
    last_recognized: last === undefined ? null : { name: last.name, at: last.detectedAt.toISOString(), via: last.via },
  };
}

/** What the devices show of each member (id, name, role): a change means discovery again. */
const signature = (members: readonly MemberSummary[]): string =>
  JSON.stringify(members.map((m) => [m.id, m.name, m.role]));

/** Who was seen in an event: its detections' sightings, summed up. */
async function peopleOfEvent(db: Db, eventId: number, thresholds: PeopleThresholds): Promise<VisitPeople> {
  return visitPeople(await sightingsOfDetections(db, await eventDetectionIds(db, eventId)), thresholds);
}

/**
 * The identity feature's Home Assistant entities (see the module comment). Member states and the visitors count
 * are published when they change: on the health interval (presence ends by time), and after each security event's
 * analysis. A member deleted or renamed is re-discovered at the next of those (its device cleared or renamed); a
 * deleted member's state is cleared (empty retained payload) at the read after its device was.
 */
export function identityHaSource(config: Config): HaComponentSource {
  const base = config.mqtt.base_topic;
  const timeZone = siteTimeZone(config);
  const presenceMinutes = config.identity.presence_minutes;
  const thresholds = peopleThresholds(config);
  /** Per member, the state payload last published. */
  const published = new Map<number, string>();
  let visitorsPublished: string | undefined;
  /** The members as the last discovery run listed them, and their ids (undefined: no discovery run yet). */
  let discovered: string | undefined;
  let discoveredIds = new Set<number>();
  /** State reads run one after the other: an older reading is never published after a newer one. */
  let tail: Promise<unknown> = Promise.resolve();

  const readStates = async (db: Db, now: Date): Promise<HaUpdate> => {
    const members = await listMemberSummaries(db);
    const sightings = await lastMemberSightings(
      db,
      members.map((m) => m.id),
      thresholds,
    );
    const since = startOfLocalDay(now, timeZone);
    const visitors = await countVisitorsSince(db, since);
    const messages: HaMessage[] = [];
    const current = new Set<number>();
    for (const member of members) {
      current.add(member.id);
      const payload = JSON.stringify(memberStatePayload(sightings.get(member.id), now, presenceMinutes));
      if (published.get(member.id) === payload) continue;
      published.set(member.id, payload);
      messages.push({ topic: memberStateTopic(base, member.id), payload, retain: true });
    }
    // A deleted member's state is cleared once its device is gone (Home Assistant would read the empty payload).
    for (const id of [...published.keys()]) {
      if (current.has(id) || discoveredIds.has(id)) continue;
      published.delete(id);
      messages.push({ topic: memberStateTopic(base, id), payload: '', retain: true });
    }
    const visitorsPayload = JSON.stringify(visitorsTodayPayload(visitors, since));
    if (visitorsPayload !== visitorsPublished) {
      visitorsPublished = visitorsPayload;
      messages.push({ topic: visitorsTodayTopic(base), payload: visitorsPayload, retain: true });
    }
    return { messages, rediscover: discovered !== undefined && discovered !== signature(members) };
  };
  const states = (db: Db, now: Date): Promise<HaUpdate> => {
    const run = tail.then(() => readStates(db, now));
    tail = run.catch(() => undefined);
    return run;
  };

  /**
   * The stranger event, once per event id: on the first analysis of it that shows an unknown person. The claim is in
   * the database, so a restart between a visit's open and its close, or another bridge process, never fires twice.
   */
  const stranger = async (db: Db, event: EventRecord): Promise<HaMessage[]> => {
    const people = await peopleOfEvent(db, event.id, thresholds);
    if (people.unknown === 0 || !(await claimStrangerNotice(db, event.id))) return [];
    return [
      { topic: strangerEventTopic(base), payload: JSON.stringify(strangerEventPayload(event, people)), retain: false },
    ];
  };
  const onEvent = async (db: Db, event: EventRecord, now: Date): Promise<HaUpdate> => {
    const fire = await stranger(db, event);
    const update = await states(db, now);
    return { messages: [...fire, ...update.messages], rediscover: update.rediscover };
  };

  return {
    name: 'identity',
    hubComponents: identityHubComponents,
    async devices(db) {
      const members = await listMemberSummaries(db);
      discovered = signature(members);
      discoveredIds = new Set(members.map((m) => m.id));
      return members.map(memberDevice);
    },
    refresh: states,
    onBus: {
      'event.created': (db, { event }, now) => onEvent(db, event, now),
      'event.updated': (db, { event }, now) => onEvent(db, event, now),
      // A member added, renamed or removed through the API: their device follows at once, not at the next interval.
      'household.changed': (db, _change, now) => states(db, now),
    },
    async securityEventAttributes(db, event) {
      const [people, last] = await Promise.all([
        peopleOfEvent(db, event.id, thresholds),
        lastRecognizedOnCamera(db, event.cameraId, thresholds),
      ]);
      return securityEventPeople(people, last);
    },
  };
}
