import { createHash } from 'node:crypto';
import { appendFileSync, symlinkSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jpegOver, photo, pngDeclaring, put } from '../../support/bad-media.js';
import { fixtureImage, missingAsset, modelPath } from '../../support/env.js';
import { startTestHsi, type TestHsi, waitFor, waitForMedia, waitForRejection } from '../../support/hsi.js';

/**
 * A corpus of broken and hostile uploads, generated here, dropped into the media folder of a running HSI (PGlite,
 * in-process queue): each one ends with a row or a rejection carrying a clear code and reason, nothing else is
 * affected, and a good photo written last is still processed.
 *
 * About `..`: a folder may be called `a..b` (a valid name, a camera like any other). A path that escapes the media
 * root through `..` cannot reach HSI from a camera: the file system resolves `..` when the file is created, so the
 * file lives wherever it resolved to, and the watcher only reports files below the root. What a camera CAN create
 * is a symlink pointing out of the root (refused, MEDIA_OUTSIDE_ROOT); the ingest service is also called here with
 * a raw `Garage/../../outside.jpg` path to show that it refuses it rather than trusting its caller.
 */

const assetsMissing = missingAsset(modelPath('yolox_nano.onnx'), fixtureImage('person_astronaut.png'));
if (assetsMissing) console.warn(`skipping bad input tests: ${assetsMissing}`);

const MB = 1024 * 1024;
const STABLE_MS = 1000;

/** Refused before they earned a row: path → code, and a phrase the reason must contain. */
const REJECTED: Record<string, [string, RegExp]> = {
  'Garage/empty.jpg': ['MEDIA_CORRUPT', /is empty \(0 bytes\)/],
  'Garage/notes.jpg': ['MEDIA_UNSUPPORTED', /content is unrecognised bytes .*not what its extension claims/],
  'Garage/clip.mp4': ['MEDIA_UNSUPPORTED', /content is png, not what its extension claims/],
  'Garage/bomb.png': ['MEDIA_TOO_LARGE', /declares 30000x30000 = 900000000 pixels, over the limit/],
  'Garage/big.jpg': ['MEDIA_TOO_LARGE', /bytes, over the limit of 1048576 bytes/],
  'Garage/escape.jpg': ['MEDIA_OUTSIDE_ROOT', /outside the media root/],
  '../outside.jpg': ['MEDIA_OUTSIDE_ROOT', /is not inside the media root/],
};

/** Accepted uploads: path → camera and final status (code for a rejected row). */
const ROWS: Record<string, { camera: string; status: string; code: string | null }> = {
  'Garage/truncated.jpg': { camera: 'garage', status: 'rejected', code: 'MEDIA_CORRUPT' },
  'a..b/photo.jpg': { camera: 'a_b', status: 'done', code: null },
  'Front Door/photo.jpg': { camera: 'front_door', status: 'done', code: null },
  'Café Porte/photo.jpg': { camera: 'cafe_porte', status: 'done', code: null },
  'Back Yard/one.jpg': { camera: 'back_yard', status: 'done', code: null },
  'back-yard/two.jpg': { camera: 'back_yard', status: 'done', code: null },
  'Growing/slow.jpg': { camera: 'growing', status: 'done', code: null },
  'Final/last.jpg': { camera: 'final', status: 'done', code: null },
};

describe.skipIf(assetsMissing !== undefined)('bad uploads into a running HSI', () => {
  let t: TestHsi;
  const source = fixtureImage('person_astronaut.png');
  let growing: Buffer;

  beforeAll(async () => {
    t = await startTestHsi('pglite+memory', { HSI_INGEST_MAX_FILE_MB: '1', HSI_INGEST_STABLE_MS: String(STABLE_MS) });
    await t.hsi.reconciled;
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it('gives each its rejection or row with a clear code, and keeps working', { timeout: 60_000 }, async () => {
    const root = t.mediaRoot;
    const db = t.hsi.store.db;
    const good = await photo(source, 320);
    put(root, 'Garage/empty.jpg', Buffer.alloc(0));
    put(root, 'Garage/truncated.jpg', good.subarray(0, Math.floor(good.length / 2)));
    put(root, 'Garage/notes.jpg', 'meeting notes: this is text, not a photo\n');
    put(root, 'Garage/clip.mp4', await pngDeclaring(8, 8));
    put(root, 'Garage/bomb.png', await pngDeclaring(30_000, 30_000));
    put(root, 'Garage/big.jpg', await jpegOver(MB + 1));
    const outside = put(path.dirname(root), 'outside.jpg', await photo(source, 300));
    symlinkSync(outside, path.join(root, 'Garage', 'escape.jpg'));
    put(root, 'a..b/photo.jpg', await photo(source, 330));
    put(root, 'Front Door/photo.jpg', await photo(source, 340));
    put(root, 'Café Porte/photo.jpg', await photo(source, 350));
    put(root, 'Back Yard/one.jpg', await photo(source, 360));
    put(root, 'back-yard/two.jpg', await photo(source, 370));
    // Deleted before it is stable: never a row, never a rejection.
    const gone = put(root, 'Garage/gone.jpg', await photo(source, 380));
    setTimeout(() => unlinkSync(gone), STABLE_MS / 4);
    // Written in four parts, each before the stability window ends: read once, complete.
    growing = await photo(source, 390);
    const quarter = Math.ceil(growing.length / 4);
    const slow = put(root, 'Growing/slow.jpg', growing.subarray(0, quarter));
    for (let i = 1; i < 4; i++) {
      await new Promise((r) => setTimeout(r, STABLE_MS / 3));
      appendFileSync(slow, growing.subarray(i * quarter, (i + 1) * quarter));
    }
    // The ingest service itself refuses a raw path that escapes the root.
    const raw = await t.hsi.ingest!.ingest(`${root}/Garage/../../outside.jpg`);
    expect(raw).toMatchObject({ kind: 'rejected', code: 'MEDIA_OUTSIDE_ROOT' });

    for (const [rel, [code, reason]] of Object.entries(REJECTED)) {
      const row = await waitForRejection(db, rel);
      expect({ rel, code: row.error_code }).toStrictEqual({ rel, code });
      expect(row.error).toMatch(reason);
    }
    for (const rel of Object.keys(ROWS).filter((r) => r !== 'Final/last.jpg')) await waitForMedia(db, rel);

    // Last, once the deleted file's window is long past: a good photo is still processed.
    put(root, 'Final/last.jpg', await photo(source, 400));
    const last = await waitForMedia(db, 'Final/last.jpg');
    expect(last.status).toBe('done');
    expect(last.detection_count).toBeGreaterThan(0);

    const rows = await db
      .selectFrom('media_files')
      .select(['path', 'camera_id', 'status', 'error_code', 'error', 'size', 'sha256'])
      .orderBy('path')
      .execute();
    expect(
      Object.fromEntries(rows.map((r) => [r.path, { camera: r.camera_id, status: r.status, code: r.error_code }])),
    ).toStrictEqual(ROWS);
    const truncated = rows.find((r) => r.path === 'Garage/truncated.jpg');
    expect(truncated?.error).toMatch(/cannot be decoded \(corrupt or truncated\): .*premature end/);
    const slowRow = rows.find((r) => r.path === 'Growing/slow.jpg');
    expect({ size: slowRow?.size, sha256: slowRow?.sha256 }).toStrictEqual({
      size: growing.length,
      sha256: createHash('sha256').update(growing).digest('hex'),
    });
    const rejections = await db.selectFrom('media_rejections').select(['path', 'error_code']).orderBy('path').execute();
    expect(Object.fromEntries(rejections.map((r) => [r.path, r.error_code]))).toStrictEqual(
      Object.fromEntries(Object.entries(REJECTED).map(([rel, [code]]) => [rel, code])),
    );
    const cameras = await db.selectFrom('cameras').select('id').orderBy('id').execute();
    expect(cameras.map((c) => c.id)).toStrictEqual([
      'a_b',
      'back_yard',
      'cafe_porte',
      'final',
      'front_door',
      'garage',
      'growing',
    ]);
    // Nothing is left queued or retried behind the scenes.
    const counts = await waitFor(async () => {
      const c = await t.hsi.detectionQueue.counts();
      return c.waiting + c.active + c.delayed === 0 ? c : undefined;
    });
    expect(counts.dead).toBe(0);
  });
});
