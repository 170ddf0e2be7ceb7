import type { JSONSchemaType } from 'ajv';

/** The HTTP API and the data retention job. */

export interface HttpConfig {
  enabled: boolean;
  host: string;
  port: number;
  api_key: string;
  ingress: boolean;
  allowed_hosts: string[];
  allow_unauthenticated_lan: boolean;
}

export interface RetentionConfig {
  detections_days: number;
  media_days: number;
  events_days: number;
  interval_hours: number;
}

export const httpSchema: JSONSchemaType<HttpConfig> = {
  type: 'object',
  title: 'HTTP API',
  description: 'REST API, OpenAPI document (`/api/openapi.json`), Prometheus `/metrics` and the `/ws/events` stream.',
  additionalProperties: false,
  required: ['enabled', 'host', 'port', 'api_key', 'ingress', 'allowed_hosts', 'allow_unauthenticated_lan'],
  properties: {
    enabled: { type: 'boolean', title: 'Enabled', description: 'Serve the HTTP API.', default: true },
    host: {
      type: 'string',
      title: 'Listen address',
      description:
        '`0.0.0.0` to reach it from other machines: then set `api_key` (HSI refuses to start without one, unless ' +
        '`ingress` or `allow_unauthenticated_lan` is on).',
      default: '127.0.0.1',
    },
    port: {
      type: 'integer',
      title: 'Port',
      description: 'TCP port (0 picks a free one, logged at start).',
      minimum: 0,
      maximum: 65535,
      default: 8099,
    },
    api_key: {
      type: 'string',
      title: 'API key',
      description:
        "Required as `Authorization: Bearer <key>` or `X-API-Key` when set ('' = no authentication). Never logged.",
      default: '',
    },
    ingress: {
      type: 'boolean',
      title: 'Home Assistant ingress',
      description:
        "Accept requests proxied by the Supervisor's ingress (from 172.30.32.2) without the API key. Without a key, " +
        'only the ingress proxy (and this machine) may then use the API.',
      default: false,
    },
    allowed_hosts: {
      type: 'array',
      title: 'Allowed host names',
      description:
        'Names the API may be reached by (the `Host` header; a request by another name is refused, against DNS ' +
        'rebinding), and the sites (`Origin`) allowed to change anything or open the WebSocket. Always allowed: ' +
        "localhost, this machine's host name, `http.host` and any IP address. e.g. `[hsi.lan, homeassistant.local]`.",
      items: { type: 'string', pattern: '^[A-Za-z0-9.-]+$', 'x-hint': 'a host name without port or scheme' },
      default: [],
    },
    allow_unauthenticated_lan: {
      type: 'boolean',
      title: 'Allow an open API on the network (dangerous)',
      description:
        'Start even though `host` is reachable from other machines and `api_key` is empty: anyone on the network ' +
        'can then disarm the house. Only for a network you trust completely.',
      default: false,
    },
  },
};

const days = (title: string, description: string, def: number) => ({
  type: 'integer' as const,
  title,
  description,
  minimum: 0,
  maximum: 36500,
  default: def,
});

export const retentionSchema: JSONSchemaType<RetentionConfig> = {
  type: 'object',
  title: 'Retention',
  description: 'How long data is kept; 0 keeps it forever. Events with alerts not yet acknowledged are always kept.',
  additionalProperties: false,
  required: ['detections_days', 'media_days', 'events_days', 'interval_hours'],
  properties: {
    detections_days: days('Detections', 'Days detections (and their thumbnails) are kept.', 30),
    media_days: days('Media files', 'Days uploaded files are kept on disk (their rows go with them).', 30),
    events_days: days('Events', 'Days security events are kept.', 90),
    interval_hours: {
      type: 'integer',
      title: 'Interval',
      description: 'Hours between retention runs (each run is recorded in `jobs`).',
      minimum: 1,
      maximum: 168,
      default: 6,
    },
  },
};
