import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InspectOptions, inspectMediaFile } from '../../../src/ingest/inspect-file.js';
import { fixtureImage, missingAsset } from '../../support/env.js';

const JPEG = fixtureImage('dog_bicycle_car.jpg');
const PNG = fixtureImage('cat_chelsea.png');
const TRUNCATED = fixtureImage('bad_truncated.jpg');
const skipAssets = missingAsset(JPEG, PNG, TRUNCATED);

function openByThisProcess(file: string): boolean {
  return readdirSync('/proc/self/fd').some((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === file;
    } catch {
      return false;
    }
  });
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** A small real PNG whose IHDR is patched to declare `width` x `height`, with a correct chunk CRC. */
async function pngDeclaring(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(
    await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } })
      .png()
      .toBuffer(),
  );
  // Signature (8) | IHDR length (4) | 'IHDR' (4) | width (4) | height (4) | 5 more bytes | CRC over type + data.
  expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(zlib.crc32(png.subarray(12, 29)), 29);
  return png;
}

/** Bytes that start like an MP4 (an `ftyp` box) followed by `size` bytes of filler. */
function fakeMp4(size: number): Buffer {
  const body = Buffer.alloc(size, 7);
  Buffer.from([0, 0, 0, 0x18, ...Buffer.from('ftypisom', 'latin1')]).copy(body);
  return body;
}

describe.skipIf(skipAssets !== undefined)('inspectMediaFile', () => {
  let tmp: string;
  let root: string;
  let cam: string;
  let outside: string;
  let options: InspectOptions;

  beforeAll(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'hsi-inspect-'));
    root = path.join(tmp, 'media');
    cam = path.join(root, 'Front Door');
    outside = path.join(tmp, 'outside');
    mkdirSync(cam, { recursive: true });
    mkdirSync(outside);
    options = { mediaRoot: root, maxFileBytes: 50 * 1024 * 1024, maxPixels: 40_000_000 };
  });

  afterAll(() => {
    rmSync(tmp, { recursive: true, force: true });
  });

  function place(name: string, content: Buffer | string, dir = cam): string {
    const file = path.join(dir, name);
    writeFileSync(file, content);
    return file;
  }

  it('accepts a JPEG with its size, sha256, dimensions and mtime', async () => {
    const file = path.join(cam, 'snap.jpg');
    copyFileSync(JPEG, file);
    const stats = statSync(file);
    expect(await inspectMediaFile(file, options)).toStrictEqual({
      ok: true,
      kind: 'image',
      format: 'jpeg',
      realPath: file,
      size: stats.size,
      sha256: sha256(JPEG),
      width: 768,
      height: 576,
      // Its EXIF block, for the capture time.
      exif: expect.any(Buffer),
      mtime: stats.mtime,
    });
  });

  it('accepts a PNG, also when it is named .jpg (content decides the format)', async () => {
    const file = path.join(cam, 'cat.jpg');
    copyFileSync(PNG, file);
    expect(await inspectMediaFile(file, options)).toMatchObject({ ok: true, format: 'png', width: 451, height: 300 });
  });

  it('reports dimensions after EXIF orientation', async () => {
    const rotated = await sharp({ create: { width: 40, height: 20, channels: 3, background: '#000' } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const result = await inspectMediaFile(place('rotated.jpg', rotated), options);
    expect(result).toMatchObject({ ok: true, width: 20, height: 40 });
  });

  it('accepts a clip without dimensions', async () => {
    const content = fakeMp4(4096);
    const file = place('clip.MP4', content);
    const result = await inspectMediaFile(file, options);
    expect(result).toStrictEqual({
      ok: true,
      kind: 'video',
      format: 'mp4',
      realPath: file,
      size: 4096,
      sha256: createHash('sha256').update(content).digest('hex'),
      mtime: statSync(file).mtime,
    });
  });

  it('refuses a zero-byte file', async () => {
    const file = place('empty.jpg', '');
    expect(await inspectMediaFile(file, options)).toStrictEqual({
      ok: false,
      code: 'MEDIA_CORRUPT',
      reason: `${file} is empty (0 bytes); the upload probably failed`,
    });
  });

  it('refuses a truncated JPEG whose header cannot be read', async () => {
    const file = path.join(cam, 'truncated.jpg');
    copyFileSync(TRUNCATED, file);
    const result = await inspectMediaFile(file, options);
    expect(result).toMatchObject({ ok: false, code: 'MEDIA_CORRUPT' });
    const reason = result.ok ? '' : result.reason;
    expect(reason).toContain(`${file} has an unreadable image header`);
    // libvips repeats its lines (five for this file): each is said once, on one line.
    expect(reason).not.toContain('\n');
    expect(reason.match(/premature end of JPEG/gi)).toHaveLength(1);
  });

  it('refuses a text file named .jpg and a JPEG named .mp4', async () => {
    const text = place('note.jpg', 'this is not a photo at all');
    expect(await inspectMediaFile(text, options)).toStrictEqual({
      ok: false,
      code: 'MEDIA_UNSUPPORTED',
      reason: `${text} content is unrecognised bytes 7468697320697320, not what its extension claims`,
    });
    const misnamed = path.join(cam, 'photo.mp4');
    copyFileSync(JPEG, misnamed);
    expect(await inspectMediaFile(misnamed, options)).toStrictEqual({
      ok: false,
      code: 'MEDIA_UNSUPPORTED',
      reason: `${misnamed} content is jpeg, not what its extension claims`,
    });
  });

  it('refuses an unsupported extension without reading it', async () => {
    const file = path.join(cam, 'photo.gif');
    expect(await inspectMediaFile(file, options)).toStrictEqual({
      ok: false,
      code: 'MEDIA_UNSUPPORTED',
      reason: `${file} has an unsupported extension (jpg, jpeg, png, mp4, mkv, avi, mov)`,
    });
  });

  it('refuses a PNG declaring 30000x30000 from its header alone, and accepts one at the limit', async () => {
    const bomb = place('bomb.png', await pngDeclaring(30_000, 30_000));
    const started = performance.now();
    const result = await inspectMediaFile(bomb, options);
    const elapsedMs = performance.now() - started;
    expect(result).toStrictEqual({
      ok: false,
      code: 'MEDIA_TOO_LARGE',
      reason:
        `${bomb} declares 30000x30000 = 900000000 pixels, over the limit of 40000000 (ingest.max_pixels); ` +
        'refused without decoding',
    });
    // Decoding 900 Mpx would take seconds and 2.7 GB; reading the header takes milliseconds.
    expect(elapsedMs).toBeLessThan(1000);
    const atLimit = place('at-limit.png', await pngDeclaring(8000, 5000));
    expect(await inspectMediaFile(atLimit, options)).toMatchObject({ ok: true, width: 8000, height: 5000 });
  });

  it('refuses a file over the size limit, naming the limit', async () => {
    const file = place('big.mp4', fakeMp4(2048));
    expect(await inspectMediaFile(file, { ...options, maxFileBytes: 2047 })).toStrictEqual({
      ok: false,
      code: 'MEDIA_TOO_LARGE',
      reason: `${file} is 2048 bytes, over the limit of 2047 bytes (ingest.max_file_bytes)`,
    });
    expect(await inspectMediaFile(file, { ...options, maxFileBytes: 2048 })).toMatchObject({ ok: true, size: 2048 });
  });

  it('refuses symlinks (of the file or of a camera folder) that leave the media root', async () => {
    const target = path.join(outside, 'secret.jpg');
    copyFileSync(JPEG, target);
    const link = path.join(cam, 'escape.jpg');
    symlinkSync(target, link);
    expect(await inspectMediaFile(link, options)).toStrictEqual({
      ok: false,
      code: 'MEDIA_OUTSIDE_ROOT',
      reason: `${link} resolves to ${target}, outside the media root ${root}`,
    });
    symlinkSync(outside, path.join(root, 'Linked Cam'));
    const viaFolder = path.join(root, 'Linked Cam', 'secret.jpg');
    expect(await inspectMediaFile(viaFolder, options)).toMatchObject({ ok: false, code: 'MEDIA_OUTSIDE_ROOT' });
  });

  it('follows a symlink that stays inside the media root, also through a symlinked root', async () => {
    const other = path.join(root, 'Other Cam');
    mkdirSync(other);
    const target = path.join(other, 'real.jpg');
    copyFileSync(JPEG, target);
    const link = path.join(cam, 'alias.jpg');
    symlinkSync(path.relative(cam, target), link);
    expect(await inspectMediaFile(link, options)).toMatchObject({ ok: true, realPath: target, sha256: sha256(JPEG) });
    const linkedRoot = path.join(tmp, 'media-link');
    symlinkSync(root, linkedRoot);
    const viaRoot = path.join(linkedRoot, 'Other Cam', 'real.jpg');
    expect(await inspectMediaFile(viaRoot, { ...options, mediaRoot: linkedRoot })).toMatchObject({
      ok: true,
      realPath: target,
    });
  });

  it('reports a missing file, a dangling symlink and a file deleted mid-way as MEDIA_GONE', async () => {
    const missing = path.join(cam, 'never.jpg');
    expect(await inspectMediaFile(missing, options)).toStrictEqual({
      ok: false,
      code: 'MEDIA_GONE',
      reason: `${missing} vanished (resolving: ENOENT)`,
    });
    const dangling = path.join(cam, 'dangling.jpg');
    symlinkSync(path.join(cam, 'nowhere.jpg'), dangling);
    expect(await inspectMediaFile(dangling, options)).toMatchObject({ ok: false, code: 'MEDIA_GONE' });
    // Deleted before the inspection got far: it fails at resolving or opening.
    const early = place('early.mp4', fakeMp4(1024));
    const pendingEarly = inspectMediaFile(early, options);
    unlinkSync(early);
    expect(await pendingEarly).toMatchObject({ ok: false, code: 'MEDIA_GONE' });
  });

  it.skipIf(!existsSync('/proc/self/fd'))('reports a file deleted while it is being hashed as MEDIA_GONE', async () => {
    const doomed = place('doomed.mp4', fakeMp4(32 * 1024 * 1024));
    const pending = inspectMediaFile(doomed, options);
    // Wait until the file is open (hashing 32 MB takes far longer than this poll), then delete it: the open handle
    // would read on happily, so only the check after reading can notice.
    while (!openByThisProcess(doomed)) await new Promise((resolve) => setImmediate(resolve));
    unlinkSync(doomed);
    expect(await pending).toStrictEqual({
      ok: false,
      code: 'MEDIA_GONE',
      reason: `${doomed} vanished (stat after read: ENOENT)`,
    });
  });

  it('refuses things that are not regular files without blocking', async () => {
    const dir = path.join(cam, 'folder.jpg');
    mkdirSync(dir);
    expect(await inspectMediaFile(dir, options)).toStrictEqual({
      ok: false,
      code: 'MEDIA_UNSUPPORTED',
      reason: `${dir} is not a regular file`,
    });
    const fifo = path.join(cam, 'pipe.jpg');
    execFileSync('mkfifo', [fifo]);
    expect(await inspectMediaFile(fifo, options)).toMatchObject({ ok: false, code: 'MEDIA_UNSUPPORTED' });
  });

  it('hashes a 40 MB clip by streaming, matching a whole-file hash', async () => {
    const content = fakeMp4(40 * 1024 * 1024);
    const file = place('long.mkv', Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3]), content]));
    const expected = createHash('sha256')
      .update(await readFile(file))
      .digest('hex');
    expect(await inspectMediaFile(file, options)).toMatchObject({ ok: true, format: 'mkv', sha256: expected });
  });

  // Tests run as root here, and root reads a chmod 000 file anyway: the case only applies to a non-root user.
  const unreadable = (() => {
    const probeDir = mkdtempSync(path.join(os.tmpdir(), 'hsi-perm-'));
    const probe = path.join(probeDir, 'probe');
    writeFileSync(probe, 'x');
    chmodSync(probe, 0o000);
    try {
      readFileSync(probe);
      return false;
    } catch {
      return true;
    } finally {
      rmSync(probeDir, { recursive: true, force: true });
    }
  })();

  it.skipIf(!unreadable)('refuses an unreadable file with its errno (non-root only)', async () => {
    const file = path.join(cam, 'locked.jpg');
    copyFileSync(JPEG, file);
    chmodSync(file, 0o000);
    const result = await inspectMediaFile(file, options);
    expect(result).toMatchObject({ ok: false, code: 'MEDIA_UNREADABLE' });
    expect(!result.ok && result.reason).toContain('EACCES');
  });
});
