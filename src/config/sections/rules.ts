import type { JSONSchemaType } from 'ajv';

/** Zones and alert rules declared in the configuration; synced into the database by name at start. */

export interface ZoneConfig {
  camera_id: string;
  name: string;
  zone_type: string;
  /** Normalised [x, y] points (0..1); a rectangle is four points. */
  polygon: number[][];
  color: string;
  enabled: boolean;
  priority: number;
}

export interface ScheduleConfig {
  days?: string[];
  start: string;
  end: string;
  timezone?: string;
}

export interface AlertRuleConfig {
  name: string;
  enabled: boolean;
  severity: 'low' | 'medium' | 'high' | 'critical';
  risk_threshold?: number;
  camera_ids?: string[];
  zone_ids?: string[];
  object_types?: string[];
  min_confidence?: number;
  schedule?: ScheduleConfig;
  house_modes?: string[];
  require_armed_zone: boolean;
  unknown_person: boolean;
  person_ids?: number[];
  ignore_trusted: boolean;
  dedup_key_template?: string;
  cooldown_seconds?: number;
}

export interface AlertsConfig {
  cooldown_seconds: number;
  default_rules: boolean;
  rules: AlertRuleConfig[];
}

const HHMM = '^([01][0-9]|2[0-3]):[0-5][0-9]$';

export const zonesSchema: JSONSchemaType<ZoneConfig[]> = {
  type: 'array',
  title: 'Zones',
  description:
    'Areas of a camera image. A detection is in a zone when the bottom-centre of its box is inside. Armed state is ' +
    'changed from Home Assistant and kept across restarts.',
  default: [],
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['camera_id', 'name', 'polygon'],
    properties: {
      camera_id: { type: 'string', minLength: 1, description: 'Camera id (`front_door`).' },
      name: { type: 'string', minLength: 1, maxLength: 64, description: 'Unique per camera.' },
      zone_type: {
        type: 'string',
        enum: ['entry_point', 'driveway', 'sidewalk', 'yard', 'other'],
        default: 'other',
        description: 'What the area is; entry points weigh most in risk.',
      },
      polygon: {
        type: 'array',
        minItems: 3,
        maxItems: 100,
        description: 'Points [x, y] in 0..1 of the image width and height.',
        items: { type: 'array', minItems: 2, maxItems: 2, items: { type: 'number', minimum: 0, maximum: 1 } },
      },
      color: { type: 'string', pattern: '^#[0-9a-fA-F]{6}$', default: '#ff9800', description: 'Display colour.' },
      enabled: { type: 'boolean', default: true, description: 'Disabled zones are ignored.' },
      priority: { type: 'integer', default: 0, description: 'Higher first when several zones are hit.' },
    },
  },
};

export const alertsSchema: JSONSchemaType<AlertsConfig> = {
  type: 'object',
  title: 'Alerts',
  description: 'Rules that raise alerts from analysed events. All conditions of a rule must hold.',
  additionalProperties: false,
  required: ['cooldown_seconds', 'default_rules', 'rules'],
  properties: {
    cooldown_seconds: {
      type: 'integer',
      title: 'Default cooldown',
      description: 'Seconds after an alert during which the same dedup key raises no new alert.',
      minimum: 0,
      maximum: 86400,
      default: 300,
    },
    default_rules: {
      type: 'boolean',
      title: 'Default rules',
      description: 'Create the built-in rule set on first run (person in an armed zone at night, critical risk, …).',
      default: true,
    },
    rules: {
      type: 'array',
      title: 'Rules',
      description: 'Rules declared here are created or updated by name at start.',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'severity'],
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 100 },
          enabled: { type: 'boolean', default: true },
          severity: { type: 'string', enum: ['low', 'medium', 'high', 'critical'] },
          risk_threshold: { type: 'integer', minimum: 0, maximum: 100, nullable: true },
          camera_ids: { type: 'array', items: { type: 'string' }, nullable: true },
          zone_ids: { type: 'array', items: { type: 'string' }, nullable: true },
          object_types: { type: 'array', items: { type: 'string' }, nullable: true },
          min_confidence: { type: 'number', minimum: 0, maximum: 1, nullable: true },
          schedule: {
            type: 'object',
            nullable: true,
            additionalProperties: false,
            required: ['start', 'end'],
            properties: {
              days: {
                type: 'array',
                nullable: true,
                items: { type: 'string', enum: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] },
              },
              start: { type: 'string', pattern: HHMM },
              end: { type: 'string', pattern: HHMM },
              timezone: { type: 'string', nullable: true },
            },
          },
          house_modes: {
            type: 'array',
            nullable: true,
            items: { type: 'string', enum: ['disarmed', 'armed_home', 'armed_away', 'armed_night'] },
          },
          require_armed_zone: { type: 'boolean', default: false },
          unknown_person: { type: 'boolean', default: false },
          person_ids: {
            type: 'array',
            items: { type: 'integer', minimum: 1, maximum: 2_147_483_647 },
            maxItems: 100,
            nullable: true,
          },
          ignore_trusted: { type: 'boolean', default: false },
          dedup_key_template: { type: 'string', nullable: true },
          cooldown_seconds: { type: 'integer', minimum: 0, maximum: 86400, nullable: true },
        },
      },
    },
  },
};
