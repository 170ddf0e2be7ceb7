import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ADDON_FIXED_SETTINGS, ADDON_OPTION_KEYS } from '../../../src/config/addon-options.js';
import { type SchemaNode, schemaLeaves } from '../../../src/config/walk.js';

/** ha-addon/config.yaml, translations and build.yaml against the configuration schema and package.json. */

const root = path.resolve(import.meta.dirname, '..', '..', '..');
const readYaml = (file: string) => parse(readFileSync(path.join(root, file), 'utf8')) as Record<string, unknown>;
const manifest = readYaml('ha-addon/config.yaml');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
/** An option's type: `str?`, `int(0,10)`… or, for a list of records, one record of field types. */
const addonSchema = manifest.schema as Record<string, string | Record<string, string>[]>;
const addonDefaults = manifest.options as Record<string, unknown>;
const leaves = new Map(schemaLeaves().map((leaf) => [leaf.key, leaf.schema]));

interface AddonType {
  base: string;
  optional: boolean;
  min?: number;
  max?: number;
  values?: string[];
}

/** Parses an add-on schema type: `str`, `password?`, `int(0,36500)`, `list(a|b)`, `url?` … */
function parseAddonType(spec: string): AddonType {
  const match = /^([a-z]+)(?:\((.*)\))?(\?)?$/.exec(spec);
  if (match === null) throw new Error(`not an add-on schema type: ${spec}`);
  const [, base = '', args, optional] = match;
  const type: AddonType = { base, optional: optional === '?' };
  if (args !== undefined && base === 'list') type.values = args.split('|');
  else if (args !== undefined && (base === 'int' || base === 'float')) {
    const [min, max] = args.split(',');
    if (min !== undefined && min !== '') type.min = Number(min);
    if (max !== undefined && max !== '') type.max = Number(max);
  }
  return type;
}

/** Why an add-on type cannot carry the values of a JSON Schema leaf, or undefined when it can. */
function incompatibility(type: AddonType, leaf: SchemaNode): string | undefined {
  switch (type.base) {
    case 'str':
    case 'password':
    case 'url':
    case 'email':
    case 'match':
      if (leaf.type !== 'string') return `${type.base} for a ${leaf.type}`;
      return leaf.enum === undefined ? undefined : 'free text for a key with fixed values (use list(...))';
    case 'list': {
      const extra = (type.values ?? []).filter((v) => !(leaf.enum ?? []).includes(v));
      return leaf.type === 'string' && extra.length === 0
        ? undefined
        : `values outside the schema: ${extra.join(', ')}`;
    }
    case 'bool':
      return leaf.type === 'boolean' ? undefined : `bool for a ${leaf.type}`;
    case 'int':
    case 'float': {
      const wanted = type.base === 'int' ? ['integer'] : ['number'];
      if (!wanted.includes(String(leaf.type))) return `${type.base} for a ${leaf.type}`;
      if (leaf.minimum !== undefined && (type.min === undefined || type.min < leaf.minimum)) return 'minimum too low';
      if (leaf.maximum !== undefined && (type.max === undefined || type.max > leaf.maximum)) return 'maximum too high';
      return undefined;
    }
    default:
      return `unexpected add-on type ${type.base}`;
  }
}

/** Why a list-of-records option cannot carry a JSON Schema array of objects, field by field. */
function listIncompatibility(fields: Record<string, string>, leaf: SchemaNode): string | undefined {
  const item = leaf.items;
  if (leaf.type !== 'array' || item?.type !== 'object') return `a list of records for a ${leaf.type}`;
  const problems: string[] = [];
  for (const [field, spec] of Object.entries(fields)) {
    const property = item.properties?.[field];
    const type = parseAddonType(spec);
    const why = property === undefined ? 'not a field of the schema' : incompatibility(type, property);
    if (why !== undefined) problems.push(`${field}: ${why}`);
    const required = (item as { required?: string[] }).required?.includes(field) ?? false;
    if (required && type.optional) problems.push(`${field}: optional in the add-on, required by the schema`);
  }
  return problems.length === 0 ? undefined : problems.join('; ');
}

describe('ha-addon/config.yaml', () => {
  it('carries every key the Supervisor requires, and the ones HSI relies on', () => {
    expect(manifest).toMatchObject({
      name: expect.any(String),
      version: pkg.version,
      slug: 'hsi',
      description: expect.any(String),
      url: expect.stringMatching(/^https:\/\//),
      arch: ['amd64', 'aarch64'],
      startup: 'application',
      init: false,
      hassio_api: true,
      services: ['mqtt:need'],
      ingress: true,
      ingress_port: ADDON_FIXED_SETTINGS['http.port'],
      watchdog: `http://[HOST]:[PORT:${ADDON_FIXED_SETTINGS['http.port']}]/api/health/live`,
      map: [
        { type: 'media', read_only: false },
        { type: 'addon_config', read_only: false },
      ],
    });
    // The API port is optional; the FTP ports map to the same numbers, which the receiver's fixed settings use.
    const passive = Array.from({ length: 5 }, (_, i) => 30000 + i);
    expect(manifest.ports).toStrictEqual({
      '8099/tcp': null,
      [`${ADDON_FIXED_SETTINGS['ftp.port']}/tcp`]: ADDON_FIXED_SETTINGS['ftp.port'],
      ...Object.fromEntries(passive.map((port) => [`${port}/tcp`, port])),
    });
    expect([ADDON_FIXED_SETTINGS['ftp.passive_min_port'], ADDON_FIXED_SETTINGS['ftp.passive_max_port']]).toStrictEqual([
      passive[0],
      passive.at(-1),
    ]);
    expect(manifest.homeassistant_api).toBeUndefined();
    expect(manifest.backup_exclude).toStrictEqual(['thumbnails', 'thumbnails/**']);
  });

  it('has a schema entry for exactly the options HSI maps, each onto an existing key of a compatible type', () => {
    expect(Object.keys(addonSchema).sort()).toStrictEqual(Object.keys(ADDON_OPTION_KEYS).sort());
    const problems: string[] = [];
    for (const [option, spec] of Object.entries(addonSchema)) {
      const key = ADDON_OPTION_KEYS[option] ?? '';
      const leaf = leaves.get(key);
      const why =
        leaf === undefined
          ? `maps to ${key}, which is not a configuration key`
          : typeof spec === 'string'
            ? incompatibility(parseAddonType(spec), leaf)
            : listIncompatibility(spec[0] ?? {}, leaf);
      if (why !== undefined) problems.push(`${option}: ${why}`);
    }
    expect(problems).toStrictEqual([]);
  });

  it('gives defaults only to required options, and each default is the configuration default', () => {
    for (const [option, spec] of Object.entries(addonSchema)) {
      // A list of records is never optional in the panel: its default is the empty list.
      const optional = typeof spec === 'string' && parseAddonType(spec).optional;
      expect(option in addonDefaults, option).toBe(!optional);
    }
    for (const [option, value] of Object.entries(addonDefaults)) {
      const leaf = leaves.get(ADDON_OPTION_KEYS[option] ?? '');
      // The add-on changes two defaults: media_root (the shared /media folder) and the identity models folder (the
      // add-on's own folder, since the image does not ship those models).
      if (option === 'media_root') expect(value).toBe('/media/hsi');
      else if (option === 'identity_models_dir') expect(value).toBe('/config/models');
      else expect(value, option).toStrictEqual(leaf?.default);
    }
  });

  it('is translated: a name and a description for every option, a description for every port', () => {
    const translations = readYaml('ha-addon/translations/en.yaml') as {
      configuration: Record<string, { name?: unknown; description?: unknown }>;
      network: Record<string, unknown>;
    };
    expect(Object.keys(translations.configuration).sort()).toStrictEqual(Object.keys(addonSchema).sort());
    for (const [option, entry] of Object.entries(translations.configuration)) {
      expect(typeof entry.name === 'string' && entry.name.length > 0, option).toBe(true);
      expect(typeof entry.description === 'string' && entry.description.length > 20, option).toBe(true);
    }
    expect(Object.keys(translations.network)).toStrictEqual(Object.keys(manifest.ports as object));
  });
});

describe('ha-addon/build.yaml and repository.yaml', () => {
  it('builds every architecture from the HSI image of this version', () => {
    const build = readYaml('ha-addon/build.yaml') as { build_from: Record<string, string> };
    expect(Object.keys(build.build_from)).toStrictEqual(manifest.arch);
    for (const image of Object.values(build.build_from)) expect(image).toBe(`ghcr.io/hsi-project/hsi:${pkg.version}`);
  });

  it('names the repository', () => {
    expect(readYaml('repository.yaml')).toMatchObject({ name: expect.any(String), url: manifest.url });
  });

  it('parses the add-on types it uses', () => {
    expect(parseAddonType('int(0,36500)')).toStrictEqual({ base: 'int', optional: false, min: 0, max: 36500 });
    expect(parseAddonType('list(auto|cpu|cuda)')).toStrictEqual({
      base: 'list',
      optional: false,
      values: ['auto', 'cpu', 'cuda'],
    });
    expect(parseAddonType('password?')).toStrictEqual({ base: 'password', optional: true });
  });
});
