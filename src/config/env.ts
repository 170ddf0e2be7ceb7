import type { ConfigIssue } from './validate.js';
import { isPlainObject, rootSchema, type SchemaLeaf, type SchemaNode, schemaLeaves, setAt } from './walk.js';

const PREFIX = 'HSI_';
const BOOLEANS: Readonly<Record<string, boolean>> = {
  true: true,
  false: false,
  1: true,
  0: false,
  yes: true,
  no: false,
};

/** `detector.model` -> `HSI_DETECTOR_MODEL`. */
export function envVarName(key: string): string {
  return PREFIX + key.toUpperCase().replaceAll('.', '_');
}

/** Every configuration key with the environment variable that sets it, in schema order. */
export function envVarNames(schema: SchemaNode = rootSchema()): { key: string; env: string }[] {
  return schemaLeaves(schema).map((leaf) => ({ key: leaf.key, env: envVarName(leaf.key) }));
}

export interface EnvLayer {
  /** Nested values set by the environment (only the variables present). */
  values: Record<string, unknown>;
  /** Keys set, with the variable that set each. */
  applied: { key: string; env: string }[];
  /** Variables whose value cannot be read as the key's type. */
  errors: ConfigIssue[];
}

/** Reads the `HSI_*` variables that name a configuration key, coerced by the key's schema type. */
export function readEnvLayer(env: NodeJS.ProcessEnv, schema: SchemaNode = rootSchema()): EnvLayer {
  const layer: EnvLayer = { values: {}, applied: [], errors: [] };
  for (const leaf of schemaLeaves(schema)) {
    const name = envVarName(leaf.key);
    const raw = env[name];
    if (raw === undefined) continue;
    const result = coerceEnvValue(raw, leaf.schema);
    if ('error' in result) {
      layer.errors.push({ key: leaf.key, source: name, message: result.error });
      continue;
    }
    setAt(layer.values, leaf.path, result.value);
    layer.applied.push({ key: leaf.key, env: name });
  }
  return layer;
}

/**
 * `HSI_*` variables that HSI or its tooling reads but that set no configuration key: the files to read, the roles,
 * the add-on's start-up (ha-addon/rootfs/run.sh, src/ops/addon-entry.ts) and the test suite's. `HSI_TEST_*` too.
 */
export const NON_CONFIG_ENV_VARS: readonly string[] = [
  'HSI_CONFIG',
  'HSI_OPTIONS_FILE',
  'HSI_ROLES',
  'HSI_APP_DIR',
  'HSI_ADDON_CONFIG_DIR',
  'HSI_SUPERVISOR_URL',
  'HSI_FFMPEG',
  'HSI_FUZZ_SEED',
];
const NON_CONFIG_PREFIX = 'HSI_TEST_';

/**
 * One warning per `HSI_*` variable in `env` that HSI does not read (a typo is otherwise silently ignored), naming the
 * closest known variable when one is near: `HSI_MQT_URL is not an HSI variable and is ignored (did you mean
 * HSI_MQTT_URL?)`. Sorted by name.
 */
export function unknownEnvWarnings(env: NodeJS.ProcessEnv, schema: SchemaNode = rootSchema()): string[] {
  const known = [...envVarNames(schema).map((v) => v.env), ...NON_CONFIG_ENV_VARS];
  const knownSet = new Set(known);
  return Object.keys(env)
    .filter((name) => name.startsWith(PREFIX) && !knownSet.has(name) && !name.startsWith(NON_CONFIG_PREFIX))
    .sort()
    .map((name) => {
      const closest = closestName(name, known);
      const hint = closest === undefined ? '' : ` (did you mean ${closest}?)`;
      return `${name} is not an HSI variable and is ignored${hint}`;
    });
}

/**
 * The known name `name` cut short (`HSI_MQTT_USER`: `HSI_MQTT_USERNAME`) when only one starts with it, else the
 * nearest by edit distance when near enough to be a typo of it.
 */
function closestName(name: string, known: readonly string[]): string | undefined {
  const longer = known.filter((candidate) => candidate.startsWith(name));
  if (longer.length === 1) return longer[0];
  const suffix = name.slice(PREFIX.length);
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(suffix, candidate.slice(PREFIX.length));
    if (best === undefined || distance < best.distance) best = { name: candidate, distance };
  }
  const limit = Math.max(2, Math.floor(suffix.length / 3));
  return best !== undefined && best.distance <= limit ? best.name : undefined;
}

/** Levenshtein distance: insertions, deletions and substitutions. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

type Coerced = { value: unknown } | { error: string };

/** Turns an environment string into a value of the leaf's JSON type; ranges and enums are left to validation. */
export function coerceEnvValue(raw: string, schema: SchemaLeaf['schema']): Coerced {
  const text = raw.trim();
  switch (schema.type) {
    case 'string':
      return { value: raw };
    case 'integer':
      return /^[+-]?\d+$/.test(text) ? { value: Number(text) } : { error: `expected an integer, got ${quote(raw)}` };
    case 'number': {
      const value = Number(text);
      return text !== '' && Number.isFinite(value) ? { value } : { error: `expected a number, got ${quote(raw)}` };
    }
    case 'boolean': {
      const value = BOOLEANS[text.toLowerCase()];
      return value === undefined ? { error: `expected true/false/1/0/yes/no, got ${quote(raw)}` } : { value };
    }
    case 'array':
      return coerceArray(text, schema.items);
    case 'object': {
      const parsed = parseJson(text);
      return isPlainObject(parsed) ? { value: parsed } : { error: `expected a JSON object, got ${quote(raw)}` };
    }
    default:
      return { error: `cannot be set from the environment (schema type ${String(schema.type)})` };
  }
}

function coerceArray(text: string, items: SchemaNode | undefined): Coerced {
  if (text.startsWith('[')) {
    const parsed = parseJson(text);
    return Array.isArray(parsed) ? { value: parsed } : { error: `expected a JSON array, got ${quote(text)}` };
  }
  const parts = text === '' ? [] : text.split(',').map((part) => part.trim());
  if (parts.some((part) => part === '')) return { error: `expected comma-separated values, got ${quote(text)}` };
  if (items === undefined || items.type === 'string') return { value: parts };
  const values: unknown[] = [];
  for (const part of parts) {
    const item = coerceEnvValue(part, items);
    if ('error' in item) return { error: `item ${quote(part)}: ${item.error}` };
    values.push(item.value);
  }
  return { value: values };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function quote(raw: string): string {
  const shown = raw.length > 60 ? `${raw.slice(0, 57)}...` : raw;
  return `'${shown}'`;
}
