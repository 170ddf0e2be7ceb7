import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Client } from 'basic-ftp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FtpConfig } from '../../../src/config/sections/ftp.js';
import { type FtpReceiver, startFtpReceiver } from '../../../src/ingest/ftp-receiver.js';
import { createLogger, createServiceLogger, type Logger } from '../../../src/lib/logger.js';
import { createDbLogStream, type DbLogStream } from '../../../src/ops/db-log-stream.js';
import { RawFtpClient } from '../../support/ftp-raw.js';
import { freePortRange } from '../../support/ports.js';
import { createTestStore, engineUnavailable, type TestStore } from '../../support/stores.js';

/**
 * Clients that only hold resources (never log in, trickle bytes, flood without reading, open every slot) and
 * password guessers: each is cut off by a bound, and a real camera still gets in and uploads. All traffic goes to
 * 127.0.0.1 (one test uses 127.0.0.2 as a second source address).
 */

const CAMERA = { username: 'frontcam', password: 'front-s3cret', camera: 'Front Door' };
const PASSIVE_PORTS = 6;
const TEST_TIMEOUT = 20_000;

type LogLine = Record<string, unknown> & { level: number; msg: string };

describe('FTP receiver bounds', () => {
  let tmp: string;
  let receiver: FtpReceiver | undefined;
  let raws: RawFtpClient[];
  let clients: Client[];
  let logs: LogLine[];

  async function start(overrides: Partial<FtpConfig>, log?: Logger): Promise<FtpReceiver> {
    const passiveBase = await freePortRange(PASSIVE_PORTS);
    receiver = await startFtpReceiver(
      {
        enabled: true,
        host: '127.0.0.1',
        port: 0,
        passive_url: '',
        passive_min_port: passiveBase,
        passive_max_port: passiveBase + PASSIVE_PORTS - 1,
        idle_timeout_s: 300,
        max_connections: 32,
        max_connections_per_address: 8,
        login_timeout_s: 10,
        command_timeout_s: 10,
        users: [CAMERA],
        ...overrides,
      },
      {
        mediaRoot: path.join(tmp, 'media'),
        maxFileBytes: 1024 * 1024,
        log:
          log ??
          createLogger('trace', {
            write: (line: string) => logs.push(JSON.parse(line) as LogLine),
          } as unknown as NodeJS.WritableStream),
      },
    );
    return receiver;
  }

  function raw(options: { localAddress?: string; read?: boolean } = {}): RawFtpClient {
    const client = new RawFtpClient(receiver?.port ?? 0, options);
    raws.push(client);
    return client;
  }

  /** A real camera: logs in with basic-ftp and uploads a picture; resolves to the files in its folder. */
  async function cameraUploads(name: string): Promise<string[]> {
    const client = new Client(5000);
    clients.push(client);
    await client.access({
      host: '127.0.0.1',
      port: receiver?.port ?? 0,
      user: CAMERA.username,
      password: CAMERA.password,
    });
    await client.uploadFrom(Readable.from([Buffer.from('\xff\xd8 picture')]), name);
    client.close();
    return readdirSync(path.join(tmp, 'media', CAMERA.camera)).sort();
  }

  beforeEach(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'hsi-ftp-bounds-'));
    raws = [];
    clients = [];
    logs = [];
  });

  afterEach(async () => {
    for (const client of raws) client.close();
    for (const client of clients) client.close();
    await receiver?.close();
    receiver = undefined;
    rmSync(tmp, { recursive: true, force: true });
  });

  it(
    'closes 40 clients that never log in after ftp.login_timeout_s, then lets a camera in',
    async () => {
      await start({ login_timeout_s: 1, max_connections_per_address: 100 });
      const idle = Array.from({ length: 40 }, () => raw());
      const started = Date.now();
      // 32 get a greeting (8 are over ftp.max_connections and closed at once); none logs in.
      expect(await RawFtpClient.until(() => idle.filter((c) => c.replies().length > 0).length === 32, 5000)).toBe(true);
      expect(await RawFtpClient.until(() => idle.every((c) => c.closed), 5000)).toBe(true);
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      const timedOut = idle.filter((c) => c.replies().includes('421 Login timed out'));
      expect(timedOut).toHaveLength(32);
      expect(await cameraUploads('after.jpg')).toStrictEqual(['after.jpg']);
      const warned = logs.filter((l) => l.msg === 'FTP connection closed: no login within ftp.login_timeout_s');
      expect(warned.map((l) => [l.level, l.remote_address])).toStrictEqual([[40, '127.0.0.1']]);
    },
    TEST_TIMEOUT,
  );

  it(
    'closes slowloris connections whose command line is not finished within ftp.command_timeout_s',
    async () => {
      // Every slot taken by a client sending one byte every 300 ms of a line it never ends.
      await start({ command_timeout_s: 1, login_timeout_s: 60, max_connections: 10, max_connections_per_address: 10 });
      const slow = Array.from({ length: 10 }, () => raw());
      expect(await RawFtpClient.until(() => slow.every((c) => c.replies().length === 1), 5000)).toBe(true);
      const line = `USER ${CAMERA.username}`;
      const started = Date.now();
      for (let i = 0; i < line.length && !slow.every((c) => c.closed); i += 1) {
        for (const client of slow) if (!client.closed) client.socket.write(line[i] ?? '');
        await RawFtpClient.until(() => false, 300);
      }
      expect(await RawFtpClient.until(() => slow.every((c) => c.closed), 5000)).toBe(true);
      expect(Date.now() - started).toBeLessThan(4000);
      for (const client of slow) {
        expect(client.replies()).toStrictEqual([expect.stringMatching(/^220 /), '421 Command not completed in time']);
      }
      expect(await cameraUploads('in.jpg')).toStrictEqual(['in.jpg']);
    },
    TEST_TIMEOUT,
  );

  it(
    'closes a client whose command line grows past the bound without a line end',
    async () => {
      await start({});
      const client = raw();
      await client.greeted();
      client.socket.write(Buffer.alloc(1024 * 1024, 'A'));
      expect(await RawFtpClient.until(() => client.closed, 5000)).toBe(true);
      expect(client.replies()).toStrictEqual([expect.stringMatching(/^220 /), '500 Command line too long']);
      expect(await cameraUploads('ok.jpg')).toStrictEqual(['ok.jpg']);
    },
    TEST_TIMEOUT,
  );

  it(
    'disconnects a client that floods commands without reading the replies, long before it has sent 32 MB',
    async () => {
      await start({ login_timeout_s: 60 });
      const client = raw({ read: false });
      // Each 4 KB unknown command is answered with a 4 KB reply (it is echoed): replies pile up in HSI unless bounded.
      const command = Buffer.from(`${'X'.repeat(4000)}\r\n`.repeat(16));
      const cap = 64 * 1024 * 1024;
      const rssBefore = process.memoryUsage().rss;
      let sent = 0;
      const deadline = Date.now() + 10_000;
      while (!client.closed && sent < cap && Date.now() < deadline) {
        sent += command.length;
        if (!client.socket.write(command)) {
          await Promise.race([
            new Promise((resolve) => client.socket.once('drain', resolve)),
            RawFtpClient.until(() => client.closed, 2000),
          ]);
        }
      }
      expect(await RawFtpClient.until(() => client.closed, 5000)).toBe(true);
      // Cut off once the socket buffers (kernel, a few MB on loopback) and HSI's bound (64 KiB) are full: ~4 MB here.
      expect(sent).toBeLessThan(cap / 2);
      // What HSI (and this test) hold did not grow with the flood: well under the 64 MB the client tried to send.
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(48 * 1024 * 1024);
      expect(logs.some((l) => l.msg.includes('without reading the replies'))).toBe(true);
      expect(await cameraUploads('ok.jpg')).toStrictEqual(['ok.jpg']);
    },
    TEST_TIMEOUT,
  );

  it(
    'refuses the connection over ftp.max_connections_per_address with 421, other addresses still get in',
    async () => {
      await start({ max_connections_per_address: 3 });
      const held = [raw(), raw(), raw()];
      for (const client of held) expect(await client.greeted()).toMatch(/^220 /);
      const extra = raw();
      expect(await RawFtpClient.until(() => extra.closed, 5000)).toBe(true);
      expect(extra.replies()).toStrictEqual(['421 Too many connections from your address']);
      // Another source address has slots of its own.
      const other = raw({ localAddress: '127.0.0.2' });
      expect(await other.greeted()).toMatch(/^220 /);
      other.close();
      // Once one closes, the address gets in again.
      held[0]?.close();
      let files: string[] | undefined;
      for (let attempt = 0; attempt < 20 && files === undefined; attempt += 1) {
        files = await cameraUploads('later.jpg').catch(() =>
          RawFtpClient.until(() => false, 100).then(() => undefined),
        );
      }
      expect(files).toStrictEqual(['later.jpg']);
      const warned = logs.filter((l) => l.msg === 'FTP connection refused: ftp.max_connections_per_address reached');
      expect(warned.map((l) => [l.level, l.remote_address])).toStrictEqual([[40, '127.0.0.1']]);
    },
    TEST_TIMEOUT,
  );
});

const skipDb = await engineUnavailable('postgres');

describe.skipIf(skipDb !== undefined)('FTP login throttling', () => {
  let store: TestStore;
  let tmp: string;
  let receiver: FtpReceiver | undefined;
  let sink: DbLogStream;
  const sessions: RawFtpClient[] = [];

  beforeAll(async () => {
    store = await createTestStore('postgres');
    tmp = mkdtempSync(path.join(os.tmpdir(), 'hsi-ftp-throttle-'));
  });

  afterAll(async () => {
    for (const session of sessions) session.close();
    await receiver?.close();
    await sink?.close();
    await store?.dispose();
    rmSync(tmp, { recursive: true, force: true });
  });

  async function loginReply(password: string, localAddress?: string): Promise<string> {
    const session = new RawFtpClient(receiver?.port ?? 0, { localAddress });
    sessions.push(session);
    await session.greeted();
    await session.command(`USER ${CAMERA.username}`);
    const reply = await session.command(`PASS ${password}`);
    session.close();
    return reply;
  }

  it(
    'evaluates 5 of 50 fast wrong logins, refuses the rest at once, keeps the logs table to a few rows',
    async () => {
      sink = createDbLogStream({ db: store.store.db, component: 'hsi', flushIntervalMs: 60_000 });
      const passiveBase = await freePortRange(PASSIVE_PORTS);
      receiver = await startFtpReceiver(
        {
          enabled: true,
          host: '127.0.0.1',
          port: 0,
          passive_url: '',
          passive_min_port: passiveBase,
          passive_max_port: passiveBase + PASSIVE_PORTS - 1,
          idle_timeout_s: 300,
          max_connections: 32,
          max_connections_per_address: 8,
          login_timeout_s: 10,
          command_timeout_s: 10,
          users: [CAMERA],
        },
        { mediaRoot: path.join(tmp, 'media'), maxFileBytes: 1024, log: createServiceLogger('fatal', sink.stream) },
      );
      const started = Date.now();
      const replies: string[] = [];
      for (let i = 0; i < 50; i += 1) replies.push(await loginReply(`guess-${i}`));
      const elapsedMs = Date.now() - started;
      expect(replies.every((r) => r.startsWith('530 '))).toBe(true);
      // Only the first 5 were checked against the users; the other 45 were refused without being evaluated.
      expect(replies.filter((r) => r === '530 Login incorrect')).toHaveLength(5);
      expect(replies.slice(0, 5).every((r) => r === '530 Login incorrect')).toBe(true);
      expect(replies.slice(5).every((r) => /^530 Too many failed logins; try again in \d+ s$/.test(r))).toBe(true);
      expect(elapsedMs).toBeLessThan(10_000);
      // The right password from the locked-out address is refused too; another address logs in.
      expect(await loginReply(CAMERA.password)).toMatch(/^530 Too many failed logins/);
      expect(await loginReply(CAMERA.password, '127.0.0.2')).toMatch(/^230 /);
      expect(receiver.failedLogins()).toBe(51);

      await receiver.close();
      receiver = undefined;
      await sink.flush();
      const rows = await store.store.db
        .selectFrom('logs')
        .select(['level', 'message', 'extra'])
        .orderBy('id')
        .execute();
      expect(rows.map((r) => [r.level, r.message])).toStrictEqual([
        ['warn', 'FTP login refused: bad username or password'],
        ['warn', 'FTP logins from an address locked out after repeated failures'],
        [
          'warn',
          'FTP logins refused (bad username or password, or locked out): 50 more from 127.0.0.1 within a minute',
        ],
      ]);
      expect(JSON.stringify(rows)).not.toContain('guess-');
    },
    TEST_TIMEOUT,
  );
});
