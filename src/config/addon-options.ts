import { setAt } from './walk.js';

/**
 * The Home Assistant add-on's options (`/data/options.json`, set in the add-on's Configuration panel) are a flat
 * mapping, because the panel shows one field per option. This module maps them onto the nested configuration; the
 * add-on's `config.yaml` (`options` and `schema`) lists the same names, and a test keeps the two in step.
 */

/** Add-on option -> the dotted configuration key it sets. */
export const ADDON_OPTION_KEYS: Readonly<Record<string, string>> = {
  media_root: 'media_root',
  llm_url: 'analysis.url',
  llm_model: 'analysis.model',
  llm_api_key: 'analysis.api_key',
  detector_device: 'detector.device',
  retention_detections_days: 'retention.detections_days',
  retention_events_days: 'retention.events_days',
  retention_media_days: 'retention.media_days',
  log_level: 'log.level',
  alarm_code: 'homeassistant.alarm_code',
  api_key: 'http.api_key',
  mqtt_url: 'mqtt.url',
  mqtt_username: 'mqtt.username',
  mqtt_password: 'mqtt.password',
  timezone: 'site.timezone',
  ftp_enabled: 'ftp.enabled',
  ftp_passive_url: 'ftp.passive_url',
  ftp_users: 'ftp.users',
  identity_enabled: 'identity.enabled',
  identity_models_dir: 'identity.models_dir',
  face_recognition: 'identity.faces.enabled',
};

/**
 * Settings every add-on install gets, whatever its options: the API listens on all interfaces on the port
 * `ingress_port` and `watchdog` name in config.yaml, and accepts the Supervisor's ingress proxy without a key; the
 * FTP receiver (off unless `ftp_enabled`) listens on the ports config.yaml publishes.
 */
export const ADDON_FIXED_SETTINGS: Readonly<Record<string, unknown>> = {
  'http.enabled': true,
  'http.host': '0.0.0.0',
  'http.port': 8099,
  'http.ingress': true,
  // The FTP receiver's ports are the ones config.yaml publishes (`ports`), container and host side alike: PASV
  // announces container ports, so the mapping must not translate them.
  'ftp.host': '0.0.0.0',
  'ftp.port': 2121,
  'ftp.passive_min_port': 30000,
  'ftp.passive_max_port': 30004,
};

/** Options whose empty value means "not set" (the panel's optional text fields). */
const OPTIONAL_TEXT = new Set([
  'llm_url',
  'llm_model',
  'llm_api_key',
  'alarm_code',
  'api_key',
  'mqtt_url',
  'mqtt_username',
  'mqtt_password',
  'timezone',
  'ftp_passive_url',
]);

/** Top-level keys of the nested format that never name an add-on option (used to tell the formats apart). */
const SHARED_KEYS = new Set(['media_root']);

export interface AddonOptionIssue {
  option: string;
  message: string;
}

export interface AddonMapping {
  /** Nested configuration values (a layer, merged like a YAML file). */
  values: Record<string, unknown>;
  /** Dotted key -> what set it: `add-on option llm_url`, or `add-on setting` for the fixed settings. */
  origins: Map<string, string>;
  /** Unknown options and combinations that cannot work, each naming the option. */
  issues: AddonOptionIssue[];
}

/**
 * True when an options file is in the add-on's flat format: it has an option that only the add-on has. Files in
 * the nested format (`{"detector": {...}}`) keep working; a file with only `media_root` reads the same either way.
 */
export function isAddonOptions(options: Record<string, unknown>): boolean {
  return Object.keys(options).some((name) => name in ADDON_OPTION_KEYS && !SHARED_KEYS.has(name));
}

/** An optional text option's value: undefined when absent, null or blank. */
function textOption(options: Record<string, unknown>, name: string): unknown {
  const value = options[name];
  if (value === null || value === undefined) return undefined;
  if (OPTIONAL_TEXT.has(name) && typeof value === 'string' && value.trim() === '') return undefined;
  return value;
}

/** True when `zone` is an IANA time zone this runtime knows (`Europe/Berlin`, `UTC`). */
export function isKnownTimezone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Maps the add-on's flat options onto the nested configuration. Pure: values are checked later by the schema. */
export function addonOptionsToConfig(options: Record<string, unknown>): AddonMapping {
  const values: Record<string, unknown> = {};
  const origins = new Map<string, string>();
  const issues: AddonOptionIssue[] = [];
  const set = (key: string, value: unknown, origin: string) => {
    setAt(values, key.split('.'), structuredClone(value));
    origins.set(key, origin === '' ? 'add-on setting' : `add-on option ${origin}`);
  };

  for (const [key, value] of Object.entries(ADDON_FIXED_SETTINGS)) set(key, value, '');
  for (const name of Object.keys(options)) {
    const key = ADDON_OPTION_KEYS[name];
    if (key === undefined) {
      const known = Object.keys(ADDON_OPTION_KEYS).join(', ');
      issues.push({ option: name, message: `unknown add-on option; expected one of: ${known}` });
      continue;
    }
    const value = textOption(options, name);
    if (value !== undefined) set(key, value, name);
  }

  const llmUrl = textOption(options, 'llm_url');
  if (llmUrl !== undefined) {
    set('analysis.provider', 'openai', 'llm_url');
    if (textOption(options, 'llm_model') === undefined) {
      issues.push({
        option: 'llm_model',
        message: 'required when llm_url is set: the model name the server serves (e.g. `qwen2.5:7b-instruct`)',
      });
    }
  }
  const timezone = textOption(options, 'timezone');
  if (typeof timezone === 'string' && !isKnownTimezone(timezone)) {
    issues.push({
      option: 'timezone',
      message: `unknown time zone '${timezone}'; use an IANA name like Europe/Berlin`,
    });
  }
  return { values, origins, issues };
}
