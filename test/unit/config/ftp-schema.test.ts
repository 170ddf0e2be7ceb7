import { describe, expect, it } from 'vitest';
import { type FtpConfig, ftpSchema } from '../../../src/config/sections/ftp.js';
import { validateConfig } from '../../../src/config/validate.js';
import { type SchemaNode, schemaDefaults, schemaLeaves } from '../../../src/config/walk.js';

const schema = ftpSchema as unknown as SchemaNode;

function defaults(): FtpConfig {
  return schemaDefaults(schema) as unknown as FtpConfig;
}

/** The issues of the ftp section alone, as `key: message`. */
function issues(value: unknown): string[] {
  return validateConfig(value, new Map(), schema).map((issue) => `${issue.key}: ${issue.message}`);
}

function withUser(user: Record<string, unknown>): FtpConfig {
  return { ...defaults(), users: [user as unknown as FtpConfig['users'][number]] };
}

describe('ftp config section', () => {
  it('has the documented defaults, which are valid', () => {
    expect(defaults()).toStrictEqual({
      enabled: false,
      host: '0.0.0.0',
      port: 2121,
      passive_url: '',
      passive_min_port: 30000,
      passive_max_port: 30009,
      idle_timeout_s: 300,
      max_connections: 32,
      max_connections_per_address: 8,
      login_timeout_s: 10,
      command_timeout_s: 10,
      users: [],
    });
    expect(issues(defaults())).toStrictEqual([]);
  });

  it('gives every key a title, a description and a default', () => {
    const incomplete = schemaLeaves(schema)
      .filter((leaf) => !leaf.schema.title || !leaf.schema.description || leaf.schema.default === undefined)
      .map((leaf) => leaf.key);
    expect(incomplete).toStrictEqual([]);
  });

  it('accepts per-camera users, with or without a camera folder', () => {
    const config: FtpConfig = {
      ...defaults(),
      enabled: true,
      passive_url: '192.168.1.20',
      users: [
        { username: 'frontcam', password: 'x7-Secret!', camera: 'Front Door' },
        { username: 'garage', password: 'p', camera: '' },
        { username: 'back.yard@cam', password: 'p' },
        { username: 'café', password: 'pässwörd', camera: 'Café Porte' },
      ],
    };
    expect(issues(config)).toStrictEqual([]);
  });

  it.each([
    ['', 'must NOT have fewer than 1 characters'],
    ['front cam', 'must be a name without spaces, quotes or slashes, not starting with a dot'],
    ['.hidden', 'must be a name without spaces, quotes or slashes, not starting with a dot'],
    ['a/b', 'must be a name without spaces, quotes or slashes, not starting with a dot'],
    ['a\\b', 'must be a name without spaces, quotes or slashes, not starting with a dot'],
    ['..', 'must be a name without spaces, quotes or slashes, not starting with a dot'],
    ['tab\there', 'must be a name without spaces, quotes or slashes, not starting with a dot'],
  ])('refuses the username %j', (username, message) => {
    expect(issues(withUser({ username, password: 'p' }))).toContain(`users.0.username: ${message}`);
  });

  it.each(['.', '..', '.hidden', 'a/b', '../up', 'a\\b', 'nul\u0000'])('refuses the camera folder %j', (camera) => {
    expect(issues(withUser({ username: 'u', password: 'p', camera }))).toStrictEqual([
      "users.0.camera: must be '' or a folder name without / or \\, not starting with a dot",
    ]);
  });

  it.each(['two words', 'quo"te', 'tab\tin'])('refuses the password %j (ftp-srv would alter it)', (password) => {
    expect(issues(withUser({ username: 'u', password }))).toStrictEqual([
      'users.0.password: must be a password without spaces or double quotes',
    ]);
  });

  it('refuses an empty password', () => {
    expect(issues(withUser({ username: 'u', password: '' }))).toContain(
      'users.0.password: must NOT have fewer than 1 characters',
    );
  });

  it('refuses unknown keys in a user and users without a password', () => {
    expect(issues(withUser({ username: 'u', password: 'p', folder: 'x' }))).toStrictEqual([
      // validate.ts lists the allowed keys of sections only, not of list items (hence nothing after the colon).
      'users.0.folder: unknown key; expected one of: ',
    ]);
    expect(issues(withUser({ username: 'u' }))).toStrictEqual(["users.0: must have required property 'password'"]);
  });

  it('refuses a passive address with a scheme and ports out of range', () => {
    expect(issues({ ...defaults(), passive_url: 'ftp://1.2.3.4' })).toStrictEqual([
      "passive_url: must be '' or an IPv4 address or host name",
    ]);
    expect(issues({ ...defaults(), port: 70000, passive_min_port: 0 })).toStrictEqual([
      'port: must be <= 65535',
      'passive_min_port: must be >= 1',
    ]);
  });

  it('refuses an idle timeout under 10 s and a connection cap of 0', () => {
    expect(issues({ ...defaults(), idle_timeout_s: 5, max_connections: 0 })).toStrictEqual([
      'idle_timeout_s: must be >= 10',
      'max_connections: must be >= 1',
    ]);
  });
});
