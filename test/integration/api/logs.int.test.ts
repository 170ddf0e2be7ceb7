import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDbLogStream } from '../../../src/ops/db-log-stream.js';
import { ENGINES, engineUnavailable } from '../../support/stores.js';
import { type ApiHarness, call, createHarness, type ErrorJson } from './harness.js';

for (const engine of ENGINES) {
  const skip = await engineUnavailable(engine);
  if (skip) console.warn(`skipping ${engine} logs API tests: ${skip}`);

  describe.skipIf(skip !== undefined)(`logs API on ${engine}`, () => {
    let h: ApiHarness;
    beforeAll(async () => {
      h = await createHarness(engine);
      // Warnings written through the service's log stream, as `hsi run` does.
      const stream = createDbLogStream({ db: h.db, component: 'hsi' });
      const log = pino({ level: 'info' }, stream.stream);
      log.info('routine line that is not stored');
      log.warn({ camera_id: 'porch' }, 'thumbnail could not be written for the porch camera');
      log.error('database connection refused');
      await stream.flush();
      await stream.close();
    });
    afterAll(async () => h?.close());

    it('lists warnings and errors newest first, never info lines', async () => {
      const { res, json } = await call<{ entries: { level: string; message: string }[] }>(h.app, { url: '/api/logs' });
      expect(res.statusCode).toBe(200);
      expect(json.entries.map((e) => [e.level, e.message])).toStrictEqual([
        ['error', 'database connection refused'],
        ['warn', 'thumbnail could not be written for the porch camera'],
      ]);
    });

    it('searches the messages by words and filters by level', async () => {
      const words = await call<{ entries: { message: string }[] }>(h.app, { url: '/api/logs?q=thumbnails' });
      expect(words.json.entries.map((e) => e.message)).toStrictEqual([
        'thumbnail could not be written for the porch camera',
      ]);
      const errorsOnly = await call<{ entries: { level: string }[] }>(h.app, { url: '/api/logs?level=error' });
      expect(errorsOnly.json.entries.map((e) => e.level)).toStrictEqual(['error']);
    });

    it('refuses an unknown level naming the field', async () => {
      const { res, json } = await call<ErrorJson>(h.app, { url: '/api/logs?level=loud' });
      expect(res.statusCode).toBe(400);
      expect(json.error.field).toContain('level');
    });
  });
}
