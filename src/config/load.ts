import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { AppError } from '../lib/errors.js';
import { addonOptionsToConfig, isAddonOptions } from './addon-options.js';
import { readEnvLayer, unknownEnvWarnings } from './env.js';
import { readJsonFile, readYamlFile } from './files.js';
import { type Config, DEFAULT_MODEL_FILES } from './schema.js';
import { DEFAULT_IDENTITY_MODELS } from './sections/identity.js';
import {
  type ConfigIssue,
  DEFAULTS_SOURCE,
  invalidConfigError,
  type Provenance,
  sourceOf,
  validateConfig,
} from './validate.js';
import {
  getAt,
  isPlainObject,
  isSection,
  rootSchema,
  type SchemaNode,
  schemaDefaults,
  schemaLeaves,
  setAt,
} from './walk.js';

export { envVarName, envVarNames, unknownEnvWarnings } from './env.js';
export { redactConfig, redactSecrets } from './redact.js';
export type { ConfigIssue } from './validate.js';

/** The Home Assistant add-on's options, read when present. */
export const DEFAULT_OPTIONS_FILE = '/data/options.json';
/** Read from the working directory when no file is named. */
export const DEFAULT_CONFIG_FILE = 'config.yaml';

export interface LoadConfigOptions {
  /** `hsi run --config FILE`; else `HSI_CONFIG`; else `./config.yaml` when it exists. */
  configFile?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Else `HSI_OPTIONS_FILE`, else `/data/options.json`; read only when the file exists. */
  optionsFile?: string;
  /**
   * Receives each warning as it is found (an `HSI_*` variable HSI does not read); the CLI has no logger yet when it
   * loads the configuration, so by default each goes to stderr as `hsi: warning: ...`.
   */
  warn?: (message: string) => void;
}

export interface LoadedConfig {
  /** Valid configuration; paths are absolute and `detector.model` names a file. */
  config: Config;
  /** What contributed, lowest first: `defaults`, file paths, then each `HSI_*` variable applied. */
  sources: string[];
  /** Problems that do not stop HSI: `HSI_*` variables it does not read (typos), with the closest known name. */
  warnings: string[];
}

/**
 * Loads the configuration: schema defaults <- YAML file <- options.json <- `HSI_*` variables (later wins).
 * Throws `CONFIG_FILE` for a file that cannot be read or parsed and `CONFIG_INVALID` listing every problem.
 */
export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const schema = rootSchema();
  const merged = schemaDefaults(schema) as unknown as Record<string, unknown>;
  const provenance = new Map<string, string>();
  const sources = [DEFAULTS_SOURCE];

  const configFile = findConfigFile(options.configFile, env, cwd);
  if (configFile !== undefined) {
    mergeLayer(merged, readYamlFile(configFile), { source: configFile, provenance, schema });
    sources.push(configFile);
  }
  const optionsFile = path.resolve(cwd, options.optionsFile ?? env.HSI_OPTIONS_FILE ?? DEFAULT_OPTIONS_FILE);
  const optionIssues: ConfigIssue[] = [];
  if (existsSync(optionsFile)) {
    optionIssues.push(...mergeOptionsFile(merged, optionsFile, provenance, schema));
    sources.push(optionsFile);
  }
  const warnings = unknownEnvWarnings(env, schema);
  const warn = options.warn ?? ((message: string) => process.stderr.write(`hsi: warning: ${message}\n`));
  for (const message of warnings) warn(message);
  const envLayer = readEnvLayer(env, schema);
  for (const { key, env: name } of envLayer.applied) {
    const keyPath = key.split('.');
    setAt(merged, keyPath, structuredClone(getAt(envLayer.values, keyPath)));
    provenance.set(key, name);
    sources.push(name);
  }

  const issues = [...optionIssues, ...envLayer.errors, ...validateConfig(merged, provenance, schema)];
  if (issues.length === 0) issues.push(...exposureIssues(merged as unknown as Config, provenance));
  if (issues.length > 0) throw invalidConfigError(issues);
  const config = resolvePaths(merged as unknown as Config, cwd, schema);
  const overlaps = folderIssues(config, provenance);
  if (overlaps.length > 0) throw invalidConfigError(overlaps);
  return { config, sources, warnings };
}

const inside = (parent: string, child: string) => {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};

/**
 * HSI writes under `data_dir` (thumbnails, the embedded database) and ingests every file under `media_root`: one
 * inside the other would ingest its own thumbnails in a growing loop, or treat uploads as its data.
 */
export function folderIssues(config: Config, provenance: Provenance): ConfigIssue[] {
  const media = path.resolve(config.media_root);
  const data = path.resolve(config.data_dir);
  if (!inside(media, data) && !inside(data, media)) return [];
  const where = inside(media, data) ? 'inside media_root' : 'contains media_root';
  return [
    {
      key: 'data_dir',
      source: sourceOf('data_dir', provenance),
      message:
        `data_dir ${data} is ${where} ${media}: HSI would ingest the thumbnails it writes as new uploads, in a ` +
        'growing loop. Give them separate folders, e.g. data_dir ./data and media_root ./media',
    },
  ];
}

/** True for an address only this machine can reach: `localhost`, 127.0.0.0/8, `::1` (brackets allowed). */
export function isLoopbackHost(host: string): boolean {
  const name = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  if (name === 'localhost' || name === '::1') return true;
  const v4 = name.replace(/^::ffff:/, '');
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/**
 * A listener reachable from other machines must ask for credentials: the HTTP API (which can disarm the house)
 * needs `http.api_key`, or `http.ingress` (then only the Supervisor's proxy gets in without it), or the explicit,
 * dangerous `http.allow_unauthenticated_lan`; the embedded MQTT broker (started when `mqtt.url` is empty) needs
 * `mqtt.embedded.username`/`password`. Each issue says how to fix it.
 */
export function exposureIssues(config: Config, provenance: Provenance): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const { http, mqtt } = config;
  const httpOpen = http.enabled && http.api_key === '' && !http.ingress && !http.allow_unauthenticated_lan;
  if (httpOpen && !isLoopbackHost(http.host)) {
    issues.push({
      key: 'http.host',
      source: sourceOf('http.host', provenance),
      message:
        `the HTTP API listens on ${http.host} (http.host), reachable from other machines, without an API key: anyone ` +
        'there could disarm the house. Set http.api_key (HSI_HTTP_API_KEY), or bind http.host to 127.0.0.1, or ' +
        'set http.allow_unauthenticated_lan: true to accept the risk (dangerous)',
    });
  }
  const embedded = mqtt.embedded;
  const brokerOpen = mqtt.url === '' && (embedded.username === '' || embedded.password === '');
  if (brokerOpen && !isLoopbackHost(embedded.host)) {
    issues.push({
      key: 'mqtt.embedded.host',
      source: sourceOf('mqtt.embedded.host', provenance),
      message:
        `the embedded MQTT broker listens on ${embedded.host} (mqtt.embedded.host), reachable from other machines, ` +
        'without credentials: anyone there could command HSI. Set mqtt.embedded.username and mqtt.embedded.password ' +
        '(HSI_MQTT_EMBEDDED_USERNAME, HSI_MQTT_EMBEDDED_PASSWORD), or bind mqtt.embedded.host to 127.0.0.1, or set ' +
        'mqtt.url to your own broker',
    });
  }
  return issues;
}

function findConfigFile(configFile: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  const named = configFile ?? env.HSI_CONFIG;
  if (named !== undefined && named !== '') {
    const file = path.resolve(cwd, named);
    if (!existsSync(file)) {
      const origin = configFile === undefined ? 'HSI_CONFIG' : '--config';
      throw new AppError('CONFIG_FILE', `Configuration file ${file} (from ${origin}) does not exist`, {
        permanent: true,
        details: { file },
      });
    }
    return file;
  }
  const fallback = path.join(cwd, DEFAULT_CONFIG_FILE);
  return existsSync(fallback) ? fallback : undefined;
}

/**
 * Merges `/data/options.json`: the Home Assistant add-on's flat options (mapped by `addonOptionsToConfig`, each
 * key attributed to its option) or a file in the nested format. Returns the add-on options that cannot be used.
 */
function mergeOptionsFile(
  merged: Record<string, unknown>,
  file: string,
  provenance: Map<string, string>,
  schema: SchemaNode,
): ConfigIssue[] {
  const options = readJsonFile(file);
  if (!isAddonOptions(options)) {
    mergeLayer(merged, options, { source: file, provenance, schema });
    return [];
  }
  const mapped = addonOptionsToConfig(options);
  mergeLayer(merged, mapped.values, { source: file, provenance, schema });
  for (const [key, origin] of mapped.origins) provenance.set(key, `${file} (${origin})`);
  return mapped.issues.map((issue) => ({ key: issue.option, source: `${file} (add-on)`, message: issue.message }));
}

interface LayerContext {
  source: string;
  provenance: Map<string, string>;
  schema: SchemaNode | undefined;
}

/**
 * Deep-merges one file layer into `target`: sections merge key by key, anything else (values, lists, maps,
 * unknown keys) replaces. A section left empty in YAML (`redis:` with only comments under it) counts as empty.
 */
function mergeLayer(
  target: Record<string, unknown>,
  layer: Record<string, unknown>,
  ctx: LayerContext,
  prefix = '',
): void {
  for (const [name, value] of Object.entries(layer)) {
    const key = prefix + name;
    const child = ctx.schema?.properties?.[name];
    const section = child !== undefined && isSection(child);
    if (section && value === null) continue;
    const current = target[name];
    if (section && isPlainObject(value) && isPlainObject(current)) {
      mergeLayer(current, value, { ...ctx, schema: child }, `${key}.`);
      continue;
    }
    target[name] = structuredClone(value);
    ctx.provenance.set(key, ctx.source);
  }
}

/** Makes every `x-path` key absolute against `cwd` ('' stays '') and fills in the default model file. */
function resolvePaths(config: Config, cwd: string, schema: SchemaNode): Config {
  const resolved = structuredClone(config) as unknown as Record<string, unknown>;
  for (const leaf of schemaLeaves(schema)) {
    const value = getAt(resolved, leaf.path);
    if (leaf.schema['x-path'] === true && typeof value === 'string' && value !== '') {
      setAt(resolved, leaf.path, path.resolve(cwd, value));
    }
  }
  const result = resolved as unknown as Config;
  if (result.detector.model === '') {
    result.detector.model = path.join(result.assets_dir, 'models', DEFAULT_MODEL_FILES[result.detector.model_type]);
  }
  const identity = result.identity;
  const modelsDir = identity.models_dir === '' ? path.join(result.assets_dir, 'models') : identity.models_dir;
  const model = (file: string) => path.join(modelsDir, file);
  if (identity.reid_model === '') identity.reid_model = model(DEFAULT_IDENTITY_MODELS.reid);
  if (identity.faces.detector_model === '') identity.faces.detector_model = model(DEFAULT_IDENTITY_MODELS.faceDetector);
  if (identity.faces.embedding_model === '')
    identity.faces.embedding_model = model(DEFAULT_IDENTITY_MODELS.faceEmbedder);
  return result;
}
