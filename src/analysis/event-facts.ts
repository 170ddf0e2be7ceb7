import { type HouseMode, isCameraArmed, isZoneArmed } from '../domain/arming.js';
import { isNightAt, type SiteLocation } from '../domain/daylight.js';
import type { Fact } from '../domain/facts.js';
import { localTime } from '../domain/schedule.js';
import { toZoneHit, type ZoneHit } from '../domain/zones.js';
import type { AnalysisJob } from '../queue/contracts.js';
import { getHouseMode } from '../storage/arming.repository.js';
import { cameraAnalysisFacts } from '../storage/camera.repository.js';
import type { DbOrTx } from '../storage/database.js';
import { recentEventsOnCamera } from '../storage/event.repository.js';
import type { BatchDetectionRow } from '../storage/queries/batch-detections.js';
import { listZones } from '../storage/zone.repository.js';
import type { FactSource } from './facts.js';
import type { PromptInput } from './prompts.js';
import { objectStats, type ScorerInput } from './rules-scorer.js';

export type { BatchDetectionRow } from '../storage/queries/batch-detections.js';

export const RECENT_WINDOW_MINUTES = 60;

/** Everything the scorer, the prompt and the alert rules need about one closed batch, read in one place. */
export interface BatchFacts {
  cameraName: string;
  /** When the visit's first and last pictures were taken (its arrival when the camera's clock is not believed). */
  startedAt: Date;
  endedAt: Date;
  detections: BatchDetectionRow[];
  zonesHit: ZoneHit[];
  houseMode: HouseMode;
  /** The camera's whole view is armed (armed away, no zones, the camera not opted out). */
  cameraArmed: boolean;
  prompt: PromptInput;
  scorer: ScorerInput;
  confidenceByType: Record<string, number>;
  /** What the fact sources said (also inside `prompt` and `scorer`): kept in the event's audit row. */
  facts: Fact[];
}

/**
 * Per-type counts and confidences of a batch. "In one frame" means one real frame: a photo, or one sampled frame of
 * a clip (a clip's frames are not one frame: 8 frames of one person are one person, not 8).
 */
export function batchStats(
  detections: readonly Pick<BatchDetectionRow, 'mediaFileId' | 'frameIndex' | 'objectType' | 'confidence'>[],
) {
  return objectStats(
    detections.map((d) => ({
      objectType: d.objectType,
      confidence: d.confidence,
      frame: `${d.mediaFileId}/${d.frameIndex ?? 0}`,
    })),
  );
}

/** Where and in which timezone the site is: night, local times and schedules follow from it. */
export interface SiteFacts {
  timeZone: string;
  /** Null: night is 22:00-05:59 local time. */
  location: SiteLocation | null;
}

/**
 * The facts of one visit, read in one place: the core's (camera, zones, house mode, night, recent events), then
 * every fact source's. The prompt and the rules scorer get the same facts, spread from one object.
 */
export async function gatherFacts(
  db: DbOrTx,
  job: AnalysisJob,
  detections: BatchDetectionRow[],
  site: SiteFacts,
  sources: readonly FactSource[] = [],
): Promise<BatchFacts> {
  const { timeZone } = site;
  const camera = await cameraAnalysisFacts(db, job.cameraId);
  const cameraName = camera?.name ?? job.cameraId;
  const houseMode = await getHouseMode(db);
  const hitIds = new Set(detections.flatMap((d) => d.zoneIds));
  const zones = await listZones(db, job.cameraId);
  const cameraArmed = isCameraArmed(houseMode, {
    hasZones: zones.length > 0,
    armedWhenAway: camera?.armed_when_away ?? true,
  });
  const zonesHit = zones
    .filter((z) => hitIds.has(z.id))
    .sort((a, b) => b.priority - a.priority)
    .map((z) => toZoneHit(z, z.armed));
  // The visit is judged by when its pictures were taken (a backlog at the hour it happened), not when they arrived.
  const from = job.capturedFrom ?? job.startedAt;
  const to = Math.max(from, job.capturedTo ?? job.endedAt);
  const since = new Date(from - RECENT_WINDOW_MINUTES * 60_000);
  // Only events before this visit: its own event (same batch) and later ones are not its history.
  const recent = (await recentEventsOnCamera(db, job.cameraId, since, { before: new Date(from) })).filter(
    (e) => e.batchId !== job.batchId,
  );
  const at = new Date(from);
  const local = localTime(at, timeZone);
  const night = isNightAt(at, local.hour, site.location);
  const visit = {
    batchId: job.batchId,
    cameraId: job.cameraId,
    from: at,
    to: new Date(to),
    detectionIds: detections.map((d) => d.id),
    night,
    armed: cameraArmed || zonesHit.some((z) => isZoneArmed(houseMode, z.armed)),
    timeZone,
  };
  const facts: Fact[] = [];
  for (const source of sources) facts.push(...(await source.facts(db, visit)));
  const stats = batchStats(detections);
  const core = {
    cameraName,
    ...stats,
    detectionCount: detections.length,
    durationSeconds: Math.max(0, Math.round((to - from) / 1000)),
    night,
    zonesHit,
    cameraArmed,
    houseMode,
    facts,
  };
  return {
    cameraName,
    startedAt: at,
    endedAt: new Date(to),
    detections,
    zonesHit,
    houseMode,
    cameraArmed,
    confidenceByType: { ...stats.maxConfidence },
    facts,
    prompt: {
      ...core,
      at,
      timeZone,
      isFastPath: job.phase === 'open',
      recentEvents: recent.map((e) => ({ startedAt: e.startedAt, riskLevel: e.riskLevel, summary: e.summary })),
      recentWindowMinutes: RECENT_WINDOW_MINUTES,
    },
    scorer: {
      ...core,
      localHour: local.hour,
      localMinute: local.minute,
      weekday: local.weekday,
      recentEventsOnCamera: recent.length,
    },
  };
}
