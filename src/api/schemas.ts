import { ALERT_STATUSES } from '../domain/alert-lifecycle.js';
import { HOUSE_MODES } from '../domain/arming.js';
import { RISK_LEVELS } from '../domain/risk.js';
import { ZONE_TYPES } from '../domain/zones.js';
import { FEEDBACK_TYPES } from '../storage/feedback.repository.js';

/**
 * JSON Schemas shared by the routes: request parts are validated by Fastify's ajv, responses are serialised from
 * them and all of it ends up in the OpenAPI document. Names are the external (snake_case) ones.
 */

const nullable = (type: string) => ({ type: [type, 'null'] });
const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const num = { type: 'number' } as const;
const bool = { type: 'boolean' } as const;
export const dateTime = { type: 'string', format: 'date-time' } as const;
const nullableDateTime = { type: ['string', 'null'], format: 'date-time' } as const;
const strings = { type: 'array', items: str } as const;
const nullableStrings = { type: ['array', 'null'], items: str } as const;
const freeObject = { type: ['object', 'null'], additionalProperties: true } as const;
export const riskLevel = { type: 'string', enum: RISK_LEVELS } as const;

const object = (properties: Record<string, unknown>) => ({ type: 'object', properties }) as const;

export const errorSchema = object({
  error: object({ code: str, message: str, field: str }),
});

/** Response schemas for the error statuses a route can answer (besides its success). */
export function errors(...statuses: number[]): Record<number, typeof errorSchema> {
  return Object.fromEntries([401, ...statuses].map((s) => [s, errorSchema]));
}

export const idParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } },
} as const;

export const textIdParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', minLength: 1, maxLength: 200 } },
} as const;

export const cameraSchema = object({
  id: str,
  name: str,
  folder_path: str,
  status: str,
  detection_enabled: bool,
  /** With the house armed away, a camera without zones has its whole view armed, unless this is off. */
  armed_when_away: bool,
  created_at: dateTime,
  last_seen_at: nullableDateTime,
});

const eventRecordProperties = {
  id: int,
  batch_id: str,
  camera_id: str,
  started_at: dateTime,
  ended_at: dateTime,
  risk_score: int,
  risk_level: riskLevel,
  summary: str,
  reasoning: str,
  recommended_action: nullable('string'),
  object_types: strings,
  detection_count: int,
  is_fast_path: bool,
  analysis_source: { type: 'string', enum: ['llm', 'rules', 'rules_fallback'] },
  /** Null while the visit is open: more detections may join and the analysis may change. */
  closed_at: nullableDateTime,
};

export const eventRecordSchema = object(eventRecordProperties);

export const eventSchema = object({
  ...eventRecordProperties,
  prompt_version: nullable('string'),
  model: nullable('string'),
  reviewed: bool,
  notes: nullable('string'),
  created_at: dateTime,
});

export const detectionSchema = object({
  id: int,
  camera_id: str,
  media_file_id: int,
  file_path: str,
  media_type: { type: 'string', enum: ['image', 'video'] },
  frame_index: nullable('integer'),
  detected_at: dateTime,
  object_type: str,
  confidence: num,
  bbox: object({ x: num, y: num, width: num, height: num }),
  zone_ids: strings,
  image_url: str,
  thumbnail_url: nullable('string'),
});

export const feedbackSchema = object({
  event_id: int,
  feedback_type: { type: 'string', enum: FEEDBACK_TYPES },
  notes: nullable('string'),
  expected_severity: { type: ['string', 'null'], enum: [...RISK_LEVELS, null] },
  created_at: dateTime,
});

const alertRecordProperties = {
  id: str,
  event_id: int,
  rule_id: nullable('string'),
  camera_id: nullable('string'),
  severity: riskLevel,
  status: { type: 'string', enum: ALERT_STATUSES },
  dedup_key: str,
  message: str,
  created_at: dateTime,
  /** The audit actor (`mqtt`, `api`, `api:ingress`) who acknowledged it; null while not acknowledged. */
  acknowledged_by: nullable('string'),
  /** Who dismissed it; null while not dismissed. */
  dismissed_by: nullable('string'),
};

export const alertRecordSchema = object(alertRecordProperties);

export const alertSchema = object({
  ...alertRecordProperties,
  metadata: freeObject,
  updated_at: dateTime,
  delivered_at: nullableDateTime,
  acknowledged_at: nullableDateTime,
  dismissed_at: nullableDateTime,
});

export const scheduleSchema = {
  type: 'object',
  required: ['start', 'end'],
  additionalProperties: false,
  description: 'Weekly schedule; `end` before `start` runs overnight and belongs to the day it starts.',
  properties: {
    days: { type: 'array', items: { type: 'string', enum: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] } },
    start: { type: 'string', pattern: '^\\d{2}:\\d{2}$', description: 'HH:MM, 24-hour' },
    end: { type: 'string', pattern: '^\\d{2}:\\d{2}$', description: 'HH:MM, 24-hour, exclusive' },
    timezone: { type: 'string', description: 'IANA timezone; the site timezone when absent' },
  },
} as const;

export const ruleSchema = object({
  id: str,
  name: str,
  description: nullable('string'),
  enabled: bool,
  severity: riskLevel,
  risk_threshold: nullable('integer'),
  camera_ids: nullableStrings,
  zone_ids: nullableStrings,
  object_types: nullableStrings,
  min_confidence: nullable('number'),
  schedule: { ...scheduleSchema, type: ['object', 'null'], required: [] },
  house_modes: { type: ['array', 'null'], items: { type: 'string', enum: HOUSE_MODES } },
  require_armed_zone: bool,
  unknown_person: bool,
  person_ids: { type: ['array', 'null'], items: { type: 'integer' } },
  ignore_trusted: bool,
  dedup_key_template: nullable('string'),
  cooldown_seconds: int,
  source: { type: 'string', enum: ['default', 'config', 'api'] },
  created_at: dateTime,
  updated_at: dateTime,
});

export const zoneShapeSchema = {
  type: 'object',
  required: ['kind'],
  additionalProperties: true,
  description:
    'Normalised coordinates (0..1, origin top-left): `{kind: "rectangle", x, y, width, height}` or ' +
    '`{kind: "polygon", points: [[x, y], …]}` (3 to 100 points, in drawing order).',
  properties: { kind: { type: 'string', enum: ['rectangle', 'polygon'] } },
} as const;

export const zoneSchema = object({
  id: str,
  camera_id: str,
  name: str,
  zone_type: { type: 'string', enum: ZONE_TYPES },
  shape: zoneShapeSchema,
  color: str,
  enabled: bool,
  priority: int,
  armed: bool,
  source: { type: 'string', enum: ['config', 'api'] },
  created_at: dateTime,
  updated_at: dateTime,
});

export const auditSchema = object({
  id: int,
  timestamp: dateTime,
  action: str,
  resource_type: str,
  resource_id: nullable('string'),
  actor: str,
  details: freeObject,
  ip_address: nullable('string'),
  user_agent: nullable('string'),
  status: { type: 'string', enum: ['success', 'failure'] },
});

export const failedMediaSchema = object({
  id: int,
  camera_id: str,
  path: str,
  media_type: str,
  attempts: int,
  error_code: nullable('string'),
  error: nullable('string'),
  failed_at: dateTime,
});

export const queueCountsSchema = object({ waiting: int, active: int, delayed: int, dead: int });

export const houseModeSchema = { type: 'string', enum: HOUSE_MODES } as const;

/** `{ <key>: [items] }`. */
export const listOf = (key: string, items: unknown) => object({ [key]: { type: 'array', items } });
