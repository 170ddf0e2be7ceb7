import type { PromptInput } from '../../src/analysis/prompts.js';
import type { ScorerInput } from '../../src/analysis/rules-scorer.js';
import type { AlertRecord, DetectionRecord, EventRecord } from '../../src/domain/events.js';
import type { ZoneHit } from '../../src/domain/zones.js';
import { feedbackFacts } from '../../src/features/owner-feedback/feedback-facts.js';
import type { SystemHealth } from '../../src/mqtt/payloads.js';
import type { NewEvent } from '../../src/storage/tables/event.table.js';

/**
 * Fixture builders: one realistic default per record or analysis input, changed per test with overrides. The
 * single place tests construct these types, so a new field is added here once.
 */

/** The porch zone (an armed entry point); override for other zones. */
export function zoneHit(overrides: Partial<ZoneHit> = {}): ZoneHit {
  return { id: 'porch', name: 'Porch', zoneType: 'entry_point', armed: true, ...overrides };
}

/**
 * Three detections of one person at Front Door on a Tuesday at 14:00, house disarmed, nothing recent, no feedback
 * (the owner-feedback feature's facts, as every analysis has them).
 */
export function scorerInput(overrides: Partial<ScorerInput> = {}): ScorerInput {
  return {
    cameraName: 'Front Door',
    objectCounts: { person: 3 },
    maxConfidence: { person: 0.88 },
    detectionCount: 3,
    localHour: 14,
    weekday: 'tue',
    zonesHit: [],
    houseMode: 'disarmed',
    recentEventsOnCamera: 0,
    facts: feedbackFacts([], 30),
    ...overrides,
  };
}

/** The same visit as `scorerInput()` as the LLM prompt sees it: Tuesday 2024-05-14 14:05 UTC, 12 s long. */
export function promptInput(overrides: Partial<PromptInput> = {}): PromptInput {
  return {
    cameraName: 'Front Door',
    at: new Date('2024-05-14T14:05:00Z'),
    timeZone: 'UTC',
    objectCounts: { person: 3 },
    maxConfidence: { person: 0.88 },
    detectionCount: 3,
    durationSeconds: 12,
    isFastPath: false,
    zonesHit: [],
    houseMode: 'disarmed',
    recentEvents: [],
    recentWindowMinutes: 60,
    facts: feedbackFacts([], 30),
    ...overrides,
  };
}

let batches = 0;

/** An event to store (`insertEventForBatch`): a rules-scored, final, low-risk person event at front_door. */
export function newEvent(overrides: Partial<NewEvent> = {}): NewEvent {
  batches += 1;
  const startedAt = overrides.startedAt ?? new Date('2026-03-01T10:00:00Z');
  return {
    batchId: `front_door:builder-${batches}`,
    cameraId: 'front_door',
    startedAt,
    endedAt: startedAt,
    riskScore: 20,
    riskLevel: 'low',
    summary: 'A person at the front door',
    reasoning: '',
    recommendedAction: null,
    llmPrompt: null,
    analysisSource: 'rules',
    promptVersion: null,
    model: null,
    objectTypes: ['person'],
    isFastPath: false,
    ...overrides,
  };
}

/** A person detected at the front door at night, as the bus and MQTT see it. */
export function detectionRecord(overrides: Partial<DetectionRecord> = {}): DetectionRecord {
  return {
    id: 41,
    cameraId: 'front_door',
    mediaFileId: 7,
    filePath: '/media/Front Door/2026-11-24/snap_001.jpg',
    detectedAt: new Date('2026-11-24T21:14:03.250Z'),
    objectType: 'person',
    confidence: 0.93,
    bbox: { x: 120, y: 40.5, width: 88, height: 210 },
    thumbnailPath: '/data/thumbs/front_door/7-0.jpg',
    frameIndex: null,
    ...overrides,
  };
}

/** The open (fast-path) medium-risk event of `detectionRecord()`'s visit. */
export function eventRecord(overrides: Partial<EventRecord> = {}): EventRecord {
  return {
    id: 12,
    batchId: 'front_door:1764018843250',
    cameraId: 'front_door',
    startedAt: new Date('2026-11-24T21:14:03.250Z'),
    endedAt: new Date('2026-11-24T21:15:10.000Z'),
    riskScore: 52,
    riskLevel: 'medium',
    summary: 'Unknown person lingering at the front door',
    reasoning: 'Person stayed 60 s near the door at night',
    recommendedAction: null,
    objectTypes: ['person'],
    detectionCount: 6,
    isFastPath: true,
    analysisSource: 'rules_fallback',
    closedAt: null,
    ...overrides,
  };
}

/** A pending high alert of `eventRecord()`. */
export function alertRecord(overrides: Partial<AlertRecord> = {}): AlertRecord {
  const id = overrides.id ?? '0b7c1c52-6a0e-4d3e-9a51-3f0c2d1e0a01';
  return {
    id,
    eventId: 12,
    ruleId: 'night-door',
    severity: 'high',
    status: 'pending',
    dedupKey: 'front_door:night-door',
    message: `alert ${id}`,
    cameraId: 'front_door',
    createdAt: new Date('2026-11-24T21:14:05.000Z'),
    ...overrides,
  };
}

/** A system health reading with everything idle, as the bridge's health source reports it; fields overridable. */
export function systemHealth(overrides: Partial<SystemHealth> = {}): SystemHealth {
  return {
    version: '9.9.9',
    uptimeS: 1,
    queues: { detection: 0, analysis: 0 },
    inferenceMs: { p50: null, p95: null },
    deadLetters: 0,
    camerasOnline: 0,
    camerasTotal: 0,
    llmReachable: null,
    eventsToday: 0,
    failedLogins: 0,
    ingest: null,
    ...overrides,
  };
}
