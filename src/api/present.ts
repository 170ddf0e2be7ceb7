import type { AlertRecord, EventRecord } from '../domain/events.js';
import type { Alert } from '../storage/alert.repository.js';
import type { StoredAlertRule } from '../storage/alert-rule.repository.js';
import type { AuditEntry } from '../storage/audit.repository.js';
import type { EventFeedback, LevelFeedbackSummary } from '../storage/feedback.repository.js';
import type { CameraRow } from '../storage/tables/camera.table.js';
import type { DetectionRow } from '../storage/tables/detection.table.js';
import type { SecurityEvent } from '../storage/tables/event.table.js';
import type { MediaFileRow } from '../storage/tables/media-file.table.js';
import type { StoredZone } from '../storage/zone.repository.js';

/** camelCase records → the API's snake_case JSON, one named function per resource; times as ISO 8601 strings. */

/** Dates may arrive as strings when an event crossed processes through the bus relay. */
export function iso(value: Date | string): string;
export function iso(value: Date | string | null): string | null;
export function iso(value: Date | string | null): string | null {
  if (value === null) return null;
  return typeof value === 'string' ? value : value.toISOString();
}

export function cameraJson(row: CameraRow) {
  return {
    id: row.id,
    name: row.name,
    folder_path: row.folder_path,
    status: row.status,
    detection_enabled: row.detection_enabled,
    armed_when_away: row.armed_when_away,
    created_at: iso(row.created_at),
    last_seen_at: iso(row.last_seen_at),
  };
}

/** The fields an event has on the bus and in the database alike. */
export function eventRecordJson(e: EventRecord) {
  return {
    id: e.id,
    batch_id: e.batchId,
    camera_id: e.cameraId,
    started_at: iso(e.startedAt),
    ended_at: iso(e.endedAt),
    risk_score: e.riskScore,
    risk_level: e.riskLevel,
    summary: e.summary,
    reasoning: e.reasoning,
    recommended_action: e.recommendedAction,
    object_types: e.objectTypes,
    detection_count: e.detectionCount,
    is_fast_path: e.isFastPath,
    analysis_source: e.analysisSource,
    closed_at: e.closedAt === null ? null : iso(e.closedAt),
  };
}

export function eventJson(e: SecurityEvent) {
  return {
    ...eventRecordJson(e),
    prompt_version: e.promptVersion,
    model: e.model,
    reviewed: e.reviewed,
    notes: e.notes,
    created_at: iso(e.createdAt),
  };
}

export function detectionJson(d: DetectionRow) {
  return {
    id: d.id,
    camera_id: d.camera_id,
    media_file_id: d.media_file_id,
    file_path: d.file_path,
    media_type: d.media_type,
    frame_index: d.frame_index,
    detected_at: iso(d.detected_at),
    object_type: d.object_type,
    confidence: d.confidence,
    bbox: { x: d.bbox_x, y: d.bbox_y, width: d.bbox_width, height: d.bbox_height },
    zone_ids: d.zone_ids,
    image_url: `/api/detections/${d.id}/image`,
    /** The crop, once written (when the detector is idle, with `detector.thumbnails` on); null until then. */
    thumbnail_url: d.thumbnail_path === null ? null : `/api/detections/${d.id}/thumbnail`,
  };
}

export function feedbackJson(f: EventFeedback) {
  return {
    event_id: f.eventId,
    feedback_type: f.feedbackType,
    notes: f.notes,
    expected_severity: f.expectedSeverity,
    created_at: iso(f.createdAt),
  };
}

export function feedbackSummaryJson(s: LevelFeedbackSummary) {
  return {
    level: s.level,
    events: s.events,
    share: s.share,
    with_feedback: s.withFeedback,
    false_positives: s.falsePositives,
    false_positive_share: s.falsePositiveShare,
  };
}

export function alertJson(a: Alert, cameraId: string | null) {
  return {
    id: a.id,
    event_id: a.eventId,
    rule_id: a.ruleId,
    camera_id: cameraId,
    severity: a.severity,
    status: a.status,
    dedup_key: a.dedupKey,
    message: a.message,
    metadata: a.metadata,
    created_at: iso(a.createdAt),
    updated_at: iso(a.updatedAt),
    delivered_at: iso(a.deliveredAt),
    acknowledged_at: iso(a.acknowledgedAt),
    dismissed_at: iso(a.dismissedAt),
    acknowledged_by: a.acknowledgedBy,
    dismissed_by: a.dismissedBy,
  };
}

/** An alert as the bus announces it (the WebSocket stream). */
export function alertRecordJson(a: AlertRecord) {
  return {
    id: a.id,
    event_id: a.eventId,
    rule_id: a.ruleId,
    camera_id: a.cameraId,
    severity: a.severity,
    status: a.status,
    dedup_key: a.dedupKey,
    message: a.message,
    created_at: iso(a.createdAt),
    acknowledged_by: a.acknowledgedBy ?? null,
    dismissed_by: a.dismissedBy ?? null,
  };
}

export function ruleJson(r: StoredAlertRule) {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    enabled: r.enabled,
    severity: r.severity,
    risk_threshold: r.riskThreshold,
    camera_ids: r.cameraIds,
    zone_ids: r.zoneIds,
    object_types: r.objectTypes,
    min_confidence: r.minConfidence,
    schedule: r.schedule,
    house_modes: r.houseModes,
    require_armed_zone: r.requireArmedZone,
    unknown_person: r.unknownPerson ?? false,
    person_ids: r.personIds ?? null,
    ignore_trusted: r.ignoreTrusted ?? false,
    dedup_key_template: r.dedupKeyTemplate,
    cooldown_seconds: r.cooldownSeconds,
    source: r.source,
    created_at: iso(r.createdAt),
    updated_at: iso(r.updatedAt),
  };
}

export function zoneJson(z: StoredZone) {
  return {
    id: z.id,
    camera_id: z.cameraId,
    name: z.name,
    zone_type: z.zoneType,
    shape: z.shape,
    color: z.color,
    enabled: z.enabled,
    priority: z.priority,
    armed: z.armed,
    source: z.source,
    created_at: iso(z.createdAt),
    updated_at: iso(z.updatedAt),
  };
}

export function auditJson(a: AuditEntry) {
  return {
    id: a.id,
    timestamp: iso(a.timestamp),
    action: a.action,
    resource_type: a.resourceType,
    resource_id: a.resourceId,
    actor: a.actor,
    details: a.details,
    ip_address: a.ipAddress,
    user_agent: a.userAgent,
    status: a.status,
  };
}

/** A media file whose detection exhausted its retries (a dead letter). */
export function failedMediaJson(m: MediaFileRow) {
  return {
    id: m.id,
    camera_id: m.camera_id,
    path: m.path,
    media_type: m.media_type,
    attempts: m.attempts,
    error_code: m.error_code,
    error: m.error,
    failed_at: iso(m.processed_at ?? m.updated_at),
  };
}
