import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type MediaRefusal,
  readVerifiedMedia,
  UnverifiedMediaError,
  withVerifiedMediaCopy,
} from '../../../src/lib/verified-media.js';

let dir: string;
let root: string;
const BYTES = Buffer.from('the picture that was processed');
const SHA = createHash('sha256').update(BYTES).digest('hex');

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'hsi-verified-'));
  root = path.join(dir, 'media');
  mkdirSync(path.join(root, 'cam', '2026'), { recursive: true });
  writeFileSync(path.join(root, 'cam', '2026', 'a.jpg'), BYTES);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function reason(promise: Promise<unknown>): Promise<MediaRefusal | 'served'> {
  try {
    await promise;
    return 'served';
  } catch (error) {
    if (error instanceof UnverifiedMediaError) return error.reason;
    throw error;
  }
}

describe('readVerifiedMedia', () => {
  it('serves an untouched file byte for byte, through a linked media root too', async () => {
    expect((await readVerifiedMedia(root, 'cam/2026/a.jpg', SHA, BYTES.length)).equals(BYTES)).toBe(true);
    expect((await readVerifiedMedia(root, './cam//2026/a.jpg', SHA.toUpperCase())).equals(BYTES)).toBe(true);
    symlinkSync(root, path.join(dir, 'media-link'));
    expect((await readVerifiedMedia(path.join(dir, 'media-link'), 'cam/2026/a.jpg', SHA)).equals(BYTES)).toBe(true);
  });

  it('refuses other content by the same name, of the same size or not', async () => {
    const file = path.join(root, 'cam', '2026', 'a.jpg');
    writeFileSync(file, Buffer.from('THE picture that was processed'));
    expect(await reason(readVerifiedMedia(root, 'cam/2026/a.jpg', SHA))).toBe('changed');
    writeFileSync(file, Buffer.concat([BYTES, Buffer.from('!')]));
    expect(await reason(readVerifiedMedia(root, 'cam/2026/a.jpg', SHA, BYTES.length))).toBe('changed');
  });

  it('never follows a link: the file, a folder on the way, or a link that stays inside the root', async () => {
    const file = path.join(root, 'cam', '2026', 'a.jpg');
    const outside = path.join(dir, 'outside');
    mkdirSync(outside);
    writeFileSync(path.join(outside, 'a.jpg'), BYTES);
    rmSync(file);
    symlinkSync('/etc/passwd', file);
    expect(await reason(readVerifiedMedia(root, 'cam/2026/a.jpg', SHA))).toBe('link');
    rmSync(file);
    symlinkSync(path.join(outside, 'a.jpg'), file);
    expect(await reason(readVerifiedMedia(root, 'cam/2026/a.jpg', SHA))).toBe('link');
    rmSync(file);
    writeFileSync(path.join(root, 'cam', 'b.jpg'), BYTES);
    symlinkSync('../b.jpg', file);
    expect(await reason(readVerifiedMedia(root, 'cam/2026/a.jpg', SHA))).toBe('link');
    rmSync(path.join(root, 'cam'), { recursive: true });
    symlinkSync(outside, path.join(root, 'cam'));
    mkdirSync(path.join(outside, '2026'));
    writeFileSync(path.join(outside, '2026', 'a.jpg'), BYTES);
    expect(await reason(readVerifiedMedia(root, 'cam/2026/a.jpg', SHA))).toBe('link');
  });

  it('refuses stored paths that leave the root, and tells a missing file apart', async () => {
    for (const stored of ['../outside/a.jpg', 'cam/../../x', '/etc/passwd', '', '.']) {
      expect([stored, await reason(readVerifiedMedia(root, stored, SHA))]).toStrictEqual([stored, 'outside']);
    }
    expect(await reason(readVerifiedMedia(root, 'cam/2026/nope.jpg', SHA))).toBe('missing');
    expect(await reason(readVerifiedMedia(root, 'cam/2026/a.jpg/x', SHA))).toBe('missing');
    expect(await reason(readVerifiedMedia(path.join(dir, 'no-root'), 'cam/2026/a.jpg', SHA))).toBe('missing');
  });

  it('refuses a FIFO or a folder by the file name without blocking', async () => {
    const file = path.join(root, 'cam', '2026', 'a.jpg');
    rmSync(file);
    execFileSync('mkfifo', [file]);
    expect(await reason(readVerifiedMedia(root, 'cam/2026/a.jpg', SHA))).toBe('changed');
    rmSync(file);
    mkdirSync(file);
    expect(await reason(readVerifiedMedia(root, 'cam/2026/a.jpg', SHA))).toBe('changed');
  });
});

describe('withVerifiedMediaCopy', () => {
  it('hands the tool a private copy with the same name and removes it afterwards', async () => {
    let seen = '';
    const bytes = await withVerifiedMediaCopy(root, 'cam/2026/a.jpg', SHA, async (file) => {
      seen = file;
      expect(path.basename(file)).toBe('a.jpg');
      expect(file.startsWith(root)).toBe(false);
      return readFileSync(file);
    });
    expect(bytes.equals(BYTES)).toBe(true);
    expect(existsSync(seen)).toBe(false);
  });

  it('never runs the tool on other content or through a link, and leaves no copy behind', async () => {
    const before = new Set(readdirTmp());
    const file = path.join(root, 'cam', '2026', 'a.jpg');
    writeFileSync(file, 'another clip');
    let ran = false;
    const use = async () => {
      ran = true;
    };
    expect(await reason(withVerifiedMediaCopy(root, 'cam/2026/a.jpg', SHA, use))).toBe('changed');
    rmSync(file);
    symlinkSync('/etc/passwd', file);
    expect(await reason(withVerifiedMediaCopy(root, 'cam/2026/a.jpg', SHA, use))).toBe('link');
    expect(ran).toBe(false);
    expect(readdirTmp().filter((name) => !before.has(name))).toStrictEqual([]);
  });
});

function readdirTmp(): string[] {
  return readdirSync(os.tmpdir()).filter((name) => name.startsWith('hsi-media-'));
}
