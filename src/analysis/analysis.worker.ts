import type { AlertService } from '../alerts/alert.service.js';
import type { BusEvents, EventRecord } from '../domain/events.js';
import type { Clock } from '../lib/clock.js';
import type { EventBus } from '../lib/event-bus.js';
import type { Logger } from '../lib/logger.js';
import type { AnalysisJob, JobHandler } from '../queue/contracts.js';
import { recordEventAudit } from '../storage/audit.repository.js';
import type { Db } from '../storage/database.js';
import { getEventByBatch, insertEventForBatch, type SecurityEvent } from '../storage/event.repository.js';
import { ensurePromptVersion } from '../storage/prompt-version.repository.js';
import { type AssessRiskResult, assessRisk } from './assess-with-fallback.js';
import { type BatchFacts, gatherFacts, unclaimedDetections } from './event-facts.js';
import type { LlmClient } from './llm-client.js';
import { buildRiskPrompt, PROMPT_VERSION } from './prompts.js';
import { scoreEvent } from './rules-scorer.js';

export interface AnalysisWorkerDeps {
  db: Db;
  bus: EventBus<BusEvents>;
  log: Logger;
  clock: Clock;
  alerts: AlertService;
  /** Undefined: the rules scorer decides every event. */
  llm: LlmClient | undefined;
  timeZone: string;
}

export function eventToRecord(e: SecurityEvent): EventRecord {
  return {
    id: e.id,
    batchId: e.batchId,
    cameraId: e.cameraId,
    startedAt: e.startedAt,
    endedAt: e.endedAt,
    riskScore: e.riskScore,
    riskLevel: e.riskLevel,
    summary: e.summary,
    reasoning: e.reasoning,
    recommendedAction: e.recommendedAction,
    objectTypes: e.objectTypes,
    detectionCount: e.detectionCount,
    isFastPath: e.isFastPath,
    analysisSource: e.analysisSource,
    closedAt: e.closedAt,
  };
}

/**
 * The analysis stage: one closed batch in, one security event out (batch_id is unique, so retries and replays
 * never yield two), scored by the LLM or the rules (the rules take over when the LLM fails twice), then the
 * alert rules. Only detections no other event claimed are linked, so every detection ends in exactly one event.
 */
export function createAnalysisHandler(deps: AnalysisWorkerDeps): JobHandler<AnalysisJob> {
  return async (job) => {
    const log = deps.log.child({ camera_id: job.cameraId, batch_id: job.batchId });
    const existing = await getEventByBatch(deps.db, job.batchId);
    if (existing !== undefined) {
      // Analysed before a crash or a retry: only make sure its alerts exist (idempotent per rule).
      const detections = await deps.db
        .selectFrom('event_detections')
        .select('detection_id')
        .where('event_id', '=', existing.id)
        .execute();
      const facts = await gatherFacts(
        deps.db,
        job,
        await detectionsOf(
          deps.db,
          detections.map((d) => d.detection_id),
        ),
        deps.timeZone,
      );
      await deps.alerts.evaluate(existing, alertFacts(facts, deps.timeZone));
      return;
    }
    const detections = await unclaimedDetections(deps.db, job.detectionIds);
    if (detections.length === 0) {
      log.debug('every detection of the batch already belongs to an event');
      return;
    }
    const facts = await gatherFacts(deps.db, job, detections, deps.timeZone);
    const prompt = buildRiskPrompt(facts.prompt);
    const started = deps.clock.now();
    const result = await assessRisk({ llm: deps.llm, prompt, rulesInput: facts.scorer, scoreWithRules: scoreEvent });
    const durationMs = deps.clock.now() - started;
    if (result.errors.length > 0) log.warn({ errors: result.errors, source: result.source }, 'LLM analysis failed');
    const event = await store(deps, job, facts, prompt.user, result, durationMs);
    if (event === undefined) return;
    log.info(
      { event_id: event.id, risk_score: event.riskScore, risk_level: event.riskLevel, source: event.analysisSource },
      'security event',
    );
    deps.bus.emit('event.created', { event: eventToRecord(event), latencyMs: deps.clock.now() - job.closedAt });
    await deps.alerts.evaluate(event, alertFacts(facts, deps.timeZone));
  };
}

async function store(
  deps: AnalysisWorkerDeps,
  job: AnalysisJob,
  facts: BatchFacts,
  userPrompt: string,
  result: AssessRiskResult,
  durationMs: number,
): Promise<SecurityEvent | undefined> {
  const usedLlm = deps.llm !== undefined;
  return deps.db.transaction().execute(async (tx) => {
    // Claimed again under the transaction: an overlapping batch may have linked some meanwhile.
    const ids = (
      await unclaimedDetections(
        tx,
        facts.detections.map((d) => d.id),
      )
    ).map((d) => d.id);
    if (ids.length === 0) return undefined;
    if (usedLlm) await ensurePromptVersion(tx, PROMPT_VERSION, buildRiskPrompt(facts.prompt).system);
    const a = result.assessment;
    const { event, created } = await insertEventForBatch(
      tx,
      {
        batchId: job.batchId,
        cameraId: job.cameraId,
        startedAt: new Date(job.startedAt),
        endedAt: new Date(job.endedAt),
        riskScore: a.riskScore,
        riskLevel: a.riskLevel,
        summary: a.summary,
        reasoning: a.reasoning,
        recommendedAction: a.recommendedAction,
        llmPrompt: usedLlm ? userPrompt : null,
        analysisSource: result.source,
        promptVersion: usedLlm ? PROMPT_VERSION : null,
        model: result.model ?? (usedLlm ? (deps.llm?.model ?? null) : null),
        objectTypes: Object.keys(facts.prompt.objectCounts).sort(),
        isFastPath: job.isFastPath,
      },
      ids,
    );
    if (!created) return undefined;
    await recordEventAudit(tx, {
      eventId: event.id,
      analysisSource: result.source,
      promptVersion: usedLlm ? PROMPT_VERSION : null,
      model: result.model ?? (usedLlm ? (deps.llm?.model ?? null) : null),
      durationMs,
      llmAttempts: result.attempts,
      rawResponse: result.raw ?? (result.errors.length > 0 ? result.errors.join('\n') : null),
      corrections: result.corrections === undefined ? null : { ...result.corrections },
    });
    return event;
  });
}

function detectionsOf(db: Db, ids: number[]) {
  if (ids.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('detections')
    .select(['id', 'media_file_id as mediaFileId', 'object_type as objectType', 'confidence', 'zone_ids as zoneIds'])
    .where('id', 'in', ids)
    .execute();
}

function alertFacts(facts: BatchFacts, timezone: string) {
  return { confidenceByType: facts.confidenceByType, zones: facts.zonesHit, houseMode: facts.houseMode, timezone };
}
