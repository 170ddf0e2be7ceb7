import type { JSONSchemaType } from 'ajv';
import type { LogLevel } from '../lib/logger.js';
import {
  type DatabaseConfig,
  databaseSchema,
  type QueueConfig,
  queueSchema,
  type RedisConfig,
  redisSchema,
} from './sections/backends.js';
import { type DetectorConfig, detectorSchema } from './sections/detector.js';
import {
  type AnalysisConfig,
  analysisSchema,
  type BatchingConfig,
  batchingSchema,
  type SiteConfig,
  siteSchema,
} from './sections/events.js';
import { type FtpConfig, ftpSchema } from './sections/ftp.js';
import { type HttpConfig, httpSchema, type RetentionConfig, retentionSchema } from './sections/http.js';
import { type IdentityConfig, identitySchema } from './sections/identity.js';
import { type IngestConfig, ingestSchema } from './sections/ingest.js';
import { type HomeAssistantConfig, homeAssistantSchema, type MqttConfig, mqttSchema } from './sections/mqtt.js';
import { type AlertsConfig, alertsSchema, type ZoneConfig, zonesSchema } from './sections/rules.js';

export type { DatabaseConfig, QueueConfig, RedisConfig } from './sections/backends.js';
export {
  DEFAULT_MODEL_FILES,
  DEFAULT_MODEL_TYPE,
  type DetectorConfig,
  type DetectorDevice,
  type ModelType,
} from './sections/detector.js';
export type { AnalysisConfig, BatchingConfig, SiteConfig } from './sections/events.js';
export type { FtpConfig, FtpUserConfig } from './sections/ftp.js';
export type { HttpConfig, RetentionConfig } from './sections/http.js';
export type { FacesConfig, IdentityConfig } from './sections/identity.js';
export type { IngestConfig } from './sections/ingest.js';
export type { HomeAssistantConfig, MqttConfig } from './sections/mqtt.js';
export type { AlertRuleConfig, AlertsConfig, ZoneConfig } from './sections/rules.js';

/**
 * The configuration, in its external format (snake_case keys, as written in config.yaml). To add a section:
 * write `sections/<name>.ts` (interface + `JSONSchemaType` with title, description and a default on every key),
 * then add one line to `Config`, to `properties` and to `required` below. Environment variables, defaults, the
 * docs and validation follow from the schema.
 *
 * Annotations understood besides JSON Schema: `x-path: true` (a path resolved against the working directory on
 * load) and `x-hint` (how a `pattern` is described in error messages).
 */
export interface Config {
  data_dir: string;
  media_root: string;
  assets_dir: string;
  database: DatabaseConfig;
  redis: RedisConfig;
  detector: DetectorConfig;
  ingest: IngestConfig;
  queue: QueueConfig;
  batching: BatchingConfig;
  analysis: AnalysisConfig;
  site: SiteConfig;
  zones: ZoneConfig[];
  alerts: AlertsConfig;
  identity: IdentityConfig;
  mqtt: MqttConfig;
  homeassistant: HomeAssistantConfig;
  http: HttpConfig;
  ftp: FtpConfig;
  retention: RetentionConfig;
  log: LogConfig;
}

export interface LogConfig {
  level: LogLevel;
}

const logSchema: JSONSchemaType<LogConfig> = {
  type: 'object',
  title: 'Logging',
  description: 'Log output (JSON lines on stdout). Secrets are never logged.',
  additionalProperties: false,
  required: ['level'],
  properties: {
    level: {
      type: 'string',
      title: 'Log level',
      description: 'Least severe level written.',
      enum: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
      default: 'info',
    },
  },
};

export const configSchema: JSONSchemaType<Config> = {
  $id: 'https://hsi.local/config.schema.json',
  type: 'object',
  title: 'General',
  description: 'Folders used by the service.',
  additionalProperties: false,
  required: [
    'data_dir',
    'media_root',
    'assets_dir',
    'database',
    'redis',
    'detector',
    'ingest',
    'queue',
    'batching',
    'analysis',
    'site',
    'zones',
    'alerts',
    'identity',
    'mqtt',
    'homeassistant',
    'http',
    'ftp',
    'retention',
    'log',
  ],
  properties: {
    data_dir: {
      type: 'string',
      title: 'Data folder',
      description: 'Holds the embedded database (PGlite), thumbnails and state. Created when missing.',
      minLength: 1,
      default: './data',
      'x-path': true,
    },
    media_root: {
      type: 'string',
      title: 'Media folder',
      description: 'The folder cameras upload into, one sub-folder per camera (`Front Door/…` is camera `front_door`).',
      minLength: 1,
      default: './media',
      'x-path': true,
    },
    assets_dir: {
      type: 'string',
      title: 'Assets folder',
      description:
        'Where the bundled models live (`<assets_dir>/models/`); point it (or `HSI_ASSETS_DIR`) at your copy.',
      minLength: 1,
      default: '../shared',
      'x-path': true,
    },
    database: databaseSchema,
    redis: redisSchema,
    detector: detectorSchema,
    ingest: ingestSchema,
    queue: queueSchema,
    batching: batchingSchema,
    analysis: analysisSchema,
    site: siteSchema,
    zones: zonesSchema,
    alerts: alertsSchema,
    identity: identitySchema,
    mqtt: mqttSchema,
    homeassistant: homeAssistantSchema,
    http: httpSchema,
    ftp: ftpSchema,
    retention: retentionSchema,
    log: logSchema,
  },
};
