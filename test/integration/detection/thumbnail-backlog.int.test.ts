import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeThumbnails } from '../../../src/detection/thumbnail.js';
import { ThumbnailBacklog, type ThumbnailTask } from '../../../src/detection/thumbnail-backlog.js';
import { systemClock } from '../../../src/lib/clock.js';
import { createLogger } from '../../../src/lib/logger.js';
import { fixtureImage, missingAsset } from '../../support/env.js';
import { seedDetections } from '../../support/seed.js';
import { createTestStore, type TestStore } from '../../support/stores.js';

/** Thumbnails written after the commit, while detection is idle, recorded on the rows (real sharp, PGlite). */

const IMAGE = fixtureImage('dog_bicycle_car.jpg');
const skip = missingAsset(IMAGE);

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.skipIf(skip !== undefined)('ThumbnailBacklog', () => {
  let t: TestStore;
  let dir: string;
  const lines: { level: number; msg: string }[] = [];
  const log = createLogger(
    'info',
    new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    }),
  );
  let busy = false;
  const backlog = (extra: { maxPending?: number } = {}) =>
    new ThumbnailBacklog({
      db: t.store.db,
      log,
      clock: systemClock,
      write: writeThumbnails,
      idle: () => !busy,
      pollMs: 20,
      ...extra,
    });
  const task = async (name: string, boxes = 2): Promise<ThumbnailTask> => {
    const ids = await seedDetections(
      t.store.db,
      'yard',
      Array.from({ length: boxes }, (_, i) => ({
        objectType: 'dog',
        confidence: 0.9,
        box: { x: 10 + i * 50, y: 20, width: 120, height: 90 },
      })),
    );
    const file = path.join(dir, `${name}.jpg`);
    copyFileSync(IMAGE, file);
    return {
      cameraId: 'yard',
      file,
      dir: path.join(dir, 'thumbs'),
      baseName: name,
      detections: ids.map((id, i) => ({ id, box: { x: 10 + i * 50, y: 20, width: 120, height: 90 } })),
    };
  };
  const thumbOf = async (id: number) =>
    (await t.store.db.selectFrom('detections').select('thumbnail_path').where('id', '=', id).executeTakeFirst())
      ?.thumbnail_path;

  beforeAll(async () => {
    t = await createTestStore('pglite');
    dir = mkdtempSync(path.join(os.tmpdir(), 'hsi-thumbs-'));
  });
  afterAll(async () => {
    await t?.dispose();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('waits while detection is busy, then writes each crop and records it on its row', async () => {
    const b = backlog();
    busy = true;
    const a = await task('a');
    b.add(a);
    await new Promise((r) => setTimeout(r, 150));
    expect(await thumbOf(a.detections[0]!.id)).toBeNull();
    busy = false;
    await until(async () => (await thumbOf(a.detections[1]!.id)) !== null);
    for (const [i, d] of a.detections.entries()) {
      const file = await thumbOf(d.id);
      expect(file).toBe(path.join(dir, 'thumbs', `a-${i}.jpg`));
      expect(existsSync(file!)).toBe(true);
    }
    await b.stop();
  });

  it('skips an image that is gone, and removes the crops of detections replaced meanwhile', async () => {
    const b = backlog();
    busy = true;
    const gone = await task('gone');
    rmSync(gone.file);
    const replaced = await task('replaced');
    await t.store.db
      .deleteFrom('detections')
      .where(
        'id',
        'in',
        replaced.detections.map((d) => d.id),
      )
      .execute();
    const kept = await task('kept', 1);
    b.add(gone);
    b.add(replaced);
    b.add(kept);
    busy = false;
    await until(async () => (await thumbOf(kept.detections[0]!.id)) !== null);
    expect(await thumbOf(gone.detections[0]!.id)).toBeNull();
    const names = readdirSync(path.join(dir, 'thumbs'));
    expect(names.filter((n) => n.startsWith('gone') || n.startsWith('replaced'))).toStrictEqual([]);
    expect(names).toContain('kept-0.jpg');
    await b.stop();
  });

  it('keeps at most maxPending tasks, dropping the oldest with one warning, and drops the rest on stop', async () => {
    const b = backlog({ maxPending: 2 });
    busy = true;
    const tasks = [await task('o1', 1), await task('o2', 1), await task('o3', 1)];
    for (const x of tasks) b.add(x);
    expect(b.pending).toBe(2);
    expect(lines.filter((l) => l.msg === 'thumbnail backlog full: the oldest crops are skipped')).toHaveLength(1);
    await b.stop();
    expect(b.pending).toBe(0);
    busy = false;
    await new Promise((r) => setTimeout(r, 100));
    for (const x of tasks) expect(await thumbOf(x.detections[0]!.id)).toBeNull();
  });
});
