import { type Config, configSchema } from './schema.js';

/** The parts of a JSON Schema node this module reads; the schema itself is typed by `JSONSchemaType<Config>`. */
export interface SchemaNode {
  type?: string;
  title?: string;
  description?: string;
  default?: unknown;
  enum?: readonly unknown[];
  properties?: Record<string, SchemaNode>;
  additionalProperties?: boolean | SchemaNode;
  items?: SchemaNode;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  minItems?: number;
  pattern?: string;
  'x-path'?: boolean;
  'x-hint'?: string;
}

/** A configurable value: a schema node that is not a section of named keys. */
export interface SchemaLeaf {
  /** Dotted key, e.g. `detector.model`. */
  key: string;
  path: string[];
  schema: SchemaNode;
}

export function rootSchema(): SchemaNode {
  return configSchema as unknown as SchemaNode;
}

/** A section is an object with named keys; its keys are walked. Objects with free keys (maps) are leaves. */
export function isSection(node: SchemaNode): boolean {
  return node.type === 'object' && node.properties !== undefined;
}

/** Every leaf, in schema order. */
export function schemaLeaves(schema: SchemaNode = rootSchema(), prefix: string[] = []): SchemaLeaf[] {
  const leaves: SchemaLeaf[] = [];
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    const path = [...prefix, name];
    if (isSection(child)) leaves.push(...schemaLeaves(child, path));
    else leaves.push({ key: path.join('.'), path, schema: child });
  }
  return leaves;
}

/** The node at `path` (sections only), or undefined when the path leaves the schema. */
export function nodeAt(path: readonly string[], schema: SchemaNode = rootSchema()): SchemaNode | undefined {
  let node: SchemaNode | undefined = schema;
  for (const name of path) {
    node = node?.properties?.[name];
    if (node === undefined) return undefined;
  }
  return node;
}

/** The configuration made of the schema's defaults alone (a fresh copy each call). */
export function schemaDefaults(schema: SchemaNode = rootSchema()): Config {
  const build = (node: SchemaNode): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [name, child] of Object.entries(node.properties ?? {})) {
      out[name] = isSection(child) ? build(child) : structuredClone(child.default);
    }
    return out;
  };
  return build(schema) as unknown as Config;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function getAt(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const name of path) {
    if (!isPlainObject(current)) return undefined;
    current = current[name];
  }
  return current;
}

export function setAt(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let current = target;
  for (const name of path.slice(0, -1)) {
    const next = current[name];
    if (isPlainObject(next)) current = next;
    else {
      const created: Record<string, unknown> = {};
      current[name] = created;
      current = created;
    }
  }
  const last = path[path.length - 1];
  if (last !== undefined) current[last] = value;
}
