import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../../../src/api/server.js';
import { writeThumbnails } from '../../../src/detection/thumbnail.js';
import { ENGINES, engineUnavailable } from '../../support/stores.js';
import { type ApiHarness, apiConfig, call, createHarness, type ErrorJson, seedEvent } from './harness.js';

interface DetectionJson {
  id: number;
  image_url: string;
  thumbnail_url: string | null;
}

const T0 = Date.parse('2026-03-02T12:00:00Z');

for (const engine of ENGINES) {
  const skip = await engineUnavailable(engine);
  if (skip) console.warn(`skipping ${engine} detection thumbnail tests: ${skip}`);

  describe.skipIf(skip !== undefined)(`detection thumbnails on ${engine}`, () => {
    let h: ApiHarness;
    /** Outside `<data_dir>/thumbnails`: what a hostile path or link points at. */
    let outside: string;
    let eventId: number;
    let ids: number[];
    const setPath = (id: number, thumbnailPath: string | null) =>
      h.db.updateTable('detections').set({ thumbnail_path: thumbnailPath }).where('id', '=', id).execute();
    const detail = async () =>
      (await call<{ detections: DetectionJson[] }>(h.app, { url: `/api/events/${eventId}` })).json.detections;

    beforeAll(async () => {
      h = await createHarness(engine);
      outside = mkdtempSync(path.join(os.tmpdir(), 'hsi-api-outside-'));
      writeFileSync(path.join(outside, 'secret.jpg'), 'not for the LAN');
      const event = await seedEvent(h.db, {
        summary: 'Two people at the door',
        startedAt: new Date(T0),
        detections: [
          { objectType: 'person', confidence: 0.9 },
          { objectType: 'person', confidence: 0.8 },
          { objectType: 'person', confidence: 0.7 },
        ],
      });
      eventId = event.id;
      ids = (await detail()).map((d) => d.id);
    });
    afterAll(async () => {
      await h?.close();
      if (outside !== undefined) rmSync(outside, { recursive: true, force: true });
    });

    it('answers 404 (not cached) until the crop is written, then serves it; the event JSON links it', async () => {
      const id = ids[0] as number;
      const before = await call<ErrorJson>(h.app, { url: `/api/detections/${id}/thumbnail` });
      expect([before.res.statusCode, before.res.headers['cache-control'], before.json.error.code]).toStrictEqual([
        404,
        'no-store',
        'NOT_FOUND',
      ]);
      expect(before.json.error.message).toContain('no thumbnail');
      expect((await detail()).map((d) => d.thumbnail_url)).toStrictEqual([null, null, null]);

      // Written as the detection stage writes it: `<data_dir>/thumbnails/<camera>/<base>-<i>.jpg`.
      const picture = await sharp({ create: { width: 1000, height: 1000, channels: 3, background: '#4060a0' } })
        .jpeg()
        .toBuffer();
      const dir = path.join(h.dataDir, 'thumbnails', 'front_door');
      const [file] = await writeThumbnails(picture, [{ box: { x: 400, y: 300, width: 200, height: 400 } }], dir, 'm1');
      await setPath(id, file as string);

      const res = await h.app.inject({ url: `/api/detections/${id}/thumbnail` });
      expect([res.statusCode, res.headers['content-type']]).toStrictEqual([200, 'image/jpeg']);
      expect(res.headers['cache-control']).toContain('max-age=');
      const meta = await sharp(res.rawPayload).metadata();
      expect([meta.format, meta.height]).toStrictEqual(['jpeg', 256]);

      const [first] = await detail();
      expect(first?.thumbnail_url).toBe(`/api/detections/${id}/thumbnail`);
      expect((await h.app.inject({ url: first?.thumbnail_url as string })).rawPayload.equals(res.rawPayload)).toBe(
        true,
      );

      // Removed later (retention, reprocess): 404 again, not a server error.
      rmSync(file as string);
      expect((await h.app.inject({ url: `/api/detections/${id}/thumbnail` })).statusCode).toBe(404);
    });

    it('never serves a file outside the thumbnails folder: no .., no absolute path elsewhere, no link out', async () => {
      const [, id, other] = ids as [number, number, number];
      const thumbs = path.join(h.dataDir, 'thumbnails');
      mkdirSync(path.join(thumbs, 'porch'), { recursive: true });
      symlinkSync(path.join(outside, 'secret.jpg'), path.join(thumbs, 'porch', 'link.jpg'));
      symlinkSync(outside, path.join(thumbs, 'elsewhere'));
      const hostile = [
        path.join(thumbs, '..', '..', path.basename(outside), 'secret.jpg'),
        path.join(outside, 'secret.jpg'),
        path.join(thumbs, 'porch', 'link.jpg'),
        path.join(thumbs, 'elsewhere', 'secret.jpg'),
        `${thumbs}-evil/x.jpg`,
      ];
      for (const stored of hostile) {
        await setPath(id, stored);
        const res = await call<ErrorJson>(h.app, { url: `/api/detections/${id}/thumbnail` });
        expect([stored, res.res.statusCode]).toStrictEqual([stored, stored.endsWith('x.jpg') ? 404 : 422]);
        expect(res.res.body).not.toContain('not for the LAN');
        if (res.res.statusCode === 422) expect(res.json.error.code).toBe('THUMBNAIL_OUTSIDE_DIR');
      }
      await setPath(other, thumbs);
      expect((await h.app.inject({ url: `/api/detections/${other}/thumbnail` })).statusCode).toBe(422);
    });

    it('answers 404 for an unknown detection and 400 for a bad id', async () => {
      const none = await call<ErrorJson>(h.app, { url: '/api/detections/424242/thumbnail' });
      expect([none.res.statusCode, none.json.error.message]).toStrictEqual([404, 'no detection with id 424242']);
      const bad = await call<ErrorJson>(h.app, { url: '/api/detections/abc/thumbnail' });
      expect([bad.res.statusCode, bad.json.error.code]).toStrictEqual([400, 'INVALID_INPUT']);
    });

    it('asks for the API key like the other image routes', async () => {
      const strict = await createApi(apiConfig(h.mediaRoot, { api_key: 'k3y' }, h.dataDir), h.deps);
      try {
        const url = `/api/detections/${ids[0]}/thumbnail`;
        expect((await strict.inject({ url })).statusCode).toBe(401);
        expect((await strict.inject({ url, headers: { 'x-api-key': 'k3y' } })).statusCode).toBe(404);
      } finally {
        await strict.close();
      }
    });
  });
}
