import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { coerceEnvValue, envVarName, readEnvLayer, unknownEnvWarnings } from '../../../src/config/env.js';
import { loadConfig } from '../../../src/config/load.js';
import { AppError } from '../../../src/lib/errors.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'hsi-config-env-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function load(env: NodeJS.ProcessEnv) {
  return loadConfig({ env, cwd: dir, optionsFile: path.join(dir, 'options.json') }).config;
}

function errorsOf(env: NodeJS.ProcessEnv): unknown {
  try {
    load(env);
  } catch (error) {
    if (error instanceof AppError && error.code === 'CONFIG_INVALID') return error.details?.errors;
    throw error;
  }
  throw new Error('loadConfig did not throw');
}

describe('environment variable names', () => {
  it('derives the name from the dotted key', () => {
    expect(envVarName('database.url')).toBe('HSI_DATABASE_URL');
    expect(envVarName('detector.model')).toBe('HSI_DETECTOR_MODEL');
    expect(envVarName('ingest.max_file_mb')).toBe('HSI_INGEST_MAX_FILE_MB');
  });
});

describe('environment coercion', () => {
  it('reads strings as written, including the empty string', () => {
    const config = load({
      HSI_DATABASE_URL: 'postgres://db/hsi',
      HSI_REDIS_URL: '',
      HSI_INGEST_FFMPEG_PATH: ' ffmpeg6',
    });
    expect(config.database.url).toBe('postgres://db/hsi');
    expect(config.redis.url).toBe('');
    expect(config.ingest.ffmpeg_path).toBe(' ffmpeg6');
  });

  it('reads integers and numbers', () => {
    const config = load({
      HSI_INGEST_STABLE_MS: ' 1500 ',
      HSI_DETECTOR_CONFIDENCE: '0.25',
      HSI_INGEST_MAX_FILE_MB: '12.5',
    });
    expect(config.ingest.stable_ms).toBe(1500);
    expect(config.detector.confidence).toBe(0.25);
    expect(config.ingest.max_file_mb).toBe(12.5);
  });

  it.each([
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['yes', true],
    ['false', false],
    ['0', false],
    ['No', false],
  ])('reads boolean %s as %s', (raw, value) => {
    expect(load({ HSI_INGEST_POLLING: raw }).ingest.polling).toBe(value);
  });

  it('reads lists comma-separated or as JSON', () => {
    expect(load({ HSI_DETECTOR_CLASSES: 'person, car,dog' }).detector.classes).toStrictEqual(['person', 'car', 'dog']);
    expect(load({ HSI_DETECTOR_CLASSES: '["person","traffic light"]' }).detector.classes).toStrictEqual([
      'person',
      'traffic light',
    ]);
  });

  it('reads maps as JSON', () => {
    const config = load({ HSI_DETECTOR_CLASS_CONFIDENCE: '{"person": 0.6, "bird": 0.7}' });
    expect(config.detector.class_confidence).toStrictEqual({ person: 0.6, bird: 0.7 });
  });

  it('reads enums as strings, validated against the allowed values', () => {
    expect(load({ HSI_LOG_LEVEL: 'debug', HSI_DETECTOR_DEVICE: 'cpu' }).log).toStrictEqual({ level: 'debug' });
  });

  it('coerces list items by the item type', () => {
    expect(coerceEnvValue('1, 2,3', { type: 'array', items: { type: 'integer' } })).toStrictEqual({ value: [1, 2, 3] });
    expect(coerceEnvValue('1,x', { type: 'array', items: { type: 'integer' } })).toStrictEqual({
      error: "item 'x': expected an integer, got 'x'",
    });
  });

  it('ignores variables that name no key and reports which keys were set', () => {
    const layer = readEnvLayer({ HSI_DETECTOR_THREADS: '4', HSI_NOT_A_KEY: '1', PATH: '/bin' });
    expect(layer).toStrictEqual({
      values: { detector: { threads: 4 } },
      applied: [{ key: 'detector.threads', env: 'HSI_DETECTOR_THREADS' }],
      errors: [],
    });
  });
});

describe('environment errors', () => {
  it.each([
    ['HSI_INGEST_STABLE_MS', '1.5', 'ingest.stable_ms', "expected an integer, got '1.5'"],
    ['HSI_INGEST_STABLE_MS', '', 'ingest.stable_ms', "expected an integer, got ''"],
    ['HSI_DETECTOR_CONFIDENCE', 'high', 'detector.confidence', "expected a number, got 'high'"],
    ['HSI_DETECTOR_CONFIDENCE', '', 'detector.confidence', "expected a number, got ''"],
    ['HSI_INGEST_POLLING', 'on', 'ingest.polling', "expected true/false/1/0/yes/no, got 'on'"],
    ['HSI_DETECTOR_CLASSES', '["person"', 'detector.classes', `expected a JSON array, got '["person"'`],
    ['HSI_DETECTOR_CLASSES', 'person,,car', 'detector.classes', "expected comma-separated values, got 'person,,car'"],
    ['HSI_DETECTOR_CLASS_CONFIDENCE', '[0.5]', 'detector.class_confidence', "expected a JSON object, got '[0.5]'"],
    [
      'HSI_DETECTOR_CLASS_CONFIDENCE',
      'person=0.6',
      'detector.class_confidence',
      "expected a JSON object, got 'person=0.6'",
    ],
  ])('%s=%j is an error naming the variable', (env, raw, key, message) => {
    expect(errorsOf({ [env]: raw })).toStrictEqual([{ key, source: env, message }]);
  });

  it('reports values of the right type but out of range with the variable', () => {
    expect(errorsOf({ HSI_DETECTOR_CONCURRENCY: '17', HSI_LOG_LEVEL: 'verbose' })).toStrictEqual([
      { key: 'detector.concurrency', source: 'HSI_DETECTOR_CONCURRENCY', message: 'must be <= 16' },
      {
        key: 'log.level',
        source: 'HSI_LOG_LEVEL',
        message: 'must be one of: trace, debug, info, warn, error, fatal, silent',
      },
    ]);
  });

  it('names the variable in the message', () => {
    try {
      load({ HSI_DETECTOR_CONFIDENCE: '2' });
      throw new Error('loadConfig did not throw');
    } catch (error) {
      expect((error as Error).message).toContain('detector.confidence (from HSI_DETECTOR_CONFIDENCE): must be <= 1');
    }
  });

  it('reports map entries out of range by their full key', () => {
    expect(errorsOf({ HSI_DETECTOR_CLASS_CONFIDENCE: '{"person": 1.2}' })).toStrictEqual([
      { key: 'detector.class_confidence.person', source: 'HSI_DETECTOR_CLASS_CONFIDENCE', message: 'must be <= 1' },
    ]);
  });
});

describe('unknown HSI_* variables', () => {
  it('warns about each one, sorted, with the closest known name when one is near', () => {
    expect(
      unknownEnvWarnings({
        HSI_MQT_URL: 'mqtt://broker',
        HSI_DETECTOR_THREADZ: '4',
        HSI_MQTT_USER: 'hsi',
        HSI_LOGLEVEL: 'debug',
        HSI_ZZZZZZ: '1',
        PATH: '/bin',
        hsi_mqtt_url: 'not ours: lower case',
      }),
    ).toStrictEqual([
      'HSI_DETECTOR_THREADZ is not an HSI variable and is ignored (did you mean HSI_DETECTOR_THREADS?)',
      'HSI_LOGLEVEL is not an HSI variable and is ignored (did you mean HSI_LOG_LEVEL?)',
      'HSI_MQTT_USER is not an HSI variable and is ignored (did you mean HSI_MQTT_USERNAME?)',
      'HSI_MQT_URL is not an HSI variable and is ignored (did you mean HSI_MQTT_URL?)',
      'HSI_ZZZZZZ is not an HSI variable and is ignored',
    ]);
  });

  it('knows the configuration keys and the variables HSI reads outside the configuration', () => {
    expect(
      unknownEnvWarnings({
        HSI_MQTT_URL: 'mqtt://broker',
        HSI_ASSETS_DIR: '/app/assets',
        HSI_CONFIG: 'hsi.yaml',
        HSI_OPTIONS_FILE: '/data/options.json',
        HSI_ROLES: 'ingest',
        HSI_APP_DIR: '/app',
        HSI_ADDON_CONFIG_DIR: '/config',
        HSI_SUPERVISOR_URL: 'http://supervisor',
        HSI_TEST_DATABASE_URL: 'postgres://x',
        HSI_TEST_PG_BIN: '/usr/lib/postgresql/16/bin',
        HSI_FUZZ_SEED: '1',
        HSI_FFMPEG: 'ffmpeg',
      }),
    ).toStrictEqual([]);
  });

  it('loadConfig reports them through warn and returns them, before validating', () => {
    const seen: string[] = [];
    const loaded = loadConfig({
      env: { HSI_MQT_URL: 'mqtt://x' },
      cwd: dir,
      optionsFile: path.join(dir, 'options.json'),
      warn: (m) => seen.push(m),
    });
    const expected = ['HSI_MQT_URL is not an HSI variable and is ignored (did you mean HSI_MQTT_URL?)'];
    expect(loaded.warnings).toStrictEqual(expected);
    expect(seen).toStrictEqual(expected);
    seen.length = 0;
    expect(() =>
      loadConfig({
        env: { HSI_DETECTOR_CONFIDENCE: '2', HSI_DETECTOR_CONFIDENSE: '0.5' },
        cwd: dir,
        optionsFile: path.join(dir, 'options.json'),
        warn: (m) => seen.push(m),
      }),
    ).toThrow(AppError);
    expect(seen).toStrictEqual([
      'HSI_DETECTOR_CONFIDENSE is not an HSI variable and is ignored (did you mean HSI_DETECTOR_CONFIDENCE?)',
    ]);
  });
});
