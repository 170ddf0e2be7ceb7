import { envVarName } from './env.js';
import { isSection, rootSchema, type SchemaNode, schemaLeaves } from './walk.js';

const INTRO = [
  '# Configuration',
  '',
  '<!-- Generated from src/config/schema.ts by `npx tsx scripts/config-docs.ts`: edit the schema, not this file. -->',
  '',
  'Every key has a default, so HSI runs with no configuration at all. Layers, later wins:',
  '',
  '1. the defaults below;',
  '2. a YAML file: `hsi run --config FILE`, else the file named by `HSI_CONFIG`, else `./config.yaml` when it',
  '   exists (`config.example.yaml` lists every key with its default);',
  '3. `/data/options.json` when it exists (the Home Assistant add-on options; `HSI_OPTIONS_FILE` names another file),',
  "   either with the same nested keys as the YAML file, or in the add-on's flat format (`llm_url`, `media_root`, …:",
  '   see `ha-addon/config.yaml`), which is mapped onto these keys;',
  '4. `HSI_*` environment variables, one per key: the dotted key in upper case with `.` replaced by `_`',
  '   (`detector.model` is `HSI_DETECTOR_MODEL`).',
  '',
  'Environment values are converted to the key type: integers and numbers as written, booleans as',
  '`true`/`false`/`1`/`0`/`yes`/`no`, lists comma-separated (`person,car`) or as JSON, maps as JSON',
  '(`{"person": 0.6}`). A value that cannot be converted is an error naming the variable.',
  '',
  'Unknown keys and invalid values stop the service with every problem listed by key and source, e.g.',
  '`detector.confidence (from HSI_DETECTOR_CONFIDENCE): must be <= 1`. Relative paths are resolved against the',
  'working directory. Passwords, API keys and credentials in URLs are masked whenever the configuration is logged.',
];

/** The Markdown reference of every configuration key: one table per section, in schema order. */
export function configDocs(schema: SchemaNode = rootSchema()): string {
  const lines = [...INTRO];
  const rootLeaves = Object.entries(schema.properties ?? {}).filter(([, node]) => !isSection(node));
  lines.push(
    '',
    ...sectionDocs(
      schema,
      [],
      rootLeaves.map(([name]) => name),
    ),
  );
  for (const [name, node] of Object.entries(schema.properties ?? {})) {
    if (isSection(node)) lines.push('', ...sectionDocs(node, [name]));
  }
  return `${lines.join('\n')}\n`;
}

function sectionDocs(section: SchemaNode, path: string[], only?: string[]): string[] {
  const heading =
    path.length === 0 ? (section.title ?? 'General') : `${section.title ?? path.join('.')} (\`${path.join('.')}\`)`;
  const lines = [`## ${heading}`, ''];
  if (section.description !== undefined) lines.push(section.description, '');
  lines.push('| key | env var | type | default | description |', '| --- | --- | --- | --- | --- |');
  for (const leaf of schemaLeaves(section, path)) {
    if (only !== undefined && !only.includes(leaf.key)) continue;
    const { schema } = leaf;
    const description = `**${schema.title ?? leaf.key}.** ${schema.description ?? ''}`.trimEnd();
    const cells = [
      code(leaf.key),
      code(envVarName(leaf.key)),
      typeText(schema),
      defaultText(schema.default),
      description,
    ];
    lines.push(`| ${cells.map(cell).join(' | ')} |`);
  }
  return lines;
}

/** A readable type: `integer (1–16)`, `one of yolox, picodet`, `list of string`, `map of string → number (0–1)`. */
export function typeText(schema: SchemaNode): string {
  if (schema.enum !== undefined) return `one of ${schema.enum.map((value) => code(String(value))).join(', ')}`;
  switch (schema.type) {
    case 'array':
      return `list of ${schema.items === undefined ? 'values' : typeText(schema.items)}`;
    case 'object': {
      const values = schema.additionalProperties;
      return typeof values === 'object' ? `map of string → ${typeText(values)}` : 'object';
    }
    case 'integer':
    case 'number':
      return `${schema.type}${rangeText(schema)}`;
    case 'string':
      return schema['x-path'] === true ? 'path' : 'string';
    default:
      return String(schema.type ?? 'any');
  }
}

function rangeText(schema: SchemaNode): string {
  const low =
    schema.minimum !== undefined ? { value: schema.minimum, strict: false } : optional(schema.exclusiveMinimum, true);
  const high =
    schema.maximum !== undefined ? { value: schema.maximum, strict: false } : optional(schema.exclusiveMaximum, true);
  if (low !== undefined && high !== undefined && !low.strict && !high.strict) return ` (${low.value}–${high.value})`;
  const parts: string[] = [];
  if (low !== undefined) parts.push(`${low.strict ? '>' : '≥'} ${low.value}`);
  if (high !== undefined) parts.push(`${high.strict ? '<' : '≤'} ${high.value}`);
  return parts.length === 0 ? '' : ` (${parts.join(', ')})`;
}

function optional(value: number | undefined, strict: boolean): { value: number; strict: boolean } | undefined {
  return value === undefined ? undefined : { value, strict };
}

/** Defaults as they would be written in an environment variable. */
export function defaultText(value: unknown): string {
  if (value === '') return "`''`";
  if (Array.isArray(value)) return value.length === 0 ? '`[]`' : code(value.map(String).join(','));
  if (typeof value === 'object' && value !== null) return code(JSON.stringify(value));
  return code(String(value));
}

function code(text: string): string {
  return `\`${text}\``;
}

/** Escapes what would break a table cell. */
function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}
