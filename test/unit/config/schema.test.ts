import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isMap, isPair, isScalar, parseDocument, type YAMLMap } from 'yaml';
import { configDocs } from '../../../src/config/docs.js';
import { envVarNames } from '../../../src/config/env.js';
import { DEFAULT_MODEL_FILES, DEFAULT_MODEL_TYPE } from '../../../src/config/schema.js';
import { validateConfig } from '../../../src/config/validate.js';
import { schemaDefaults, schemaLeaves } from '../../../src/config/walk.js';

const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');

describe('config schema', () => {
  it('validates its own defaults', () => {
    expect(validateConfig(schemaDefaults(), new Map())).toStrictEqual([]);
  });

  it('gives every key a title, a description and a default', () => {
    const incomplete = schemaLeaves()
      .filter((leaf) => !leaf.schema.title || !leaf.schema.description || leaf.schema.default === undefined)
      .map((leaf) => leaf.key);
    expect(incomplete).toStrictEqual([]);
  });

  it('has the documented defaults', () => {
    const defaults = schemaDefaults();
    expect(defaults.detector.model_type).toBe(DEFAULT_MODEL_TYPE);
    expect(defaults.detector.classes).toStrictEqual([
      'person',
      'car',
      'truck',
      'bus',
      'bicycle',
      'motorcycle',
      'dog',
      'cat',
      'bird',
    ]);
    expect(defaults.ingest).toStrictEqual({
      stable_ms: 2000,
      polling: false,
      poll_interval_ms: 1000,
      max_file_mb: 50,
      max_pixels: 40_000_000,
      video_fps: 1,
      video_max_frames: 10,
      ffmpeg_path: 'ffmpeg',
      reconcile_interval_s: 60,
    });
    expect(defaults.queue).toStrictEqual({ attempts: 5, backoff_ms: 2000 });
    expect(defaults.log).toStrictEqual({ level: 'info' });
  });

  it('returns a fresh copy of the defaults each time', () => {
    const first = schemaDefaults();
    first.detector.classes.push('horse');
    expect(schemaDefaults().detector.classes).not.toContain('horse');
  });

  it('names one distinct environment variable per key', () => {
    const names = envVarNames();
    expect(names.length).toBe(schemaLeaves().length);
    expect(new Set(names.map((n) => n.env)).size).toBe(names.length);
    expect(names.slice(0, 4)).toStrictEqual([
      { key: 'data_dir', env: 'HSI_DATA_DIR' },
      { key: 'media_root', env: 'HSI_MEDIA_ROOT' },
      { key: 'assets_dir', env: 'HSI_ASSETS_DIR' },
      { key: 'database.url', env: 'HSI_DATABASE_URL' },
    ]);
    expect(names).toContainEqual({ key: 'ingest.max_file_mb', env: 'HSI_INGEST_MAX_FILE_MB' });
    // These two name the files themselves, so no key may take them.
    expect(names.map((n) => n.env)).not.toContain('HSI_CONFIG');
    expect(names.map((n) => n.env)).not.toContain('HSI_OPTIONS_FILE');
  });

  it('has a default model file for every model family', () => {
    expect(Object.keys(DEFAULT_MODEL_FILES).sort()).toStrictEqual(['picodet', 'yolo', 'yolox']);
    expect(DEFAULT_MODEL_FILES.yolox).toBe('yolox_nano.onnx');
  });
});

describe('config.example.yaml', () => {
  const text = readFileSync(path.join(repoRoot, 'config.example.yaml'), 'utf8');

  it('holds every key with the default value', () => {
    const example: unknown = parseDocument(text).toJS();
    expect(example).toStrictEqual(schemaDefaults());
    expect(validateConfig(example, new Map())).toStrictEqual([]);
  });

  it('explains every key with a comment', () => {
    const doc = parseDocument(text);
    const uncommented: string[] = [];
    const visitMap = (map: YAMLMap, prefix: string): void => {
      map.items.forEach((pair, index) => {
        if (!isPair(pair) || !isScalar(pair.key)) return;
        const key = `${prefix}${String(pair.key.value)}`;
        const comment = pair.key.commentBefore ?? (index === 0 ? map.commentBefore : undefined);
        if (!comment?.trim()) uncommented.push(key);
        if (isMap(pair.value) && pair.value.items.length > 0 && key !== 'detector.class_confidence') {
          visitMap(pair.value, `${key}.`);
        }
      });
    };
    if (!isMap(doc.contents)) throw new Error('config.example.yaml is not a mapping');
    visitMap(doc.contents, '');
    expect(uncommented).toStrictEqual([]);
  });
});

describe('docs/CONFIGURATION.md', () => {
  it('is up to date with the schema (regenerate with npx tsx scripts/config-docs.ts)', () => {
    const current = readFileSync(path.join(repoRoot, 'docs', 'CONFIGURATION.md'), 'utf8');
    expect(current).toBe(configDocs());
  });

  it('documents every key with its variable, type and default', () => {
    const docs = configDocs();
    for (const { key, env } of envVarNames()) expect(docs).toContain(`| \`${key}\` | \`${env}\` |`);
    expect(docs).toContain(
      '| `detector.confidence` | `HSI_DETECTOR_CONFIDENCE` | number (0–1) | `0.5` | **Minimum confidence.** ',
    );
    expect(docs).toContain('| `detector.concurrency` | `HSI_DETECTOR_CONCURRENCY` | integer (1–16) | `2` |');
    expect(docs).toContain('| one of `yolox`, `picodet`, `yolo` | `yolox` |');
    expect(docs).toContain('| map of string → number (0–1) | `{}` |');
    expect(docs).toContain('| list of string | `person,car,truck,bus,bicycle,motorcycle,dog,cat,bird` |');
  });
});
