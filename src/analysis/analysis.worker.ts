import type { AlertService } from '../alerts/alert.service.js';
import type { SiteLocation } from '../domain/daylight.js';
import type { BusEvents } from '../domain/events.js';
import { factAuditData, peopleSeen } from '../domain/facts.js';
import type { Clock } from '../lib/clock.js';
import type { EventBus } from '../lib/event-bus.js';
import type { Logger } from '../lib/logger.js';
import type { AnalysisJob, JobHandler } from '../queue/contracts.js';
import { recordEventAudit } from '../storage/audit.repository.js';
import type { Db, DbOrTx } from '../storage/database.js';
import {
  eventDetectionIds,
  eventToRecord,
  getEventByBatch,
  insertEventForBatch,
  lockEventByBatch,
  markAlertsEvaluated,
  type SecurityEvent,
  updateEventForVisit,
} from '../storage/event.repository.js';
import { ensurePromptVersion } from '../storage/prompt-version.repository.js';
import { detectionsByIds, unclaimedDetections } from '../storage/queries/batch-detections.js';
import { type AssessRiskResult, assessRisk } from './assess-with-fallback.js';
import { type BatchFacts, gatherFacts, type SiteFacts } from './event-facts.js';
import type { FactSource } from './facts.js';
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
  /** The site's latitude and longitude: night from dusk to dawn. Absent or null: night is 22:00-05:59. */
  location?: SiteLocation | null;
  /** The enabled features' fact sources, asked about every visit; absent: none. */
  factSources?: readonly FactSource[];
}

const siteOf = (deps: AnalysisWorkerDeps): SiteFacts => ({ timeZone: deps.timeZone, location: deps.location ?? null });

/**
 * The analysis stage. A visit's event has a lifecycle: the `open` job (fast path) creates it at once from one
 * frame's detections, still open; the `close` job (the batch closed) links the rest of the visit's detections,
 * analyses the whole visit once more and closes the event (or creates it closed when no fast path opened it).
 * `batch_id` is unique, so retries and replays never yield two events; only detections no other event claimed are
 * linked, so every detection ends in exactly one event. The LLM scores, or the rules (they take over when the LLM
 * fails twice); then the alert rules.
 */
export function createAnalysisHandler(deps: AnalysisWorkerDeps): JobHandler<AnalysisJob> {
  return async (job) => {
    if (job.phase === 'open') await openVisit(deps, job);
    else await closeVisit(deps, job);
  };
}

async function openVisit(deps: AnalysisWorkerDeps, job: AnalysisJob): Promise<void> {
  const log = deps.log.child({ camera_id: job.cameraId, batch_id: job.batchId });
  const existing = await getEventByBatch(deps.db, job.batchId);
  if (existing !== undefined) {
    // Opened before a crash or a retry (or the batch closed first): only make sure its alerts exist.
    await evaluateAlerts(deps, existing, await factsOfEvent(deps, job, existing));
    return;
  }
  const detections = await unclaimedDetections(deps.db, job.detectionIds);
  if (detections.length === 0) {
    log.debug('every detection of the frame already belongs to an event');
    return;
  }
  const facts = await gatherFacts(deps.db, job, detections, siteOf(deps), deps.factSources);
  const analysed = await analyse(deps, facts);
  const event = await deps.db.transaction().execute(async (tx) => {
    const ids = (
      await unclaimedDetections(
        tx,
        detections.map((d) => d.id),
      )
    ).map((d) => d.id);
    if (ids.length === 0) return undefined;
    const { event, created } = await insertEventForBatch(
      tx,
      { ...(await eventFields(tx, deps, job, facts, analysed)), closedAt: null, alertsDue: true },
      ids,
    );
    if (!created) return undefined;
    await auditAnalysis(tx, deps, event.id, analysed);
    return event;
  });
  if (event === undefined) return;
  log.info(
    {
      event_id: event.id,
      lifecycle: 'new',
      risk_score: event.riskScore,
      risk_level: event.riskLevel,
      source: event.analysisSource,
      detections: event.detectionCount,
    },
    'security event',
  );
  deps.bus.emit('event.created', { event: eventToRecord(event), latencyMs: deps.clock.now() - job.closedAt });
  await evaluateAlerts(deps, event, facts);
}

async function closeVisit(deps: AnalysisWorkerDeps, job: AnalysisJob): Promise<void> {
  const log = deps.log.child({ camera_id: job.cameraId, batch_id: job.batchId });
  const existing = await getEventByBatch(deps.db, job.batchId);
  if (existing !== undefined && existing.closedAt !== null) {
    // Closed before a crash or a retry: only make sure its alerts exist (idempotent per event).
    await evaluateAlerts(deps, existing, await factsOfEvent(deps, job, existing));
    return;
  }
  const fresh = await unclaimedDetections(deps.db, job.detectionIds);
  if (existing === undefined && fresh.length === 0) {
    log.debug('every detection of the batch already belongs to an event');
    return;
  }
  const linked =
    existing === undefined ? [] : await detectionsByIds(deps.db, await eventDetectionIds(deps.db, existing.id));
  const visit = [...linked, ...fresh].sort((a, b) => a.id - b.id);
  const facts = await gatherFacts(deps.db, job, visit, siteOf(deps), deps.factSources);
  // Nothing joined the opened event: its analysis stands; the visit only closes.
  const analysed = fresh.length === 0 ? undefined : await analyse(deps, facts);
  const outcome = await deps.db.transaction().execute(async (tx) => {
    const locked = await lockEventByBatch(tx, job.batchId);
    const ids = (
      await unclaimedDetections(
        tx,
        fresh.map((d) => d.id),
      )
    ).map((d) => d.id);
    const closedAt = new Date(deps.clock.now());
    if (locked === undefined) {
      if (analysed === undefined || ids.length === 0) return undefined;
      const fields = await eventFields(tx, deps, job, facts, analysed);
      const { event, created } = await insertEventForBatch(tx, { ...fields, closedAt, alertsDue: true }, ids);
      if (!created) return undefined;
      await auditAnalysis(tx, deps, event.id, analysed);
      return { event, previous: undefined };
    }
    if (locked.closedAt !== null) return undefined;
    const update = analysed === undefined ? keep(locked) : await eventFields(tx, deps, job, facts, analysed);
    const kept = neverLower(locked, update);
    const event = await updateEventForVisit(
      tx,
      locked.id,
      {
        ...kept,
        startedAt: new Date(Math.min(locked.startedAt.getTime(), facts.startedAt.getTime())),
        endedAt: new Date(Math.max(locked.endedAt.getTime(), facts.endedAt.getTime())),
        objectTypes: Object.keys(facts.prompt.objectCounts).sort(),
        closedAt,
      },
      ids,
    );
    if (analysed !== undefined) await auditAnalysis(tx, deps, event.id, analysed);
    return { event, previous: locked };
  });
  if (outcome === undefined) return;
  const { event, previous } = outcome;
  const latencyMs = deps.clock.now() - job.closedAt;
  log.info(
    {
      event_id: event.id,
      lifecycle: previous === undefined ? 'new+end' : 'end',
      risk_score: event.riskScore,
      risk_level: event.riskLevel,
      source: event.analysisSource,
      detections: event.detectionCount,
    },
    'security event',
  );
  if (previous === undefined) deps.bus.emit('event.created', { event: eventToRecord(event), latencyMs });
  else deps.bus.emit('event.updated', { event: eventToRecord(event), previous: eventToRecord(previous), latencyMs });
  await evaluateAlerts(deps, event, facts);
}

/**
 * The alert step of an analysis: the rules, then the event records that this analysis version's alerts were
 * evaluated. Until then the event counts as "alerts due" and `catchUpAlerts` evaluates it again (a crash in between
 * loses no alert; evaluation is idempotent: one alert per event).
 */
async function evaluateAlerts(deps: AnalysisWorkerDeps, event: SecurityEvent, facts: BatchFacts): Promise<void> {
  await deps.alerts.evaluate(event, alertFacts(facts, deps.timeZone));
  await markAlertsEvaluated(deps.db, event.id, event.analysisVersion);
}

/**
 * Evaluates the alerts of an event whose analysis was stored but whose alerts were not (the process died in
 * between): at start and by the sweep.
 */
export async function catchUpAlerts(deps: AnalysisWorkerDeps, event: SecurityEvent): Promise<void> {
  const job: AnalysisJob = {
    batchId: event.batchId,
    cameraId: event.cameraId,
    phase: event.closedAt === null ? 'open' : 'close',
    detectionIds: [],
    isFastPath: event.isFastPath,
    reason: event.closedAt === null ? 'fast_path' : 'idle',
    startedAt: event.startedAt.getTime(),
    endedAt: event.endedAt.getTime(),
    closedAt: deps.clock.now(),
  };
  await evaluateAlerts(deps, event, await factsOfEvent(deps, job, event));
}

interface Analysed {
  prompt: string;
  result: AssessRiskResult;
  durationMs: number;
  /** The fact sources' data, by source, and the people seen: kept in the audit row. */
  facts: Record<string, unknown>;
}

async function analyse(deps: AnalysisWorkerDeps, facts: BatchFacts): Promise<Analysed> {
  const prompt = buildRiskPrompt(facts.prompt);
  const started = deps.clock.now();
  const result = await assessRisk({ llm: deps.llm, prompt, rulesInput: facts.scorer, scoreWithRules: scoreEvent });
  const durationMs = deps.clock.now() - started;
  if (result.errors.length > 0) {
    deps.log.warn({ camera_id: facts.cameraName, errors: result.errors, source: result.source }, 'LLM analysis failed');
  }
  return { prompt: prompt.user, result, durationMs, facts: factAuditData(facts.facts) };
}

/** The event columns an analysis sets (prompt version registered when the LLM was used). */
async function eventFields(
  tx: DbOrTx,
  deps: AnalysisWorkerDeps,
  job: AnalysisJob,
  facts: BatchFacts,
  analysed: Analysed,
) {
  const usedLlm = deps.llm !== undefined;
  const { result } = analysed;
  if (usedLlm) await ensurePromptVersion(tx, PROMPT_VERSION, buildRiskPrompt(facts.prompt).system);
  const a = result.assessment;
  return {
    batchId: job.batchId,
    cameraId: job.cameraId,
    startedAt: facts.startedAt,
    endedAt: facts.endedAt,
    riskScore: a.riskScore,
    riskLevel: a.riskLevel,
    summary: a.summary,
    reasoning: a.reasoning,
    recommendedAction: a.recommendedAction,
    llmPrompt: usedLlm ? analysed.prompt : null,
    analysisSource: result.source,
    promptVersion: usedLlm ? PROMPT_VERSION : null,
    model: result.model ?? (usedLlm ? (deps.llm?.model ?? null) : null),
    objectTypes: Object.keys(facts.prompt.objectCounts).sort(),
    isFastPath: job.isFastPath,
  };
}

/** What an analysis sets on its event. */
const ANALYSIS_FIELDS = [
  'riskScore',
  'riskLevel',
  'summary',
  'reasoning',
  'recommendedAction',
  'llmPrompt',
  'analysisSource',
  'promptVersion',
  'model',
] as const satisfies readonly (keyof SecurityEvent)[];

type AnalysisFields = Pick<SecurityEvent, (typeof ANALYSIS_FIELDS)[number]>;

/** The analysis an event has now. */
function keep(event: SecurityEvent): AnalysisFields {
  return Object.fromEntries(ANALYSIS_FIELDS.map((field) => [field, event[field]])) as unknown as AnalysisFields;
}

/**
 * A visit's risk never drops while it goes on: what was announced (and may have raised an alert) stands. When the
 * re-analysis of the whole visit scores lower, the earlier analysis is kept and its reasoning says so.
 */
function neverLower(previous: SecurityEvent, next: AnalysisFields): AnalysisFields {
  if (next.riskScore >= previous.riskScore) return next;
  return {
    ...keep(previous),
    reasoning: `${previous.reasoning} Re-analysed with the whole visit: ${next.riskScore} (${next.riskLevel}); the visit keeps its higher score.`,
  };
}

async function auditAnalysis(tx: DbOrTx, deps: AnalysisWorkerDeps, eventId: number, analysed: Analysed) {
  const usedLlm = deps.llm !== undefined;
  const { result, durationMs } = analysed;
  await recordEventAudit(tx, {
    eventId,
    analysisSource: result.source,
    promptVersion: usedLlm ? PROMPT_VERSION : null,
    model: result.model ?? (usedLlm ? (deps.llm?.model ?? null) : null),
    durationMs,
    llmAttempts: result.attempts,
    rawResponse: result.raw ?? (result.errors.length > 0 ? result.errors.join('\n') : null),
    corrections: result.corrections === undefined ? null : { ...result.corrections },
    facts: Object.keys(analysed.facts).length === 0 ? null : analysed.facts,
  });
}

async function factsOfEvent(deps: AnalysisWorkerDeps, job: AnalysisJob, event: SecurityEvent) {
  const ids = await eventDetectionIds(deps.db, event.id);
  // Only the alert rules read these facts, but a source may know what they need (who was seen).
  return gatherFacts(deps.db, job, await detectionsByIds(deps.db, ids), siteOf(deps), deps.factSources);
}

function alertFacts(facts: BatchFacts, timezone: string) {
  return {
    confidenceByType: facts.confidenceByType,
    zones: facts.zonesHit,
    houseMode: facts.houseMode,
    cameraArmed: facts.cameraArmed,
    timezone,
    people: peopleSeen(facts.facts),
  };
}
