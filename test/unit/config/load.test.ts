import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LoadConfigOptions, loadConfig } from '../../../src/config/load.js';
import { AppError } from '../../../src/lib/errors.js';

let dir: string;
/** Options that read nothing from this machine: no ./config.yaml, no /data/options.json, no real environment. */
let isolated: LoadConfigOptions;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'hsi-config-'));
  isolated = { env: {}, cwd: dir, optionsFile: path.join(dir, 'options.json') };
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

function loadError(options: LoadConfigOptions): AppError {
  try {
    loadConfig(options);
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('loadConfig did not throw');
}

describe('loadConfig', () => {
  it('loads the defaults alone, with absolute paths and the default model file', () => {
    const { config, sources } = loadConfig(isolated);
    expect(sources).toStrictEqual(['defaults']);
    expect(config.data_dir).toBe(path.join(dir, 'data'));
    expect(config.media_root).toBe(path.join(dir, 'media'));
    expect(config.assets_dir).toBe(path.resolve(dir, '..', 'shared'));
    expect(config.detector.model).toBe(path.resolve(dir, '..', 'shared', 'models', 'yolox_nano.onnx'));
    expect(config.detector.labels).toBe('');
    expect(config.database).toStrictEqual({ url: '', pool_size: 10, embedded_cache_mb: 16 });
    expect(config.redis).toStrictEqual({ url: '', prefix: 'hsi' });
  });

  it('layers defaults <- YAML <- options.json <- environment, later wins', () => {
    const yamlFile = write(
      'hsi.yaml',
      [
        'log: {level: debug}',
        'detector:',
        '  confidence: 0.6',
        '  threads: 2',
        '  nms_iou: 0.3',
        'ingest:',
        '  stable_ms: 100',
      ].join('\n'),
    );
    const optionsFile = write(
      'options.json',
      JSON.stringify({ detector: { confidence: 0.7, threads: 3 }, log: { level: 'warn' } }),
    );
    const { config, sources, warnings } = loadConfig({
      configFile: yamlFile,
      optionsFile,
      cwd: dir,
      env: { HSI_DETECTOR_CONFIDENCE: '0.8', HSI_UNRELATED: 'x' },
      warn: () => undefined,
    });
    expect(warnings).toStrictEqual(['HSI_UNRELATED is not an HSI variable and is ignored']);
    expect(config.detector.confidence).toBe(0.8);
    expect(config.detector.threads).toBe(3);
    expect(config.detector.nms_iou).toBe(0.3);
    expect(config.log.level).toBe('warn');
    expect(config.ingest.stable_ms).toBe(100);
    expect(config.ingest.poll_interval_ms).toBe(1000);
    expect(config.detector.classes).toHaveLength(9);
    expect(sources).toStrictEqual(['defaults', yamlFile, optionsFile, 'HSI_DETECTOR_CONFIDENCE']);
  });

  it('finds the YAML file from --config, else HSI_CONFIG, else ./config.yaml', () => {
    write('config.yaml', 'log: {level: error}\n');
    const named = write('named.yaml', 'log: {level: trace}\n');
    const fromEnv = write('env.yaml', 'log: {level: fatal}\n');
    expect(loadConfig(isolated).config.log.level).toBe('error');
    expect(loadConfig({ ...isolated, env: { HSI_CONFIG: 'env.yaml' } }).sources).toStrictEqual(['defaults', fromEnv]);
    const both = loadConfig({ ...isolated, configFile: 'named.yaml', env: { HSI_CONFIG: fromEnv } });
    expect(both.config.log.level).toBe('trace');
    expect(both.sources).toStrictEqual(['defaults', named]);
  });

  it('reads the options file named by HSI_OPTIONS_FILE', () => {
    const optionsFile = write('addon.json', '{"redis": {"prefix": "addon"}}');
    const { config, sources } = loadConfig({ cwd: dir, env: { HSI_OPTIONS_FILE: optionsFile } });
    expect(config.redis.prefix).toBe('addon');
    expect(sources).toStrictEqual(['defaults', optionsFile]);
  });

  it('refuses a named configuration file that does not exist', () => {
    const error = loadError({ ...isolated, configFile: 'missing.yaml' });
    expect(error.code).toBe('CONFIG_FILE');
    expect(error.message).toBe(`Configuration file ${path.join(dir, 'missing.yaml')} (from --config) does not exist`);
    expect(loadError({ ...isolated, env: { HSI_CONFIG: '/nonexistent/hsi.yaml' } }).message).toContain(
      '(from HSI_CONFIG)',
    );
  });

  it('resolves relative paths against cwd and keeps absolute ones', () => {
    const file = write(
      'config.yaml',
      'data_dir: state\nmedia_root: /srv/ftp\nassets_dir: assets\ndetector:\n  labels: l.txt\n',
    );
    const { config } = loadConfig({ ...isolated, configFile: file });
    expect(config.data_dir).toBe(path.join(dir, 'state'));
    expect(config.media_root).toBe('/srv/ftp');
    expect(config.detector.labels).toBe(path.join(dir, 'l.txt'));
    expect(config.detector.model).toBe(path.join(dir, 'assets', 'models', 'yolox_nano.onnx'));
  });

  it('picks the default model file of the configured family, or the model given', () => {
    const picodet = loadConfig({
      ...isolated,
      env: { HSI_DETECTOR_MODEL_TYPE: 'picodet', HSI_ASSETS_DIR: '/opt/hsi' },
    });
    expect(picodet.config.detector.model).toBe('/opt/hsi/models/picodet_s_416_coco.onnx');
    const own = loadConfig({ ...isolated, env: { HSI_DETECTOR_MODEL: 'my.onnx' } });
    expect(own.config.detector.model).toBe(path.join(dir, 'my.onnx'));
  });

  it('treats a YAML section left empty as empty, and an empty file as no keys', () => {
    const file = write('config.yaml', '# only comments\nredis:\n  # url: redis://localhost\n');
    expect(loadConfig({ ...isolated, configFile: file }).config.redis).toStrictEqual({ url: '', prefix: 'hsi' });
    const empty = write('empty.yaml', '');
    expect(loadConfig({ ...isolated, configFile: empty }).sources).toStrictEqual(['defaults', empty]);
  });
});

describe('loadConfig errors', () => {
  it('rejects an unknown key with its full dotted key and the file', () => {
    const file = write('config.yaml', 'detector:\n  confidance: 0.6\n');
    const error = loadError({ ...isolated, configFile: file });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.details).toStrictEqual({
      errors: [
        {
          key: 'detector.confidance',
          source: file,
          message:
            'unknown key; expected one of: model, model_type, labels, device, confidence, class_confidence, classes, ' +
            'nms_iou, concurrency, threads, worker_thread, thumbnails',
        },
      ],
    });
  });

  it('lists every error, one per line, by key and source', () => {
    const file = write('config.yaml', 'ingest:\n  stable_ms: -5\nlog:\n  level: loud\ncolour: blue\n');
    const optionsFile = write('options.json', '{"detector": {"device": "tpu", "classes": []}}');
    const error = loadError({
      configFile: file,
      optionsFile,
      cwd: dir,
      env: { HSI_DETECTOR_CONFIDENCE: '1.5', HSI_QUEUE_ATTEMPTS: 'three', HSI_DATABASE_URL: 'mysql://db' },
    });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message.split('\n')).toStrictEqual([
      'Invalid configuration (8 errors); fix or remove these keys (see docs/CONFIGURATION.md):',
      "  queue.attempts (from HSI_QUEUE_ATTEMPTS): expected an integer, got 'three'",
      `  colour (from ${file}): unknown key; expected one of: data_dir, media_root, assets_dir, database, redis, ` +
        'detector, ingest, queue, batching, analysis, site, zones, alerts, identity, mqtt, homeassistant, http, ftp, retention, log',
      "  database.url (from HSI_DATABASE_URL): must be '' or a postgres:// URL",
      `  detector.device (from ${optionsFile}): must be one of: auto, cpu, cuda`,
      '  detector.confidence (from HSI_DETECTOR_CONFIDENCE): must be <= 1',
      `  detector.classes (from ${optionsFile}): must NOT have fewer than 1 items`,
      `  ingest.stable_ms (from ${file}): must be >= 0`,
      `  log.level (from ${file}): must be one of: trace, debug, info, warn, error, fatal, silent`,
    ]);
  });

  it('attributes an error to the last layer that set the key', () => {
    const file = write('config.yaml', 'detector:\n  concurrency: 0\n  nms_iou: 2\n');
    const optionsFile = write('options.json', '{"detector": {"concurrency": 4}}');
    const error = loadError({ configFile: file, optionsFile, cwd: dir, env: { HSI_DETECTOR_NMS_IOU: '3' } });
    expect(error.details).toStrictEqual({
      errors: [{ key: 'detector.nms_iou', source: 'HSI_DETECTOR_NMS_IOU', message: 'must be <= 1' }],
    });
  });

  it('refuses a timezone the time zone database does not know, suggesting the one meant', () => {
    const error = loadError({ ...isolated, env: { HSI_SITE_TIMEZONE: 'Europe/Berlin ' } });
    expect(error.details).toStrictEqual({
      errors: [
        {
          key: 'site.timezone',
          source: 'HSI_SITE_TIMEZONE',
          message:
            "must be an IANA timezone name such as Europe/Berlin or America/New_York ('' = the system's), got " +
            '"Europe/Berlin "; did you mean Europe/Berlin?',
        },
      ],
    });
    expect(loadError({ ...isolated, env: { HSI_SITE_TIMEZONE: 'Mars/Olympus' } }).message).toMatch(
      /got "Mars\/Olympus"$/,
    );
    for (const ok of ['', 'UTC', 'Europe/Berlin', 'Asia/Calcutta', 'America/Argentina/Buenos_Aires']) {
      expect(loadConfig({ ...isolated, env: { HSI_SITE_TIMEZONE: ok } }).config.site.timezone).toBe(ok);
    }
  });

  it('refuses a data_dir inside media_root (HSI would ingest its own thumbnails), and the other way round', () => {
    const inMedia = loadError({ ...isolated, env: { HSI_MEDIA_ROOT: 'media', HSI_DATA_DIR: 'media/.hsi' } });
    expect(inMedia.details).toMatchObject({ errors: [{ key: 'data_dir', source: 'HSI_DATA_DIR' }] });
    expect(inMedia.message).toContain(`data_dir ${path.join(dir, 'media', '.hsi')} is inside media_root`);
    const around = loadError({ ...isolated, env: { HSI_MEDIA_ROOT: 'data/media', HSI_DATA_DIR: 'data' } });
    expect(around.message).toContain('contains media_root');
    expect(() =>
      loadConfig({ ...isolated, env: { HSI_MEDIA_ROOT: 'media', HSI_DATA_DIR: 'media-data' } }),
    ).not.toThrow();
  });

  it('refuses a latitude out of range', () => {
    const error = loadError({ ...isolated, env: { HSI_SITE_LATITUDE: '91' } });
    expect(error.details).toMatchObject({ errors: [{ key: 'site.latitude', message: 'must be <= 90' }] });
  });

  it('names a section that is not a mapping', () => {
    const file = write('config.yaml', 'detector: fast\n');
    expect(loadError({ ...isolated, configFile: file }).details).toStrictEqual({
      errors: [{ key: 'detector', source: file, message: 'must be object' }],
    });
  });

  it('reports unparsable YAML as CONFIG_FILE with the path and line', () => {
    const file = write('config.yaml', 'log:\n  level: info\ndetector: model: x.onnx\n');
    const error = loadError({ ...isolated, configFile: file });
    expect(error.code).toBe('CONFIG_FILE');
    expect(error.message).toContain(
      `Cannot parse configuration file ${file}: Nested mappings are not allowed in compact mappings at line 3, column 11`,
    );
    expect(error.details).toStrictEqual({ file, line: 3, column: 11 });
  });

  it('reports duplicate YAML keys with their line', () => {
    const file = write('config.yaml', 'log:\n  level: info\nlog:\n  level: debug\n');
    const error = loadError({ ...isolated, configFile: file });
    expect(error.code).toBe('CONFIG_FILE');
    expect(error.details).toStrictEqual({ file, line: 3, column: 1 });
  });

  it('reports a YAML file that is not a mapping', () => {
    const file = write('config.yaml', '- a\n- b\n');
    const error = loadError({ ...isolated, configFile: file });
    expect(error.code).toBe('CONFIG_FILE');
    expect(error.message).toBe(`Configuration file ${file} must hold a mapping of keys at the top level, not a list`);
  });

  it('reports unparsable options JSON as CONFIG_FILE with the path and line', () => {
    const optionsFile = write('options.json', '{\n  "log": {"level": "info"},\n}\n');
    const error = loadError({ ...isolated, optionsFile });
    expect(error.code).toBe('CONFIG_FILE');
    expect(error.message).toContain(`Cannot parse JSON file ${optionsFile} at line 3, column 1: `);
    expect(error.details).toStrictEqual({ file: optionsFile, line: 3, column: 1 });
  });
});
