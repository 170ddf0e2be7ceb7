import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { AppError } from '../lib/errors.js';
import { nodeAt, rootSchema, type SchemaNode } from './walk.js';

/** One problem with the configuration: the dotted key, where its value came from, and what is wrong. */
export interface ConfigIssue {
  key: string;
  /** `defaults`, a file path, or an environment variable name. */
  source: string;
  message: string;
}

/** Dotted key -> the source that last set it (a file path or an environment variable). */
export type Provenance = ReadonlyMap<string, string>;

export const DEFAULTS_SOURCE = 'defaults';

const validators = new WeakMap<SchemaNode, ValidateFunction>();

function validatorFor(schema: SchemaNode): ValidateFunction {
  let validate = validators.get(schema);
  if (validate === undefined) {
    const ajv = new Ajv({ allErrors: true, strict: true, verbose: true, keywords: ['x-path', 'x-hint'] });
    ajv.addFormat('iana-timezone', { type: 'string', validate: (v: string) => v === '' || isTimeZone(v) });
    validate = ajv.compile(schema);
    validators.set(schema, validate);
  }
  return validate;
}

/** Validates a complete (merged) configuration and returns every issue, each attributed to its source. */
export function validateConfig(
  value: unknown,
  provenance: Provenance,
  schema: SchemaNode = rootSchema(),
): ConfigIssue[] {
  const validate = validatorFor(schema);
  if (validate(value)) return [];
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  for (const error of validate.errors ?? []) {
    if (error.keyword === 'propertyNames') continue;
    const issue = toIssue(error, provenance, schema);
    const id = `${issue.key}\n${issue.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    issues.push(issue);
  }
  return issues;
}

function toIssue(error: ErrorObject, provenance: Provenance, schema: SchemaNode): ConfigIssue {
  const path = error.instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'));
  const parent = error.parentSchema as SchemaNode | undefined;
  let message = error.message ?? 'is invalid';
  if (error.keyword === 'additionalProperties') {
    const unknown = String((error.params as { additionalProperty: string }).additionalProperty);
    path.push(unknown);
    const allowed = Object.keys(nodeAt(path.slice(0, -1), schema)?.properties ?? {});
    message = `unknown key; expected one of: ${allowed.join(', ')}`;
  } else if (error.keyword === 'enum') {
    const allowed = (error.params as { allowedValues: unknown[] }).allowedValues;
    message = `must be one of: ${allowed.map(String).join(', ')}`;
  } else if (error.keyword === 'pattern' && parent?.['x-hint'] !== undefined) {
    message = `must be ${parent['x-hint']}`;
  } else if (error.keyword === 'format' && (error.params as { format: string }).format === 'iana-timezone') {
    const suggestion = closestTimeZone(String(error.data));
    message =
      `must be an IANA timezone name such as Europe/Berlin or America/New_York ('' = the system's), got ` +
      `${JSON.stringify(error.data)}${suggestion === undefined ? '' : `; did you mean ${suggestion}?`}`;
  }
  if (error.propertyName !== undefined) message = `key ${JSON.stringify(error.propertyName)}: ${message}`;
  const key = path.length === 0 ? '(root)' : path.join('.');
  return { key, source: sourceOf(key, provenance), message };
}

/** Whether the runtime's time zone database knows `name` (canonical names, aliases such as UTC, any case). */
export function isTimeZone(name: string): boolean {
  if (name.trim() !== name || name === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** A known time zone that `value` looks like (spaces trimmed, any case, spaces for underscores), if any. */
export function closestTimeZone(value: string): string | undefined {
  const wanted = value.trim().replaceAll(' ', '_').toLowerCase();
  if (wanted === '') return undefined;
  return [...Intl.supportedValuesOf('timeZone'), 'UTC'].find((z) => z.toLowerCase() === wanted);
}

/** The source of a key: the entry for the key itself or its nearest parent section, else the defaults. */
export function sourceOf(key: string, provenance: Provenance): string {
  const parts = key.split('.');
  while (parts.length > 0) {
    const source = provenance.get(parts.join('.'));
    if (source !== undefined) return source;
    parts.pop();
  }
  return DEFAULTS_SOURCE;
}

export function formatIssue(issue: ConfigIssue): string {
  return `${issue.key} (from ${issue.source}): ${issue.message}`;
}

/** `CONFIG_INVALID` listing every issue, one per line; `details.errors` holds them as data. */
export function invalidConfigError(issues: readonly ConfigIssue[]): AppError {
  const count = issues.length === 1 ? '1 error' : `${issues.length} errors`;
  const lines = issues.map((issue) => `  ${formatIssue(issue)}`);
  const header = `Invalid configuration (${count}); fix or remove these keys (see docs/CONFIGURATION.md):`;
  return new AppError('CONFIG_INVALID', [header, ...lines].join('\n'), {
    permanent: true,
    details: { errors: issues.map((issue) => ({ ...issue })) },
  });
}
