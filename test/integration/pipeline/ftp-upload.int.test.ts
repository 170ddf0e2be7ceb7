import { rmSync } from 'node:fs';
import { Client } from 'basic-ftp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hsi } from '../../../src/main.js';
import { fixtureImage, missingAsset, modelPath } from '../../support/env.js';
import { startHsiFrom } from '../../support/home-assistant.js';
import { BACKENDS, backendsUnavailable, testEnvironment, waitForMedia } from '../../support/hsi.js';
import { freePortRange } from '../../support/ports.js';

/**
 * A camera that can only upload by FTP: it logs in to HSI's FTP receiver, uploads into a dated folder, and the
 * picture goes through the same ingest, detection and storage as a file dropped into media_root.
 */

const assetsMissing = missingAsset(modelPath('yolox_nano.onnx'), fixtureImage('person_astronaut.png'));

for (const backends of BACKENDS) {
  const skip = assetsMissing ?? (await backendsUnavailable(backends));
  if (skip) console.warn(`skipping FTP upload pipeline test on ${backends}: ${skip}`);

  describe.skipIf(skip !== undefined)(`FTP upload through the pipeline on ${backends}`, () => {
    let hsi: Hsi;
    let port: number;
    let cleanup: () => Promise<void>;

    beforeAll(async () => {
      port = await freePortRange(6);
      const { env, root, dropDatabase } = await testEnvironment(backends, {
        HSI_FTP_ENABLED: 'true',
        HSI_FTP_HOST: '127.0.0.1',
        HSI_FTP_PORT: String(port),
        HSI_FTP_PASSIVE_MIN_PORT: String(port + 1),
        HSI_FTP_PASSIVE_MAX_PORT: String(port + 5),
        HSI_FTP_USERS: JSON.stringify([{ username: 'frontdoor', password: 'door-s3cret', camera: 'Front Door' }]),
      });
      hsi = await startHsiFrom(env, root);
      await hsi.reconciled;
      cleanup = async () => {
        await hsi.stop();
        await dropDatabase();
        rmSync(root, { recursive: true, force: true });
      };
    }, 60_000);
    afterAll(async () => cleanup?.());

    it('detects a picture uploaded by FTP into the camera folder, exactly once', { timeout: 60_000 }, async () => {
      const client = new Client(10_000);
      try {
        await client.access({ host: '127.0.0.1', port, user: 'frontdoor', password: 'door-s3cret' });
        await client.ensureDir('2026-11-24');
        await client.uploadFrom(fixtureImage('person_astronaut.png'), 'snap_0001.png');
      } finally {
        client.close();
      }
      const row = await waitForMedia(hsi.store.db, 'Front Door/2026-11-24/snap_0001.png', 30_000);
      expect([row.camera_id, row.status]).toStrictEqual(['front_door', 'done']);
      const detections = await hsi.store.db
        .selectFrom('detections')
        .select(['object_type', 'confidence'])
        .where('media_file_id', '=', row.id)
        .execute();
      expect(detections.some((d) => d.object_type === 'person' && d.confidence >= 0.9)).toBe(true);
      const rows = await hsi.store.db.selectFrom('media_files').select('path').execute();
      expect(rows.map((r) => r.path)).toStrictEqual(['Front Door/2026-11-24/snap_0001.png']);
    });

    it('refuses a wrong password and stores nothing', { timeout: 30_000 }, async () => {
      const client = new Client(10_000);
      const error = await client
        .access({ host: '127.0.0.1', port, user: 'frontdoor', password: 'wrong' })
        .catch((e: unknown) => e);
      client.close();
      expect(error).toBeInstanceOf(Error);
      const count = await hsi.store.db
        .selectFrom('media_files')
        .select((eb) => eb.fn.countAll().as('n'))
        .execute();
      expect(Number(count[0]?.n)).toBe(1);
    });
  });
}
