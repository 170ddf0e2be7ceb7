import type { AlertStatus } from './alert-lifecycle.js';
import type { HouseMode } from './arming.js';
import type { BBox } from './detection.js';
import type { RiskLevel } from './risk.js';

/** What the pipeline stages announce on the event bus. Payloads are plain data, safe to serialise. */

export type MediaType = 'image' | 'video';

export interface DetectionRecord {
  id: number;
  cameraId: string;
  mediaFileId: number;
  filePath: string;
  detectedAt: Date;
  objectType: string;
  confidence: number;
  bbox: BBox;
  thumbnailPath: string | null;
  frameIndex: number | null;
}

export interface BusEvents {
  'camera.created': { cameraId: string; name: string; folderPath: string };
  'media.ingested': { mediaFileId: number; cameraId: string; path: string; mediaType: MediaType };
  'media.duplicate': { cameraId: string; path: string; duplicateOf: number };
  'media.rejected': { mediaFileId: number | null; cameraId: string | null; path: string; code: string; reason: string };
  'media.failed': { mediaFileId: number; cameraId: string; path: string; reason: string };
  'media.processed': {
    mediaFileId: number;
    cameraId: string;
    path: string;
    detectionCount: number;
    /** From "file stable" (the job being queued) to the detections being committed. */
    latencyMs: number;
    timings: { preprocessMs: number; inferenceMs: number; postprocessMs: number };
  };
  /**
   * `media`: the processed file as recorded (path under media_root, sha256, size): a picture shown for these
   * detections must still be those bytes.
   */
  'detection.created': {
    cameraId: string;
    mediaFileId: number;
    detections: DetectionRecord[];
    media?: { path: string; sha256: string; size: number };
  };
  /**
   * The enabled frame processors have run on a file's frames (each succeeded, partly succeeded or failed: its
   * `outcomes`). With a processor enabled the aggregator batches on this instead of `detection.created`.
   */
  'detection.enriched': {
    cameraId: string;
    mediaFileId: number;
    detections: DetectionRecord[];
    outcomes: { processor: string; status: 'success' | 'partial' | 'failed' }[];
  };
  /**
   * A visit's event was opened (at the fast path, with every detection of that frame) or, when no fast path
   * happened, created when its batch closed (then `event.closedAt` is already set).
   */
  'event.created': { event: EventRecord; latencyMs: number };
  /**
   * An event was re-analysed: more detections of the same visit joined, or its batch closed (`event.closedAt` set,
   * the last update of the visit). `previous` is the event as last announced.
   */
  'event.updated': { event: EventRecord; previous: EventRecord; latencyMs: number };
  'alert.created': { alert: AlertRecord };
  /** `escalate`: a later update of the same event raised the alert's severity (one alert per event, never two). */
  'alert.updated': { alert: AlertRecord; action: 'acknowledge' | 'dismiss' | 'deliver' | 'escalate' };
  'arming.changed':
    | { scope: 'house'; mode: HouseMode; previous: HouseMode; actor: string }
    | { scope: 'zone'; zoneId: string; cameraId: string; armed: boolean; actor: string };
  /** A zone was created, changed or deleted (API, configuration sync): Home Assistant's discovery follows. */
  'zone.changed': { zoneId: string; cameraId: string; action: 'created' | 'updated' | 'deleted' };
  /** A camera's detection switch changed (the command table's `cameras.detect.set`, from any channel). */
  'camera.detection_changed': { cameraId: string; enabled: boolean; actor: string };
  /** A camera was renamed or deleted after its creation (`camera.created` announces new ones). */
  'camera.updated': { cameraId: string; name: string; action: 'renamed' | 'deleted' };
  /** A household member was added, changed or removed (identity): Home Assistant's member devices follow. */
  'household.changed': { memberId: number; action: 'created' | 'updated' | 'deleted' };
}

export type AnalysisSource = 'llm' | 'rules' | 'rules_fallback';

/** A stored security event as the bus, MQTT and the API show it. */
export interface EventRecord {
  id: number;
  batchId: string;
  cameraId: string;
  startedAt: Date;
  endedAt: Date;
  riskScore: number;
  riskLevel: RiskLevel;
  summary: string;
  reasoning: string;
  recommendedAction: string | null;
  objectTypes: string[];
  detectionCount: number;
  isFastPath: boolean;
  analysisSource: AnalysisSource;
  /** When the visit's batch closed and the event got its final analysis; null while detections may still join. */
  closedAt: Date | null;
}

export interface AlertRecord {
  id: string;
  eventId: number;
  ruleId: string | null;
  severity: RiskLevel;
  status: AlertStatus;
  dedupKey: string;
  message: string;
  cameraId: string;
  createdAt: Date;
  /** Who acknowledged or dismissed it (`mqtt`, `api`, `api:ingress`); null (or absent) while it is not. */
  acknowledgedBy?: string | null;
  dismissedBy?: string | null;
}
