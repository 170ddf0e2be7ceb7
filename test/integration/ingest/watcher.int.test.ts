import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { appendFile, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MediaWatcher, scanMediaFiles } from '../../../src/ingest/watcher.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { fixtureImage, missingAsset } from '../../support/env.js';

const JPEG = fixtureImage('dog_bicycle_car.jpg');
const skipAssets = missingAsset(JPEG);

interface Fired {
  path: string;
  /** Size on disk when the listener ran: a ready file must be complete. */
  size: number;
  at: number;
}

/** Starts a watcher on `root` and records every ready file with its size at that moment. */
async function startWatcher(root: string, stableMs: number, polling = false, pollIntervalMs = 100) {
  const fired: Fired[] = [];
  const watcher = new MediaWatcher({ root, stableMs, polling, pollIntervalMs, log: silentLogger() });
  watcher.onReady((p) => {
    fired.push({ path: p, size: statSync(p, { throwIfNoEntry: false })?.size ?? -1, at: Date.now() });
  });
  await watcher.start();
  // Node's fs.watchFile takes its first sample on the thread pool after chokidar is ready; a file created before that
  // sample is part of the baseline and never reported (reconciliation, run after start(), covers that moment).
  if (polling) await sleep(100);
  return { watcher, fired };
}

/** Waits until `count` files fired (or `timeoutMs`), then a little longer to catch duplicates. */
async function settle(fired: Fired[], count: number, timeoutMs: number, extraMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (fired.length < count && Date.now() < deadline) await sleep(25);
  await sleep(extraMs);
}

describe.skipIf(skipAssets !== undefined)('MediaWatcher', () => {
  let tmp: string;
  let root: string;
  let cam: string;
  let stop: (() => Promise<void>) | undefined;

  beforeEach(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'hsi-watch-'));
    root = path.join(tmp, 'media');
    cam = path.join(root, 'Front Door');
    mkdirSync(cam, { recursive: true });
  });

  afterEach(async () => {
    await stop?.();
    stop = undefined;
    rmSync(tmp, { recursive: true, force: true });
  });

  for (const polling of [false, true]) {
    it(`fires once for a copied file, and ignores files already there (${polling ? 'polling' : 'inotify'})`, async () => {
      copyFileSync(JPEG, path.join(cam, 'before-start.jpg'));
      const { watcher, fired } = await startWatcher(root, 300, polling);
      stop = () => watcher.stop();
      const file = path.join(cam, 'copied.jpg');
      copyFileSync(JPEG, file);
      await settle(fired, 1, 5000, 900);
      expect(fired.map((f) => [f.path, f.size])).toStrictEqual([[file, statSync(JPEG).size]]);
      expect(watcher.pendingCount).toBe(0);
    });
  }

  it('fires once, after the last chunk, for a file written slowly over 3 s', async () => {
    // Chunk gaps (600 ms) well inside the default-like window (2000 ms), as a slow FTP upload would produce.
    const { watcher, fired } = await startWatcher(root, 2000);
    stop = () => watcher.stop();
    const file = path.join(cam, 'slow.mp4');
    const chunk = Buffer.alloc(64 * 1024, 1);
    await writeFile(file, chunk);
    for (let i = 1; i < 6; i += 1) {
      await sleep(600);
      await appendFile(file, chunk);
    }
    const lastWriteAt = Date.now();
    await settle(fired, 1, 6000, 500);
    expect(fired.map((f) => [f.path, f.size])).toStrictEqual([[file, 6 * chunk.length]]);
    expect(fired[0]!.at - lastWriteAt).toBeGreaterThanOrEqual(1900);
  }, 20_000);

  // With a 2 s poll, chokidar reports writes and deletions late; the watcher's own stat re-check must catch them.
  it('keeps waiting while a file grows between slow polls', async () => {
    // Stable after 1.5 s: appends 150 ms apart must never look stable, also on a loaded 2-core CI machine (400 ms did once).
    const { watcher, fired } = await startWatcher(root, 1500, true, 2000);
    stop = () => watcher.stop();
    const file = path.join(cam, 'growing.mp4');
    const chunk = Buffer.alloc(16 * 1024, 1);
    await writeFile(file, chunk);
    for (let i = 1; i < 22; i += 1) {
      await sleep(150);
      await appendFile(file, chunk);
    }
    await settle(fired, 1, 8000, 500);
    expect(fired.map((f) => [f.path, f.size])).toStrictEqual([[file, 22 * chunk.length]]);
  }, 20_000);

  it('drops a file deleted before it is stable even when the unlink event comes late', async () => {
    const { watcher, fired } = await startWatcher(root, 300, true, 2000);
    stop = () => watcher.stop();
    const file = path.join(cam, 'gone.jpg');
    copyFileSync(JPEG, file);
    const deadline = Date.now() + 5000;
    while (watcher.pendingCount === 0 && Date.now() < deadline) await sleep(20);
    expect(watcher.pendingCount).toBe(1);
    await rm(file);
    await sleep(800);
    expect(fired).toStrictEqual([]);
    expect(watcher.pendingCount).toBe(0);
  });

  it('watches camera folders created after start, recursively', async () => {
    const { watcher, fired } = await startWatcher(root, 300);
    stop = () => watcher.stop();
    const nested = path.join(root, 'New Camera', '2026', '01');
    await mkdir(nested, { recursive: true });
    const file = path.join(nested, 'first.jpg');
    copyFileSync(JPEG, file);
    // Each new folder level is found by a scan after its parent's event: slow on a loaded CI machine.
    await settle(fired, 1, 20_000, 700);
    expect(fired.map((f) => f.path)).toStrictEqual([file]);
  });

  it('reports every file of a burst written into new nested folders the moment they exist', async () => {
    const { watcher, fired } = await startWatcher(root, 300);
    stop = () => watcher.stop();
    const expected: string[] = [];
    for (const round of ['r1', 'r2', 'r3']) {
      const dir = path.join(root, 'Burst Camera', round, 'snaps');
      await mkdir(dir, { recursive: true });
      for (let i = 0; i < 30; i++) {
        const file = path.join(dir, `${i}.jpg`);
        copyFileSync(JPEG, file);
        expected.push(file);
      }
    }
    await settle(fired, expected.length, 20_000, 1000);
    expect(fired.map((f) => f.path).sort()).toStrictEqual(expected.sort());
  });

  it('never fires for a file deleted before it is stable', async () => {
    const { watcher, fired } = await startWatcher(root, 500);
    stop = () => watcher.stop();
    const file = path.join(cam, 'short-lived.jpg');
    copyFileSync(JPEG, file);
    await sleep(150);
    await rm(file);
    await sleep(1200);
    expect(fired).toStrictEqual([]);
    expect(watcher.pendingCount).toBe(0);
  });

  it('ignores unsupported extensions, hidden files and dot-folders', async () => {
    const { watcher, fired } = await startWatcher(root, 300);
    stop = () => watcher.stop();
    writeFileSync(path.join(cam, 'notes.txt'), 'x');
    copyFileSync(JPEG, path.join(cam, 'upload.jpg.part'));
    copyFileSync(JPEG, path.join(cam, '.hidden.jpg'));
    mkdirSync(path.join(cam, '.tmp'));
    copyFileSync(JPEG, path.join(cam, '.tmp', 'staged.jpg'));
    const marker = path.join(cam, 'marker.png');
    await sleep(200);
    copyFileSync(JPEG, marker);
    await settle(fired, 1, 5000, 700);
    expect(fired.map((f) => f.path)).toStrictEqual([marker]);
  });

  it('reports a symlink as a path without following it, and paths under a symlinked root', async () => {
    const real = path.join(tmp, 'real-media');
    mkdirSync(path.join(real, 'Cam'), { recursive: true });
    const linkedRoot = path.join(tmp, 'linked-media');
    symlinkSync(real, linkedRoot);
    const { watcher, fired } = await startWatcher(linkedRoot, 300);
    stop = () => watcher.stop();
    const file = path.join(real, 'Cam', 'a.jpg');
    copyFileSync(JPEG, file);
    const link = path.join(real, 'Cam', 'alias.jpg');
    symlinkSync(file, link);
    await settle(fired, 2, 5000, 700);
    expect(fired.map((f) => f.path).sort()).toStrictEqual([
      path.join(linkedRoot, 'Cam', 'a.jpg'),
      path.join(linkedRoot, 'Cam', 'alias.jpg'),
    ]);
  });

  it('fires again when a ready file is rewritten, and keeps going when a listener throws', async () => {
    const { watcher, fired } = await startWatcher(root, 300);
    stop = () => watcher.stop();
    watcher.onReady(() => {
      throw new Error('listener bug');
    });
    const file = path.join(cam, 'rewritten.jpg');
    await writeFile(file, Buffer.alloc(100, 1));
    await settle(fired, 1, 5000, 0);
    await writeFile(file, Buffer.alloc(200, 2));
    await settle(fired, 2, 5000, 700);
    expect(fired.map((f) => [f.path, f.size])).toStrictEqual([
      [file, 100],
      [file, 200],
    ]);
  });

  it('watches a media root again after it was deleted and created anew, saying so meanwhile', async () => {
    const watcher = new MediaWatcher({ root, stableMs: 200, rootCheckMs: 100, log: silentLogger() });
    const fired: string[] = [];
    const changes: boolean[] = [];
    watcher.onReady((p) => void fired.push(p));
    watcher.onRootChange((h) => void changes.push(h.ok));
    await watcher.start();
    stop = () => watcher.stop();
    expect(watcher.health()).toStrictEqual({ ok: true, reason: null });
    rmSync(root, { recursive: true, force: true });
    for (let i = 0; i < 50 && watcher.health().ok; i++) await sleep(50);
    expect(watcher.health()).toStrictEqual({
      ok: false,
      reason: `media root ${root} is gone: uploads are not ingested until it is back`,
    });
    mkdirSync(cam, { recursive: true });
    for (let i = 0; i < 50 && !watcher.health().ok; i++) await sleep(50);
    expect(watcher.health().ok).toBe(true);
    expect(changes).toStrictEqual([false, true]);
    // A file uploaded into the new folder is seen (before the fix, nothing was, until a restart).
    await sleep(100);
    copyFileSync(JPEG, path.join(cam, 'after.jpg'));
    for (let i = 0; i < 60 && fired.length === 0; i++) await sleep(50);
    expect(fired).toStrictEqual([path.join(cam, 'after.jpg')]);
  });

  it('refuses to start on a missing media root, naming it', async () => {
    const missing = path.join(tmp, 'nope');
    const watcher = new MediaWatcher({ root: missing, log: silentLogger() });
    await expect(watcher.start()).rejects.toThrow(
      `media root ${missing} cannot be read (ENOENT); create it or fix the media_root setting`,
    );
  });

  it('delivers nothing after stop()', async () => {
    const { watcher, fired } = await startWatcher(root, 300);
    copyFileSync(JPEG, path.join(cam, 'late.jpg'));
    await sleep(100);
    await watcher.stop();
    await sleep(700);
    expect(fired).toStrictEqual([]);
    expect(watcher.pendingCount).toBe(0);
  });
});

describe('scanMediaFiles', () => {
  let tmp: string;

  beforeEach(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'hsi-scan-'));
  });

  afterEach(() => {
    rmSync(tmp, { recursive: true, force: true });
  });

  it('lists supported files recursively, skipping dot-entries and symlinked folders', async () => {
    const root = path.join(tmp, 'media');
    const outside = path.join(tmp, 'outside');
    for (const dir of ['Front Door/2026/01', 'Garage/.tmp', '.trash', 'Empty']) {
      mkdirSync(path.join(root, dir), { recursive: true });
    }
    mkdirSync(outside);
    const files = {
      'Front Door/a.jpg': 'x',
      'Front Door/2026/01/b.MP4': 'x',
      'Front Door/notes.txt': 'x',
      'Front Door/.c.jpg': 'x',
      'Garage/d.png': 'x',
      'Garage/.tmp/e.jpg': 'x',
      '.trash/f.jpg': 'x',
      'loose.mov': 'x',
    };
    for (const [rel, content] of Object.entries(files)) writeFileSync(path.join(root, rel), content);
    writeFileSync(path.join(outside, 'g.jpg'), 'x');
    symlinkSync(outside, path.join(root, 'Linked Cam'));
    symlinkSync(path.join(outside, 'g.jpg'), path.join(root, 'Garage', 'link.jpg'));

    const found: string[] = [];
    for await (const file of scanMediaFiles(root)) found.push(path.relative(root, file));
    expect(found.sort()).toStrictEqual(
      ['Front Door/2026/01/b.MP4', 'Front Door/a.jpg', 'Garage/d.png', 'Garage/link.jpg', 'loose.mov'].sort(),
    );
  });

  it('throws a clear error when the root cannot be listed', async () => {
    const missing = path.join(tmp, 'missing');
    await expect(scanMediaFiles(missing).next()).rejects.toThrow(`media root ${missing} cannot be read (ENOENT)`);
  });
});
