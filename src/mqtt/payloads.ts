import type { AlertStatus } from '../domain/alert-lifecycle.js';
import type { HouseMode } from '../domain/arming.js';
import type { AlertRecord, DetectionRecord, EventRecord } from '../domain/events.js';

/**
 * MQTT payloads as external formats: snake_case JSON built from the bus records in one place each. Pure.
 * Times are ISO 8601 UTC strings; absent values are `null`, never missing keys.
 */

export const ACTIVE_ALERTS_SHOWN = 10;

const ACTIVE_STATUSES: readonly AlertStatus[] = ['pending', 'delivered'];

/**
 * `hsi/detections/<camera_id>/<object_type>`: one message per kept detection. `thumbnail` is the HTTP API path of
 * its crop (`GET /api/detections/<id>/thumbnail`): stable from the first message, answering 404 until the crop is
 * written (the detector writes crops when it is idle; never with `detector.thumbnails` off).
 */
export function detectionPayload(detection: DetectionRecord) {
  return {
    id: detection.id,
    camera_id: detection.cameraId,
    object_type: detection.objectType,
    confidence: detection.confidence,
    bbox: {
      x: detection.bbox.x,
      y: detection.bbox.y,
      width: detection.bbox.width,
      height: detection.bbox.height,
    },
    file: detection.filePath,
    media_file_id: detection.mediaFileId,
    frame_index: detection.frameIndex,
    thumbnail: `/api/detections/${detection.id}/thumbnail`,
    detected_at: detection.detectedAt.toISOString(),
  };
}

/**
 * What happened to a visit's event: `new` when it opens (once per visit), `update` when more detections were
 * analysed, `end` once when its batch closed (the final analysis; right after `new` for an event created final).
 */
export type EventChange = 'new' | 'update' | 'end';

/** The change an `event.updated` announces: `end` once the event is closed, else `update`. */
export const eventUpdateChange = (event: Pick<EventRecord, 'closedAt'>): EventChange =>
  event.closedAt === null ? 'update' : 'end';

/** `hsi/events/<camera_id>`: one message per change of a security event (`type`: new, update, end). */
export function eventPayload(type: EventChange, event: EventRecord) {
  return {
    type,
    id: event.id,
    batch_id: event.batchId,
    camera_id: event.cameraId,
    risk_score: event.riskScore,
    risk_level: event.riskLevel,
    summary: event.summary,
    reasoning: event.reasoning,
    recommended_action: event.recommendedAction,
    object_types: [...event.objectTypes],
    detection_count: event.detectionCount,
    started_at: event.startedAt.toISOString(),
    ended_at: event.endedAt.toISOString(),
    is_fast_path: event.isFastPath,
    analysis_source: event.analysisSource,
    closed_at: event.closedAt === null ? null : event.closedAt.toISOString(),
  };
}

/** Camera `security_event` entity: fires once per visit (its `new`); the other keys become event attributes. */
export function securityEventEntityPayload(event: EventRecord) {
  return {
    event_type: event.riskLevel,
    event_id: event.id,
    risk_score: event.riskScore,
    summary: event.summary,
    object_types: [...event.objectTypes],
    started_at: event.startedAt.toISOString(),
  };
}

/**
 * Retained on `hsi/cameras/<id>/risk`: the state of `risk_score` and `risk_level` (value templates pick one key)
 * and the attributes of `risk_score`.
 */
export function riskStatePayload(event: EventRecord) {
  return {
    risk_score: event.riskScore,
    risk_level: event.riskLevel,
    event_id: event.id,
    summary: event.summary,
    reasoning: event.reasoning,
    object_types: [...event.objectTypes],
    started_at: event.startedAt.toISOString(),
  };
}

function alertFields(alert: AlertRecord) {
  return {
    id: alert.id,
    event_id: alert.eventId,
    rule_id: alert.ruleId,
    severity: alert.severity,
    status: alert.status,
    camera_id: alert.cameraId,
    message: alert.message,
    dedup_key: alert.dedupKey,
    created_at: alert.createdAt.toISOString(),
  };
}

/** `escalated`: a later analysis of the alert's event raised its severity (the same alert, never a second one). */
export type AlertChange = 'new' | 'escalated' | 'acknowledged' | 'dismissed';

/**
 * `hsi/alerts/<severity>`: one message per alert change. `acknowledged_by` / `dismissed_by`: who did it, as the audit
 * log names it (`mqtt`, `api`, `api:ingress`); null until then.
 */
export function alertStreamPayload(type: AlertChange, alert: AlertRecord) {
  return {
    type,
    ...alertFields(alert),
    acknowledged_by: alert.acknowledgedBy ?? null,
    dismissed_by: alert.dismissedBy ?? null,
  };
}

/** Hub `alert` entity: fires once per new alert, with the alert as attributes. */
export function alertEventEntityPayload(alert: AlertRecord) {
  const { severity, id, ...rest } = alertFields(alert);
  return { event_type: severity, alert_id: id, ...rest };
}

/**
 * Retained on `hsi/hub/active_alerts`: `count` is the sensor's state (pending + delivered alerts), `alerts` the
 * newest ten as attributes. Pass `total` when `alerts` is only the newest page of a longer list.
 */
export function activeAlertsPayload(alerts: readonly AlertRecord[], total?: number) {
  const active = alerts
    .filter((alert) => ACTIVE_STATUSES.includes(alert.status))
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  return {
    count: total ?? active.length,
    alerts: active.slice(0, ACTIVE_ALERTS_SHOWN).map((alert) => ({
      id: alert.id,
      severity: alert.severity,
      camera: alert.cameraId,
      summary: alert.message,
      created_at: alert.createdAt.toISOString(),
    })),
  };
}

export interface SystemHealth {
  version: string;
  uptimeS: number;
  queues: { detection: number; analysis: number };
  /** Inference time percentiles over the recent window; null before the first inference. */
  inferenceMs: { p50: number | null; p95: number | null };
  deadLetters: number;
  camerasOnline: number;
  camerasTotal: number;
  /** null when no LLM is configured (rules scorer only). */
  llmReachable: boolean | null;
  eventsToday: number;
  /**
   * Refused logins and alarm codes since start: wrong passwords at the embedded broker, connections refused for
   * HSI's own client id or a locked-out address, wrong or locked-out alarm panel codes.
   */
  failedLogins: number;
  /** Whether uploads are watched (false: the media root is gone, with why); null without the ingest role here. */
  ingest: { ok: boolean; reason: string | null } | null;
}

const oneDecimal = (ms: number | null): number | null => (ms === null ? null : Math.round(ms * 10) / 10);

/** Retained on `hsi/health/system`; the hub's diagnostic sensors read it with value templates. */
export function systemHealthPayload(health: SystemHealth) {
  return {
    version: health.version,
    uptime_s: Math.floor(health.uptimeS),
    queues: { detection: health.queues.detection, analysis: health.queues.analysis },
    inference_ms: { p50: oneDecimal(health.inferenceMs.p50), p95: oneDecimal(health.inferenceMs.p95) },
    dead_letters: health.deadLetters,
    cameras_online: health.camerasOnline,
    cameras_total: health.camerasTotal,
    llm_reachable: health.llmReachable,
    events_today: health.eventsToday,
    failed_logins: health.failedLogins,
    ingest_ok: health.ingest?.ok ?? null,
    ingest_problem: health.ingest?.reason ?? null,
  };
}

export type CommandResult = { ok: true; data?: unknown } | { ok: false; error: string };

/** `hsi/response/<command path>`: `{status, data, error, transaction}`, every key always present. */
export function commandResponsePayload(result: CommandResult, transaction?: string | number | null) {
  return {
    status: result.ok ? ('ok' as const) : ('error' as const),
    data: result.ok ? (result.data ?? null) : null,
    error: result.ok ? null : result.error,
    transaction: transaction ?? null,
  };
}

/** Switch and binary sensor states. */
export const onOff = (on: boolean): 'ON' | 'OFF' => (on ? 'ON' : 'OFF');

/** Camera health (`hsi/health/cameras/<id>`), also the availability of the camera's entities. */
export const cameraStatus = (online: boolean): 'online' | 'offline' => (online ? 'online' : 'offline');

/** The alarm panel's state: the house mode, or `triggered` while an armed alarm goes off. */
export const alarmStatePayload = (mode: HouseMode, triggered = false): HouseMode | 'triggered' =>
  triggered ? 'triggered' : mode;
