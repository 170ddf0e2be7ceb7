import { describe, expect, it } from 'vitest';
import type { FtpConfig } from '../../../src/config/sections/ftp.js';
import {
  alternativeName,
  duplicateFtpUsernames,
  ftpDiskPath,
  ftpUserFolder,
  isWithin,
  matchFtpUser,
  resolveFtpPath,
} from '../../../src/ingest/ftp-access.js';
import { maskFtpSecrets, toPinoArgs } from '../../../src/ingest/ftp-log.js';
import { checkFtpConfig } from '../../../src/ingest/ftp-receiver.js';
import { AppError } from '../../../src/lib/errors.js';

const USERS = [
  { username: 'frontcam', password: 'front-pass', camera: 'Front Door' },
  { username: 'garage', password: 'garage-pass', camera: '' },
  { username: 'yard', password: 'yard-pass', camera: null },
];

describe('resolveFtpPath', () => {
  it.each([
    ['/', 'x.jpg', '/x.jpg'],
    ['/day', 'x.jpg', '/day/x.jpg'],
    ['/day', '/x.jpg', '/x.jpg'],
    ['/', '..', '/'],
    ['/day/hour', '../../../..', '/'],
    ['/', '../../etc/passwd', '/etc/passwd'],
    ['/day', '/../../../x.jpg', '/x.jpg'],
    ['/', '..\\..\\win.jpg', '/win.jpg'],
    ['/', 'a\\b\\c.jpg', '/a/b/c.jpg'],
    ['/', '//double//slash/', '/double/slash'],
    ['/day', '.', '/day'],
    ['/day', './', '/day'],
    ['/', 'Front Door 2/x y.jpg', '/Front Door 2/x y.jpg'],
  ])('in %j, %j is %j', (cwd, input, expected) => {
    expect(resolveFtpPath(cwd, input)).toStrictEqual({ ok: true, clientPath: expected });
  });

  it.each([
    ['nul\u0000.jpg', 'control characters are not allowed in names'],
    ['line\nbreak.jpg', 'control characters are not allowed in names'],
    ['del\u007f.jpg', 'control characters are not allowed in names'],
    ['.hidden.jpg', 'hidden names (.hidden.jpg) are not accepted'],
    ['day/.hsi-upload-0123456789abcdef', 'hidden names (.hsi-upload-0123456789abcdef) are not accepted'],
    ['.../x.jpg', 'hidden names (...) are not accepted'],
  ])('refuses %j', (input, reason) => {
    expect(resolveFtpPath('/', input)).toStrictEqual({ ok: false, reason });
  });

  it('maps a client path below the root on disk', () => {
    expect(ftpDiskPath('/media/Front Door', '/')).toBe('/media/Front Door');
    expect(ftpDiskPath('/media/Front Door', '/day/x.jpg')).toBe('/media/Front Door/day/x.jpg');
  });
});

describe('isWithin', () => {
  it.each([
    ['/media/cam', '/media/cam', true],
    ['/media/cam', '/media/cam/x/y.jpg', true],
    ['/media/cam', '/media/cam2/y.jpg', false],
    ['/media/cam', '/media', false],
    ['/media/cam', '/etc/passwd', false],
    ['/media/cam', '/media/cam/..x', true],
  ])('%j contains %j: %j', (root, candidate, expected) => {
    expect(isWithin(root, candidate)).toBe(expected);
  });
});

describe('FTP users', () => {
  it('matches only when username and password both match', () => {
    expect(matchFtpUser(USERS, 'frontcam', 'front-pass')).toBe(USERS[0]);
    expect(matchFtpUser(USERS, 'garage', 'garage-pass')).toBe(USERS[1]);
    expect(matchFtpUser(USERS, 'frontcam', 'garage-pass')).toBeUndefined();
    expect(matchFtpUser(USERS, 'frontcam', 'front-pas')).toBeUndefined();
    expect(matchFtpUser(USERS, 'frontcam', 'front-pass ')).toBeUndefined();
    expect(matchFtpUser(USERS, 'FRONTCAM', 'front-pass')).toBeUndefined();
    expect(matchFtpUser(USERS, 'anonymous', '')).toBeUndefined();
    expect(matchFtpUser([], 'frontcam', 'front-pass')).toBeUndefined();
  });

  it('uploads into the camera folder, or the username when none is set', () => {
    expect(USERS.map(ftpUserFolder)).toStrictEqual(['Front Door', 'garage', 'yard']);
  });

  it('finds usernames configured twice', () => {
    expect(duplicateFtpUsernames(USERS)).toStrictEqual([]);
    expect(duplicateFtpUsernames([...USERS, { username: 'garage', password: 'other' }])).toStrictEqual(['garage']);
  });
});

describe('checkFtpConfig', () => {
  const config: FtpConfig = {
    enabled: true,
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
    users: USERS,
  };

  function refusal(value: FtpConfig): string {
    try {
      checkFtpConfig(value, '/media');
    } catch (error) {
      return error instanceof AppError ? `${error.code}: ${error.message}` : String(error);
    }
    return 'accepted';
  }

  it('accepts a usable configuration', () => {
    expect(refusal(config)).toBe('accepted');
  });

  it('refuses no users, duplicate users, an inverted port range and folders that are not names', () => {
    expect(refusal({ ...config, users: [] })).toMatch(/^CONFIG_INVALID: ftp\.users is empty/);
    expect(refusal({ ...config, users: [...USERS, { username: 'yard', password: 'x' }] })).toBe(
      "CONFIG_INVALID: ftp.users: username 'yard' is configured twice",
    );
    expect(refusal({ ...config, passive_min_port: 30010 })).toBe(
      'CONFIG_INVALID: ftp.passive_min_port (30010) is above ftp.passive_max_port (30009)',
    );
    expect(refusal({ ...config, users: [{ username: 'u', password: 'p', camera: '../etc' }] })).toMatch(
      /camera folder '\.\.\/etc' of 'u' is not a folder name/,
    );
  });
});

describe('alternativeName', () => {
  it.each([
    ['x.jpg', 'x-ab12.jpg'],
    ['snap.2024.jpg', 'snap.2024-ab12.jpg'],
    ['noext', 'noext-ab12'],
  ])('%j -> %j', (name, expected) => {
    expect(alternativeName(name, 'ab12')).toBe(expected);
  });
});

describe('ftp-srv log adapter', () => {
  it('masks PASS commands wherever ftp-srv puts them', () => {
    expect(maskFtpSecrets(['USER cam', 'PASS hunter2'])).toStrictEqual(['USER cam', 'PASS ********']);
    expect(maskFtpSecrets({ command: { directive: 'PASS', arg: '********', raw: 'pass  hunter2 x' } })).toStrictEqual({
      command: { directive: 'PASS', arg: '********', raw: 'pass ********' },
    });
    expect(maskFtpSecrets('NOOP\nPASS a\n PASS b')).toBe('NOOP\nPASS ********\n PASS ********');
    expect(maskFtpSecrets('PASSIVE mode')).toBe('PASSIVE mode');
  });

  it('turns bunyan-style arguments into pino fields and a message', () => {
    const error = new Error('boom');
    expect(toPinoArgs([error, 'Client error'])).toStrictEqual({
      fields: { err: error },
      message: 'ftp-srv: Client error',
    });
    expect(toPinoArgs(['Closing connections:', 2])).toStrictEqual({
      fields: {},
      message: 'ftp-srv: Closing connections: 2',
    });
    expect(toPinoArgs([{ port: 30001 }, 'Passive connection listening'])).toStrictEqual({
      fields: { port: 30001 },
      message: 'ftp-srv: Passive connection listening',
    });
    expect(toPinoArgs([['PASS secret']])).toStrictEqual({ fields: {}, message: 'ftp-srv: PASS ********' });
  });
});
