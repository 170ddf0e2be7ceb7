import type { FactSource } from '../../analysis/facts.js';
import { entityHistory, sightingsOfDetections, zonePermissions } from './identity.repository.js';
import { identityFacts, RETURNING_WINDOW_DAYS, SOURCE, type VisitorHistory } from './identity-facts.js';
import { type PeopleThresholds, visitPeople } from './visit-people.js';

/** At most this many unknown people of a visit have their history looked up (a crowd is not a returning visitor). */
const HISTORY_LOOKUPS = 5;

/**
 * Identity as a fact source: who the visit's person detections were (faces and appearance, written by the frame
 * processors before the visit was batched), each member judged against their schedule and zone permissions at the
 * hour the pictures were taken, and the earlier visits of the unknown ones.
 */
export function identityFactSource(thresholds: PeopleThresholds): FactSource {
  return {
    name: SOURCE,
    async facts(db, visit) {
      const sightings = await sightingsOfDetections(db, visit.detectionIds);
      if (sightings.sightings.length === 0) return [];
      const people = visitPeople(sightings, thresholds);
      const journeys = [...new Set(sightings.sightings.flatMap((s) => (s.journey === null ? [] : [s.journey.id])))];
      const zones = [...new Set(people.members.flatMap((m) => m.zoneIds))];
      const since = new Date(visit.from.getTime() - RETURNING_WINDOW_DAYS * 86_400_000);
      const history: VisitorHistory[] = [];
      for (const entityId of people.unknownEntities.slice(0, HISTORY_LOOKUPS)) {
        history.push({ entityId, ...(await entityHistory(db, entityId, since, visit.from, journeys)) });
      }
      return identityFacts({
        people,
        at: visit.from,
        timeZone: visit.timeZone,
        night: visit.night,
        armed: visit.armed,
        zonePermissions: await zonePermissions(db, zones),
        history,
      });
    },
  };
}
