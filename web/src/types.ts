/** The parts of the API's JSON the page reads (see the OpenAPI document at `api/openapi.json`). */

export interface Check {
  ok?: boolean;
  latency_ms?: number;
  error?: string;
}
export interface QueueCounts {
  waiting: number;
  active: number;
  dead?: number;
}
export interface Health {
  status?: string;
  checks?: {
    database?: Check;
    queues?: Check & { counts?: Record<string, QueueCounts> };
    mqtt?: { connected?: boolean };
  };
}

export interface Arming {
  mode: string;
  changed_at?: string | null;
  changed_by?: string | null;
  zones?: { armed_now?: boolean }[];
}

export interface Camera {
  id: string;
  name?: string | null;
  last_seen_at?: string | null;
  detection_enabled?: boolean;
}

export interface Alert {
  id: string;
  severity: string;
  message: string;
  status: string;
  camera_id?: string | null;
  created_at?: string;
}

export interface EventSummary {
  id: number | string;
  camera_id?: string;
  started_at: string;
  summary?: string | null;
  risk_level: string;
  risk_score: number;
  object_types?: string[];
}

export interface Detection {
  id: number | string;
  object_type: string;
  confidence: number;
  detected_at?: string;
  zone_ids?: string[];
}

export interface EventDetail extends EventSummary {
  reasoning?: string | null;
  recommended_action?: string | null;
  analysis_source?: string;
  detection_count: number;
  detections?: Detection[];
}

/** A message of the `ws/events` stream. */
export type StreamMessage =
  | { type: 'event'; data?: EventSummary }
  | { type: 'alert'; data?: Alert }
  | { type: string; data?: unknown };
