import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ingressOnly } from '../../../src/api/auth.js';
import { addonOptionsToConfig, isAddonOptions } from '../../../src/config/addon-options.js';
import { loadConfig } from '../../../src/config/load.js';
import { AppError } from '../../../src/lib/errors.js';

let dir: string;
let optionsFile: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'hsi-addon-options-'));
  optionsFile = path.join(dir, 'options.json');
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The options the Supervisor writes for a fresh install: config.yaml's `options` (optional ones absent). */
const FRESH = {
  media_root: '/media/hsi',
  detector_device: 'auto',
  retention_detections_days: 30,
  retention_events_days: 90,
  retention_media_days: 30,
  log_level: 'info',
};

function load(options: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) {
  writeFileSync(optionsFile, JSON.stringify(options));
  return loadConfig({ env, cwd: dir, optionsFile });
}

function loadError(options: Record<string, unknown>): AppError {
  try {
    load(options);
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('loadConfig did not throw');
}

describe('isAddonOptions', () => {
  it('tells the flat add-on format from the nested one', () => {
    expect(isAddonOptions(FRESH)).toBe(true);
    expect(isAddonOptions({ llm_url: 'http://x' })).toBe(true);
    expect(isAddonOptions({ detector: { confidence: 0.7 }, log: { level: 'warn' } })).toBe(false);
    expect(isAddonOptions({ media_root: '/media/hsi' })).toBe(false);
    expect(isAddonOptions({})).toBe(false);
  });
});

describe('addonOptionsToConfig', () => {
  it('maps the flat options onto nested keys, with the add-on settings and the origin of each key', () => {
    const mapped = addonOptionsToConfig({
      ...FRESH,
      llm_url: 'http://192.168.1.20:11434',
      llm_model: 'qwen2.5:7b-instruct',
      llm_api_key: '',
      alarm_code: '1234',
      timezone: 'Europe/Berlin',
    });
    expect(mapped.issues).toStrictEqual([]);
    expect(mapped.values).toStrictEqual({
      http: { enabled: true, host: '0.0.0.0', port: 8099, ingress: true },
      media_root: '/media/hsi',
      detector: { device: 'auto' },
      retention: { detections_days: 30, events_days: 90, media_days: 30 },
      log: { level: 'info' },
      analysis: { url: 'http://192.168.1.20:11434', model: 'qwen2.5:7b-instruct', provider: 'openai' },
      homeassistant: { alarm_code: '1234' },
      site: { timezone: 'Europe/Berlin' },
      ftp: { host: '0.0.0.0', port: 2121, passive_min_port: 30000, passive_max_port: 30004 },
    });
    expect(mapped.origins.get('analysis.provider')).toBe('add-on option llm_url');
    expect(mapped.origins.get('retention.events_days')).toBe('add-on option retention_events_days');
    expect(mapped.origins.get('http.host')).toBe('add-on setting');
    expect(mapped.origins.has('analysis.api_key')).toBe(false);
  });

  it('names unknown options, a URL without a model and an unknown time zone', () => {
    const mapped = addonOptionsToConfig({ ...FRESH, llm_url: 'http://x:8080', timezone: 'Mars/Olympus', camera: 1 });
    expect(mapped.issues.map((issue) => issue.option)).toStrictEqual(['camera', 'llm_model', 'timezone']);
    expect(mapped.issues[0]?.message).toMatch(/^unknown add-on option; expected one of: media_root, llm_url/);
    expect(mapped.issues[2]?.message).toBe("unknown time zone 'Mars/Olympus'; use an IANA name like Europe/Berlin");
  });
});

describe('loadConfig with the add-on options file', () => {
  it('turns a fresh install into a valid configuration', () => {
    const { config, sources } = load(FRESH, { HSI_DATA_DIR: '/data' });
    expect(sources).toStrictEqual(['defaults', optionsFile, 'HSI_DATA_DIR']);
    expect(config.media_root).toBe('/media/hsi');
    expect(config.data_dir).toBe('/data');
    expect(config.http).toStrictEqual({
      enabled: true,
      host: '0.0.0.0',
      port: 8099,
      api_key: '',
      ingress: true,
      allowed_hosts: [],
      allow_unauthenticated_lan: false,
    });
    // Without a key the API then lets in only the Supervisor's ingress proxy (and the container itself).
    expect(ingressOnly(config.http)).toBe(true);
    expect(config.analysis.provider).toBe('rules');
    expect(config.mqtt.url).toBe('');
  });

  it('turns on the FTP receiver with per-camera logins from the panel', () => {
    const users = [
      { username: 'frontdoor', password: 'door-s3cret', camera: 'Front Door' },
      { username: 'garage', password: 'garage-s3cret' },
    ];
    const { config } = load({ ...FRESH, ftp_enabled: true, ftp_passive_url: '192.168.1.10', ftp_users: users });
    expect(config.ftp).toStrictEqual({
      enabled: true,
      host: '0.0.0.0',
      port: 2121,
      passive_url: '192.168.1.10',
      passive_min_port: 30000,
      passive_max_port: 30004,
      idle_timeout_s: 300,
      max_connections: 32,
      max_connections_per_address: 8,
      login_timeout_s: 10,
      command_timeout_s: 10,
      users,
    });
  });

  it('sets every option, and the environment (from the entry script) still wins', () => {
    const { config } = load(
      {
        ...FRESH,
        media_root: '/media/cameras',
        llm_url: 'https://api.openai.com',
        llm_model: 'gpt-4o-mini',
        llm_api_key: 'sk-test',
        detector_device: 'cpu',
        retention_detections_days: 7,
        retention_events_days: 365,
        retention_media_days: 0,
        log_level: 'debug',
        alarm_code: '0000',
        api_key: 'k3y',
        mqtt_url: 'mqtts://broker.lan:8883',
        mqtt_username: 'hsi',
        mqtt_password: 'secret',
        timezone: 'America/New_York',
      },
      { HSI_MQTT_PASSWORD: 'from-env' },
    );
    expect(config.media_root).toBe('/media/cameras');
    expect(config.analysis).toStrictEqual({
      provider: 'openai',
      url: 'https://api.openai.com',
      model: 'gpt-4o-mini',
      api_key: 'sk-test',
      timeout_ms: 30000,
      concurrency: 2,
    });
    expect(config.detector.device).toBe('cpu');
    expect(config.retention).toStrictEqual({ detections_days: 7, media_days: 0, events_days: 365, interval_hours: 6 });
    expect(config.log.level).toBe('debug');
    expect(config.homeassistant.alarm_code).toBe('0000');
    expect(config.http.api_key).toBe('k3y');
    expect([config.mqtt.url, config.mqtt.username, config.mqtt.password]).toStrictEqual([
      'mqtts://broker.lan:8883',
      'hsi',
      'from-env',
    ]);
    expect(config.site.timezone).toBe('America/New_York');
  });

  it('reports bad values by their add-on option, and add-on problems with them', () => {
    const error = loadError({ ...FRESH, log_level: 'loud', mqtt_url: 'broker.lan', llm_url: 'http://x:1', color: 2 });
    expect(error.code).toBe('CONFIG_INVALID');
    const issues = (error.details?.errors ?? []) as { key: string; source: string; message: string }[];
    expect(issues).toStrictEqual([
      { key: 'color', source: `${optionsFile} (add-on)`, message: expect.stringMatching(/^unknown add-on option/) },
      { key: 'llm_model', source: `${optionsFile} (add-on)`, message: expect.stringMatching(/^required when llm_url/) },
      { key: 'mqtt.url', source: `${optionsFile} (add-on option mqtt_url)`, message: "must be '' or an mqtt:// URL" },
      {
        key: 'log.level',
        source: `${optionsFile} (add-on option log_level)`,
        message: 'must be one of: trace, debug, info, warn, error, fatal, silent',
      },
    ]);
  });

  it('keeps reading options files in the nested format', () => {
    const { config } = load({ detector: { confidence: 0.7 }, media_root: '/srv/cams' });
    expect(config.detector.confidence).toBe(0.7);
    expect(config.media_root).toBe('/srv/cams');
    expect(config.http.host).toBe('127.0.0.1');
  });
});
