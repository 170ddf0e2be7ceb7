import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { startHsi } from '../../../src/main.js';
import { fixtureImage, missingAsset, modelPath } from '../../support/env.js';
import { BACKENDS, backendsUnavailable, testEnvironment, waitFor, waitForMedia } from '../../support/hsi.js';
import { writeDistinctImages } from '../../support/images.js';

/**
 * Issue 11 #3 and #4, the restart case: pictures uploaded while HSI was down are judged when HSI starts again, at
 * the hour they were taken (a 02:00 person at night, though it is day when HSI sees it), and a camera's wrong clock
 * (2099, 1970) never decides whether the camera is online.
 */

const assetsMissing = missingAsset(
  modelPath('yolox_nano.onnx'),
  fixtureImage('person_astronaut.png'),
  fixtureImage('no_target_coffee.png'),
);

/** A fixed-offset zone where it is early afternoon now, so "night" can only come from the picture's own time. */
function afternoonZone(now: Date): { zone: string; offsetHours: number } {
  // Etc/GMT+N is UTC-N. Local hour = UTC hour - N; aim for 13:00 local, N within -12..12.
  let n = now.getUTCHours() - 13;
  if (n < -12) n += 24;
  if (n > 12) n -= 24;
  return { zone: n === 0 ? 'UTC' : `Etc/GMT${n > 0 ? '+' : '-'}${Math.abs(n)}`, offsetHours: -n };
}

for (const backends of BACKENDS) {
  const skip = assetsMissing ?? (await backendsUnavailable(backends));
  if (skip) console.warn(`skipping capture time tests on ${backends}: ${skip}`);

  describe.skipIf(skip !== undefined)(`a backlog after an outage on ${backends}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterAll(async () => {
      for (const c of cleanups.reverse()) await c();
    });

    it('scores a 02:00 picture processed in the afternoon as night, and ignores wrong camera clocks', async () => {
      const now = new Date();
      const { zone, offsetHours } = afternoonZone(now);
      const { env, root, dropDatabase } = await testEnvironment(backends, { HSI_SITE_TIMEZONE: zone });
      cleanups.push(async () => {
        await dropDatabase();
        rmSync(root, { recursive: true, force: true });
      });
      const media = env.HSI_MEDIA_ROOT!;
      // 02:00 local today (about 11 hours ago): uploaded while HSI was down.
      const localMidnight =
        Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - offsetHours * 3600_000;
      let twoAm = localMidnight + 2 * 3600_000;
      while (twoAm > now.getTime()) twoAm -= 86_400_000;
      while (now.getTime() - twoAm > 86_400_000) twoAm += 86_400_000;
      const [night] = await writeDistinctImages(fixtureImage('person_astronaut.png'), path.join(media, 'Back Door'), 1);
      utimesSync(path.join(media, 'Back Door', night!), new Date(twoAm), new Date(twoAm));
      const [future] = await writeDistinctImages(
        fixtureImage('no_target_coffee.png'),
        path.join(media, 'Future'),
        1,
        7,
      );
      utimesSync(
        path.join(media, 'Future', future!),
        new Date('2099-01-01T00:00:00Z'),
        new Date('2099-01-01T00:00:00Z'),
      );
      const [past] = await writeDistinctImages(fixtureImage('no_target_coffee.png'), path.join(media, 'Past'), 1, 9);
      utimesSync(path.join(media, 'Past', past!), new Date(5_000), new Date(5_000));

      const { config } = loadConfig({ env, cwd: process.cwd(), optionsFile: path.join(root, 'none.json') });
      const hsi = await startHsi(config, silentLogger());
      cleanups.push(() => hsi.stop());
      await hsi.reconciled;
      const db = hsi.store.db;
      await waitForMedia(db, `Future/${future}`);
      await waitForMedia(db, `Past/${past}`);
      const event = await waitFor(
        () => db.selectFrom('events').selectAll().where('camera_id', '=', 'back_door').executeTakeFirst(),
        20_000,
        'the back door event',
      );
      // A person at night scores 37 (medium); judged at arrival it would be day: 12 (low).
      expect(event).toMatchObject({ risk_score: 37, risk_level: 'medium' });
      expect(event.summary).toMatch(/ at night \(\w+ 02:00\)\.$/);
      expect(event.started_at.getTime()).toBe(Math.floor(twoAm / 1000) * 1000);

      // A photo whose EXIF says 03:10 (the camera's local time, no offset written), and a camera that writes the time
      // into the file name (03:20), both uploaded now, in the afternoon: judged at night, at those times.
      const local = (instant: number) => new Date(instant + offsetHours * 3600_000);
      const stamp = (instant: number, sep: string, dateSep = '') => {
        const d = local(instant).toISOString();
        return `${d.slice(0, 10).replaceAll('-', dateSep)}${sep}${d.slice(11, 19).replaceAll(':', sep === ' ' ? ':' : '')}`;
      };
      const threeTen = twoAm + 70 * 60_000;
      const exifPhoto = await sharp(fixtureImage('person_astronaut.png'))
        .resize(480)
        .jpeg()
        .withExif({ IFD2: { DateTimeOriginal: stamp(threeTen, ' ', ':') } })
        .toBuffer();
      mkdirSync(path.join(media, 'Side Gate'), { recursive: true });
      writeFileSync(path.join(media, 'Side Gate', 'snapshot.jpg'), exifPhoto);
      const threeTwenty = twoAm + 80 * 60_000;
      const named = `Garage_00_${stamp(threeTwenty, '')}.jpg`;
      mkdirSync(path.join(media, 'Garage'), { recursive: true });
      await sharp(fixtureImage('person_astronaut.png'))
        .resize(470)
        .jpeg()
        .toFile(path.join(media, 'Garage', named));
      // EXIF that names no real date (rolled over by the reader to March 2nd) and EXIF from 2099: neither is believed.
      for (const [camera, when] of [
        ['Shed', '2023:02:30 14:00:00'],
        ['Roof', '2099:01:01 03:00:00'],
      ] as const) {
        mkdirSync(path.join(media, camera), { recursive: true });
        const photo = await sharp(fixtureImage('no_target_coffee.png'))
          .resize(300 + camera.length)
          .jpeg()
          .withExif({ IFD2: { DateTimeOriginal: when } })
          .toBuffer();
        writeFileSync(path.join(media, camera, 'snap.jpg'), photo);
      }
      const judged = async (cameraId: string) =>
        waitFor(
          () => db.selectFrom('events').selectAll().where('camera_id', '=', cameraId).executeTakeFirst(),
          20_000,
          `the ${cameraId} event`,
        );
      const gate = await judged('side_gate');
      expect(gate.started_at.getTime()).toBe(Math.floor(threeTen / 1000) * 1000);
      expect(gate.summary).toMatch(/ at night \(\w+ 03:10\)\.$/);
      const garage = await judged('garage');
      expect(garage.started_at.getTime()).toBe(Math.floor(threeTwenty / 1000) * 1000);
      expect(garage.summary).toMatch(/ at night \(\w+ 03:20\)\.$/);
      await waitForMedia(db, 'Shed/snap.jpg');
      await waitForMedia(db, 'Roof/snap.jpg');
      const sources = await db
        .selectFrom('media_files')
        .select(['path', 'taken_source', 'taken_at', 'captured_at'])
        .where('camera_id', 'in', ['side_gate', 'garage', 'back_door', 'shed', 'roof'])
        .orderBy('path')
        .execute();
      expect(sources.map((m) => [m.path, m.taken_source])).toStrictEqual([
        [`Back Door/${night}`, 'file_time'],
        [`Garage/${named}`, 'file_name'],
        ['Roof/snap.jpg', 'arrival'],
        ['Shed/snap.jpg', 'file_time'],
        ['Side Gate/snapshot.jpg', 'exif'],
      ]);
      const roof = sources.find((m) => m.path === 'Roof/snap.jpg')!;
      expect(roof.taken_at!.getTime()).toBeLessThanOrEqual(Date.now());
      // The detections carry the time the camera took the picture.
      const person = await db
        .selectFrom('detections')
        .select('detected_at')
        .where('camera_id', '=', 'side_gate')
        .executeTakeFirstOrThrow();
      expect(person.detected_at.getTime()).toBe(Math.floor(threeTen / 1000) * 1000);

      const seen = await db
        .selectFrom('cameras')
        .select(['id', 'last_seen_at'])
        .where('id', 'in', ['future', 'past'])
        .execute();
      const after = Date.now();
      for (const camera of seen) {
        // When the upload was processed: not 2099, not 1970.
        expect(camera.last_seen_at!.getTime()).toBeGreaterThanOrEqual(now.getTime() - 1000);
        expect(camera.last_seen_at!.getTime()).toBeLessThanOrEqual(after);
      }
    });
  });
}
