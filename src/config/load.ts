import { existsSync } from 'node:fs';
import path from 'node:path';
import { AppError } from '../lib/errors.js';
import { addonOptionsToConfig, isAddonOptions } from './addon-options.js';
import { readEnvLayer } from './env.js';
import { readJsonFile, readYamlFile } from './files.js';
import { type Config, DEFAULT_MODEL_FILES } from './schema.js';
import { type ConfigIssue, DEFAULTS_SOURCE, invalidConfigError, validateConfig } from './validate.js';
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

export { envVarName, envVarNames } from './env.js';
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
}

export interface LoadedConfig {
  /** Valid configuration; paths are absolute and `detector.model` names a file. */
  config: Config;
  /** What contributed, lowest first: `defaults`, file paths, then each `HSI_*` variable applied. */
  sources: string[];
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
  const envLayer = readEnvLayer(env, schema);
  for (const { key, env: name } of envLayer.applied) {
    const keyPath = key.split('.');
    setAt(merged, keyPath, structuredClone(getAt(envLayer.values, keyPath)));
    provenance.set(key, name);
    sources.push(name);
  }

  const issues = [...optionIssues, ...envLayer.errors, ...validateConfig(merged, provenance, schema)];
  if (issues.length > 0) throw invalidConfigError(issues);
  return { config: resolvePaths(merged as unknown as Config, cwd, schema), sources };
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
  return result;
}
