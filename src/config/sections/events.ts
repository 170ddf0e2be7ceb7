import type { JSONSchemaType } from 'ajv';

/** Sections for issue 3: batching detections into events, risk analysis, the site, zones and alert rules. */

export interface BatchingConfig {
  window_seconds: number;
  idle_seconds: number;
  max_detections: number;
  fast_path_types: string[];
  fast_path_confidence: number;
}

export interface AnalysisConfig {
  provider: 'rules' | 'openai';
  url: string;
  model: string;
  api_key: string;
  timeout_ms: number;
  concurrency: number;
}

export interface SiteConfig {
  timezone: string;
  /** Null or absent: no location (night is 22:00-05:59). */
  latitude?: number | null;
  longitude?: number | null;
}

export const batchingSchema: JSONSchemaType<BatchingConfig> = {
  type: 'object',
  title: 'Batching',
  description: 'How detections of one camera are grouped into one security event.',
  additionalProperties: false,
  required: ['window_seconds', 'idle_seconds', 'max_detections', 'fast_path_types', 'fast_path_confidence'],
  properties: {
    window_seconds: {
      type: 'integer',
      title: 'Window',
      description: 'A batch closes this many seconds after its first detection.',
      minimum: 1,
      maximum: 3600,
      default: 90,
    },
    idle_seconds: {
      type: 'integer',
      title: 'Idle timeout',
      description: 'A batch closes after this many seconds without a new detection.',
      minimum: 1,
      maximum: 3600,
      default: 30,
    },
    max_detections: {
      type: 'integer',
      title: 'Maximum detections',
      description: 'A batch closes as soon as it holds this many detections.',
      minimum: 1,
      maximum: 10000,
      default: 50,
    },
    fast_path_types: {
      type: 'array',
      title: 'Fast-path object types',
      description: 'A confident detection of one of these types is analysed at once, as its own event.',
      items: { type: 'string', minLength: 1 },
      default: ['person'],
    },
    fast_path_confidence: {
      type: 'number',
      title: 'Fast-path confidence',
      description: 'Minimum confidence for the fast path.',
      minimum: 0,
      maximum: 1,
      default: 0.9,
    },
  },
};

export const analysisSchema: JSONSchemaType<AnalysisConfig> = {
  type: 'object',
  title: 'Risk analysis',
  description:
    'Who scores each event: the built-in rules, or an OpenAI-compatible LLM (llama.cpp server, Ollama, vLLM, OpenAI). ' +
    'When the LLM fails twice the rules score the event and it is marked `rules_fallback`.',
  additionalProperties: false,
  required: ['provider', 'url', 'model', 'api_key', 'timeout_ms', 'concurrency'],
  properties: {
    provider: {
      type: 'string',
      title: 'Provider',
      description: '`rules` (built in, deterministic) or `openai` (any `/v1/chat/completions` endpoint).',
      enum: ['rules', 'openai'],
      default: 'rules',
    },
    url: {
      type: 'string',
      title: 'LLM base URL',
      description:
        'e.g. `http://127.0.0.1:8080` (llama.cpp), `http://127.0.0.1:11434` (Ollama), `https://api.openai.com`.',
      pattern: '^$|^https?://',
      'x-hint': "'' or an http(s):// URL",
      default: '',
    },
    model: {
      type: 'string',
      title: 'Model',
      description: 'Model name sent with each request.',
      default: '',
    },
    api_key: {
      type: 'string',
      title: 'API key',
      description: 'Sent as a Bearer token when set. Never logged.',
      default: '',
    },
    timeout_ms: {
      type: 'integer',
      title: 'Timeout',
      description: 'Per request, in milliseconds.',
      minimum: 100,
      maximum: 600000,
      default: 30000,
    },
    concurrency: {
      type: 'integer',
      title: 'Concurrency',
      description: 'Events analysed at once by this process.',
      minimum: 1,
      maximum: 32,
      default: 2,
    },
  },
};

export const siteSchema: JSONSchemaType<SiteConfig> = {
  type: 'object',
  title: 'Site',
  description: 'Where the cameras are.',
  additionalProperties: false,
  required: ['timezone'],
  properties: {
    timezone: {
      type: 'string',
      format: 'iana-timezone',
      title: 'Timezone',
      description:
        "IANA timezone for night hours, schedules and prompts (e.g. `Europe/Berlin`); '' uses the system's (TZ).",
      default: '',
    },
    latitude: {
      type: 'number',
      nullable: true,
      title: 'Latitude',
      description:
        'Degrees north (south negative) of the site. With `longitude`, night is from dusk to dawn (the sun 6° below ' +
        'the horizon) on each day of the year; null: night is 22:00-05:59.',
      minimum: -90,
      maximum: 90,
      default: null,
    },
    longitude: {
      type: 'number',
      nullable: true,
      title: 'Longitude',
      description: 'Degrees east (west negative) of the site; set together with `latitude`.',
      minimum: -180,
      maximum: 180,
      default: null,
    },
  },
};
