import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDbLogStream } from '../../../src/ops/db-log-stream.js';
import type { Db } from '../../../src/storage/database.js';
import { searchLogs } from '../../../src/storage/log.repository.js';
import { createTestStore, ENGINES, engineUnavailable, type TestStore } from '../../support/stores.js';

/** A database that refuses inserts while `down` is set, as when PostgreSQL restarts. */
function flaky(db: Db): { db: Db; down: boolean } {
  const state = { down: false, db };
  state.db = new Proxy(db, {
    get(target, prop) {
      if (prop === 'insertInto' && state.down) {
        return () => {
          throw new Error('connection refused');
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return state;
}

for (const engine of ENGINES) {
  const skip = await engineUnavailable(engine);
  if (skip) console.warn(`skipping ${engine} log table tests: ${skip}`);

  describe.skipIf(skip !== undefined)(`database log stream on ${engine}`, () => {
    let t: TestStore;
    const count = async () =>
      Number(
        (
          await t.store.db
            .selectFrom('logs')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );

    beforeAll(async () => {
      t = await createTestStore(engine);
    });
    beforeEach(async () => {
      await t.store.db.deleteFrom('logs').execute();
    });
    afterAll(async () => t?.dispose());

    it('keeps warn and above from a pino multistream, with their context, and finds them again', async () => {
      const sink = createDbLogStream({ db: t.store.db, component: 'hsi', flushIntervalMs: 60_000 });
      const log = pino(
        { level: 'debug', base: { app: 'hsi' } },
        pino.multistream([{ level: 'warn', stream: sink.stream }]),
      );
      const before = Date.now();
      log.info('started');
      log
        .child({ component: 'detection', camera_id: 'front_door', media_file_id: 42 })
        .warn({ duration_ms: 12.4 }, 'detector slow on front door');
      log.error(
        { err: new Error('connection refused'), event_id: 7, request_id: 'r-1' },
        'analysis failed: LLM connection refused',
      );
      log.fatal({ detection_id: '99' }, 'database gone');
      expect(await count()).toBe(0);
      await sink.flush();
      expect(sink.stats()).toStrictEqual({ stored: 3, dropped: 0, failedFlushes: 0, buffered: 0 });

      const all = await searchLogs(t.store.db);
      expect(all.every((e) => e.timestamp.getTime() >= before && e.timestamp.getTime() <= Date.now())).toBe(true);
      expect(all.map(({ id, timestamp, extra, ...e }) => e)).toStrictEqual([
        {
          ...{ level: 'fatal', component: 'hsi', message: 'database gone', cameraId: null, eventId: null },
          ...{ requestId: null, detectionId: 99, durationMs: null, source: 'backend' },
        },
        {
          ...{ level: 'error', component: 'hsi', message: 'analysis failed: LLM connection refused', cameraId: null },
          ...{ eventId: 7, requestId: 'r-1', detectionId: null, durationMs: null, source: 'backend' },
        },
        {
          ...{ level: 'warn', component: 'detection', message: 'detector slow on front door', cameraId: 'front_door' },
          ...{ eventId: null, requestId: null, detectionId: null, durationMs: 12, source: 'backend' },
        },
      ]);
      expect(all.map((e) => e.extra)).toMatchObject([
        null,
        { err: { type: 'Error', message: 'connection refused' } },
        { media_file_id: 42 },
      ]);

      const messages = async (search: Parameters<typeof searchLogs>[1]) =>
        (await searchLogs(t.store.db, search)).map((e) => e.message);
      expect(await messages({ q: 'refusing connections' })).toStrictEqual(['analysis failed: LLM connection refused']);
      expect(await messages({ q: 'slow -door' })).toStrictEqual([]);
      expect(await messages({ level: 'error' })).toStrictEqual([
        'database gone',
        'analysis failed: LLM connection refused',
      ]);
      expect(await messages({ component: 'detection' })).toStrictEqual(['detector slow on front door']);
      expect(await messages({ since: new Date(Date.now() + 60_000) })).toStrictEqual([]);
      expect(await messages({ limit: 1, q: '  ' })).toStrictEqual(['database gone']);
      await sink.close();
    });

    it('inserts as soon as a batch is full and on the timer, and ignores lines after close', async () => {
      const sink = createDbLogStream({ db: t.store.db, component: 'hsi', flushIntervalMs: 300, batchSize: 100 });
      const log = pino({ level: 'warn' }, sink.stream);
      for (let i = 0; i < 100; i++) log.warn(`line ${i}`);
      await expect.poll(count, { timeout: 250, interval: 20 }).toBe(100);
      log.warn('one more');
      expect(await count()).toBe(100);
      await expect.poll(count, { timeout: 2000 }).toBe(101);
      log.error('last words');
      await sink.close();
      log.error('after close');
      sink.stream.write('not json at all\n');
      await sink.flush();
      expect(await count()).toBe(102);
    });

    it('buffers lines logged before the database is attached', async () => {
      const sink = createDbLogStream({ component: 'hsi', flushIntervalMs: 60_000 });
      const log = pino({ level: 'warn' }, sink.stream);
      log.warn('config file has an unknown key');
      log.error('model missing');
      await sink.flush();
      expect(sink.stats()).toStrictEqual({ stored: 0, dropped: 0, failedFlushes: 0, buffered: 2 });
      sink.attach(t.store.db);
      await sink.close();
      expect((await searchLogs(t.store.db)).map((e) => e.message).sort()).toStrictEqual([
        'config file has an unknown key',
        'model missing',
      ]);
    });

    it('holds a bounded buffer while the database is down, dropping the oldest, and says so afterwards', async () => {
      const db = flaky(t.store.db);
      const sink = createDbLogStream({ db: db.db, component: 'hsi', flushIntervalMs: 60_000, maxBuffer: 5 });
      const log = pino({ level: 'warn' }, sink.stream);
      db.down = true;
      for (let i = 1; i <= 8; i++) log.warn(`attempt ${i}`);
      await sink.flush();
      expect(sink.stats()).toStrictEqual({ stored: 0, dropped: 3, failedFlushes: 1, buffered: 5 });
      log.warn('attempt 9');
      expect(sink.stats()).toMatchObject({ dropped: 4, buffered: 5 });
      db.down = false;
      await sink.flush();
      expect(sink.stats()).toStrictEqual({ stored: 5, dropped: 4, failedFlushes: 1, buffered: 0 });
      const stored = (await searchLogs(t.store.db)).reverse();
      expect(stored.map((e) => [e.component, e.message])).toStrictEqual([
        ['logs', '4 log line(s) dropped while the database was unavailable or slow'],
        ...[5, 6, 7, 8, 9].map((i) => ['hsi', `attempt ${i}`]),
      ]);
      expect(stored[0]?.extra).toStrictEqual({ dropped: 4 });
      await sink.flush();
      expect(await count()).toBe(6);
      await sink.close();
    });
  });
}
