import type { JSONSchemaType } from 'ajv';

/** Home Assistant over MQTT: the broker, topics, and what the entities do. */

export interface MqttTlsConfig {
  ca: string;
  cert: string;
  key: string;
  reject_unauthorized: boolean;
}

export interface MqttEmbeddedConfig {
  host: string;
  port: number;
  username: string;
  password: string;
}

export interface MqttConfig {
  url: string;
  username: string;
  password: string;
  client_id: string;
  base_topic: string;
  discovery_prefix: string;
  discovery: boolean;
  tls: MqttTlsConfig;
  embedded: MqttEmbeddedConfig;
  offline_queue_max: number;
  max_payload_bytes: number;
}

export interface HomeAssistantConfig {
  /** Seconds without an upload after which a camera shows offline. */
  camera_offline_after_s: number;
  /** Seconds motion and person stay ON after the last detection. */
  motion_off_delay_s: number;
  /** Code the alarm panel asks for ('' = none). */
  alarm_code: string;
  /** Longest side of the annotated snapshot, pixels. */
  snapshot_max_px: number;
  /** Seconds between system health publications. */
  health_interval_s: number;
}

const str = (title: string, description: string, def = '') => ({
  type: 'string' as const,
  title,
  description,
  default: def,
});

export const mqttSchema: JSONSchemaType<MqttConfig> = {
  type: 'object',
  title: 'MQTT',
  description:
    'The broker Home Assistant listens on. With `url` empty HSI starts its own broker (aedes) on 127.0.0.1, so a fresh install can be explored with any MQTT client.',
  additionalProperties: false,
  required: [
    'url',
    'username',
    'password',
    'client_id',
    'base_topic',
    'discovery_prefix',
    'discovery',
    'tls',
    'embedded',
    'offline_queue_max',
    'max_payload_bytes',
  ],
  properties: {
    url: {
      type: 'string',
      title: 'Broker URL',
      description: "'' starts the embedded broker; else `mqtt://host:1883` or `mqtts://host:8883`.",
      pattern: '^$|^(mqtts?|wss?|tcp|ssl)://',
      'x-hint': "'' or an mqtt:// URL",
      default: '',
    },
    username: str('Username', 'Broker user name.'),
    password: str('Password', 'Broker password. Never logged.'),
    client_id: str('Client id', "MQTT client id; '' makes one from the base topic and host name."),
    base_topic: {
      type: 'string',
      title: 'Base topic',
      description: 'Prefix of every HSI topic (`hsi/availability`, `hsi/events/<camera>` …).',
      pattern: '^[^#+\\s]+$',
      'x-hint': 'a topic without wildcards or spaces',
      default: 'hsi',
    },
    discovery_prefix: {
      type: 'string',
      title: 'Discovery prefix',
      description: "Home Assistant's MQTT discovery prefix.",
      pattern: '^[^#+\\s]+$',
      'x-hint': 'a topic without wildcards or spaces',
      default: 'homeassistant',
    },
    discovery: {
      type: 'boolean',
      title: 'Discovery',
      description: 'Publish Home Assistant discovery messages (devices and entities appear without YAML).',
      default: true,
    },
    tls: {
      type: 'object',
      title: 'TLS',
      description: 'Certificates for `mqtts://` brokers (paths to PEM files).',
      additionalProperties: false,
      required: ['ca', 'cert', 'key', 'reject_unauthorized'],
      properties: {
        ca: str('CA file', 'PEM file of the broker CA.'),
        cert: str('Client certificate', 'PEM file, for brokers that want client certificates.'),
        key: str('Client key', 'PEM file of the client key.'),
        reject_unauthorized: {
          type: 'boolean',
          title: 'Verify the broker',
          description: 'Refuse brokers whose certificate does not verify.',
          default: true,
        },
      },
    },
    embedded: {
      type: 'object',
      title: 'Embedded broker',
      description: 'The broker HSI starts when `mqtt.url` is empty.',
      additionalProperties: false,
      required: ['host', 'port', 'username', 'password'],
      properties: {
        host: str('Listen address', 'Address the embedded broker listens on.', '127.0.0.1'),
        port: {
          type: 'integer',
          title: 'Port',
          description: 'TCP port (0 picks a free one, logged at start).',
          minimum: 0,
          maximum: 65535,
          default: 1883,
        },
        username: str('Username', "Required from clients when set ('' = anonymous)."),
        password: str('Password', 'Never logged.'),
      },
    },
    offline_queue_max: {
      type: 'integer',
      title: 'Offline queue',
      description:
        'Messages kept while the broker is unreachable (oldest dropped first; retained states are re-sent on reconnect anyway).',
      minimum: 0,
      maximum: 100000,
      default: 1000,
    },
    max_payload_bytes: {
      type: 'integer',
      title: 'Largest command',
      description: 'Command payloads larger than this are refused.',
      minimum: 64,
      maximum: 1048576,
      default: 8192,
    },
  },
};

export const homeAssistantSchema: JSONSchemaType<HomeAssistantConfig> = {
  type: 'object',
  title: 'Home Assistant entities',
  description: 'How the entities HSI publishes behave.',
  additionalProperties: false,
  required: ['camera_offline_after_s', 'motion_off_delay_s', 'alarm_code', 'snapshot_max_px', 'health_interval_s'],
  properties: {
    camera_offline_after_s: {
      type: 'integer',
      title: 'Camera offline after',
      description: 'Seconds without an upload after which a camera shows offline (and its entities unavailable).',
      minimum: 60,
      maximum: 604800,
      default: 3600,
    },
    motion_off_delay_s: {
      type: 'integer',
      title: 'Motion off delay',
      description: 'Seconds motion and person stay ON after the last detection.',
      minimum: 1,
      maximum: 3600,
      default: 30,
    },
    alarm_code: str('Alarm code', "Code the alarm panel asks for to arm and disarm ('' = no code). Never logged."),
    snapshot_max_px: {
      type: 'integer',
      title: 'Snapshot size',
      description: 'Longest side of the annotated snapshot in pixels (smaller sources are kept as they are).',
      minimum: 64,
      maximum: 4096,
      default: 1280,
    },
    health_interval_s: {
      type: 'integer',
      title: 'Health interval',
      description: 'Seconds between publications of `hsi/health/system`.',
      minimum: 1,
      maximum: 3600,
      default: 10,
    },
  },
};
