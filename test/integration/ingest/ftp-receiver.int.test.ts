import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, FTPError } from 'basic-ftp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FtpConfig } from '../../../src/config/sections/ftp.js';
import { type FtpReceiver, startFtpReceiver } from '../../../src/ingest/ftp-receiver.js';
import { MediaWatcher } from '../../../src/ingest/watcher.js';
import { AppError } from '../../../src/lib/errors.js';
import { createLogger, silentLogger } from '../../../src/lib/logger.js';
import { fixtureImage, missingAsset } from '../../support/env.js';
import { freePortRange } from '../../support/ports.js';

const JPEG = fixtureImage('dog_bicycle_car.jpg');
const PNG = fixtureImage('person_dog_horse.jpg');
const skipAssets = missingAsset(JPEG, PNG);

const FRONT = { username: 'frontcam', password: 'front-s3cret', camera: 'Front Door' };
const GARAGE = { username: 'garage', password: 'garage-s3cret', camera: '' };
const MAX_FILE_BYTES = 1024 * 1024;
const TEST_TIMEOUT = 30_000;
const PASSIVE_PORTS = 10;

type LogLine = Record<string, unknown> & { level: number; msg: string };

/** Every file under `dir`, hidden ones included, as `/`-separated paths relative to `dir`. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort();
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await sleep(25);
}

/**
 * A hand-driven FTP control connection, for what basic-ftp will not send (control characters) or do (reset a data
 * connection mid-upload). Replies are `NNN text` lines; multi-line replies end with one too.
 */
class RawSession {
  private buffer = '';
  private readonly waiters: (() => void)[] = [];
  private readonly ended: Promise<never>;

  private constructor(private readonly socket: net.Socket) {
    socket.setTimeout(10_000, () => socket.destroy(new Error('raw FTP session timed out')));
    socket.on('data', (data) => {
      this.buffer += data.toString('utf8');
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.ended = new Promise<never>((_, reject) => {
      socket.once('error', reject);
      socket.once('close', () => reject(new Error('raw FTP session closed')));
    });
    this.ended.catch(() => undefined);
  }

  static async open(port: number): Promise<RawSession> {
    const session = new RawSession(net.connect(port, '127.0.0.1'));
    await session.reply();
    return session;
  }

  async reply(): Promise<string> {
    for (;;) {
      const match = /^(\d{3}) .*\r\n/m.exec(this.buffer);
      if (match !== null) {
        this.buffer = this.buffer.slice(match.index + match[0].length);
        return match[0].trim();
      }
      await Promise.race([new Promise<void>((resolve) => this.waiters.push(resolve)), this.ended]);
    }
  }

  send(line: string): void {
    this.socket.write(`${line}\r\n`);
  }

  async command(line: string): Promise<string> {
    this.send(line);
    return this.reply();
  }

  close(): void {
    this.socket.destroy();
  }
}

async function rawReplies(port: number, lines: string[]): Promise<string[]> {
  const session = await RawSession.open(port);
  try {
    const replies: string[] = [];
    for (const line of lines) replies.push(await session.command(line));
    return replies;
  } finally {
    session.close();
  }
}

async function ftpCode(promise: Promise<unknown>): Promise<number | string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return error instanceof FTPError ? error.code : `not an FTP error: ${String(error)}`;
  }
}

describe.skipIf(skipAssets !== undefined)('FTP receiver', () => {
  let tmp: string;
  let mediaRoot: string;
  let front: string;
  let receiver: FtpReceiver | undefined;
  let clients: Client[];
  let logs: LogLine[];
  let passiveBase: number;

  async function start(overrides: Partial<FtpConfig> = {}, maxFileBytes = MAX_FILE_BYTES): Promise<FtpReceiver> {
    const log = createLogger('trace', {
      write: (line: string) => logs.push(JSON.parse(line) as LogLine),
    } as unknown as NodeJS.WritableStream);
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
        users: [FRONT, GARAGE],
        ...overrides,
      },
      { mediaRoot, maxFileBytes, log },
    );
    return receiver;
  }

  async function connect(user = FRONT.username, password = FRONT.password): Promise<Client> {
    const client = new Client(10_000);
    clients.push(client);
    await client.access({ host: '127.0.0.1', port: receiver?.port ?? 0, user, password });
    return client;
  }

  beforeEach(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'hsi-ftp-'));
    mediaRoot = path.join(tmp, 'media');
    front = path.join(mediaRoot, 'Front Door');
    mkdirSync(mediaRoot);
    clients = [];
    logs = [];
    passiveBase = await freePortRange(PASSIVE_PORTS);
  });

  afterEach(async () => {
    for (const client of clients) client.close();
    await receiver?.close();
    receiver = undefined;
    rmSync(tmp, { recursive: true, force: true });
  });

  it(
    'stores a real photo, byte for byte, in the camera folder, logs it, and leaves no temporary file',
    async () => {
      await start();
      const client = await connect();
      await client.uploadFrom(JPEG, 'photo.jpg');
      expect(filesUnder(mediaRoot)).toStrictEqual(['Front Door/photo.jpg']);
      expect(readFileSync(path.join(front, 'photo.jpg')).equals(readFileSync(JPEG))).toBe(true);
      const received = logs.filter((l) => l.msg === 'FTP upload received');
      expect(received.map((l) => [l.level, l.component, l.camera_id, l.path, l.bytes])).toStrictEqual([
        [30, 'ftp', 'front_door', 'Front Door/photo.jpg', readFileSync(JPEG).length],
      ]);
    },
    TEST_TIMEOUT,
  );

  it(
    'creates dated sub-folders and uploads into them',
    async () => {
      await start();
      const client = await connect();
      await client.ensureDir('2024-05-01/10');
      expect(await client.pwd()).toBe('/2024-05-01/10');
      await client.uploadFrom(PNG, 'motion_001.jpg');
      expect(filesUnder(mediaRoot)).toStrictEqual(['Front Door/2024-05-01/10/motion_001.jpg']);
      expect(readFileSync(path.join(front, '2024-05-01', '10', 'motion_001.jpg')).equals(readFileSync(PNG))).toBe(true);
    },
    TEST_TIMEOUT,
  );

  it(
    'refuses a wrong password, an unknown user and anonymous, with one warning a minute that never holds the password',
    async () => {
      const server = await start();
      expect(await ftpCode(connect(FRONT.username, 'wrong-password'))).toBe(530);
      expect(await ftpCode(connect('nobody', FRONT.password))).toBe(530);
      expect(await ftpCode(connect('anonymous', 'guest'))).toBe(530);
      expect(server.failedLogins()).toBe(3);
      const refused = logs.filter((l) => l.msg === 'FTP login refused: bad username or password');
      expect(refused.map((l) => [l.level, l.username, l.remote_address])).toStrictEqual([
        [40, 'frontcam', '127.0.0.1'],
      ]);
      // The other two are summed up in one line at the end of the minute (here: on close).
      await server.close();
      const summary = logs.filter((l) => l.msg.startsWith('FTP logins refused'));
      expect(summary.map((l) => [l.level, l.remote_address, l.count])).toStrictEqual([[40, '127.0.0.1', 2]]);
      const everything = JSON.stringify(logs);
      expect(everything).not.toContain('wrong-password');
      expect(everything).not.toContain(FRONT.password);
      expect(filesUnder(mediaRoot)).toStrictEqual([]);
    },
    TEST_TIMEOUT,
  );

  it(
    'keeps every path inside the camera folder: .., absolute paths, backslashes, NUL bytes and symlinks',
    async () => {
      const outside = path.join(tmp, 'outside');
      mkdirSync(outside);
      writeFileSync(path.join(outside, 'secret.jpg'), 'secret');
      mkdirSync(front, { recursive: true });
      symlinkSync(outside, path.join(front, 'escape'));
      symlinkSync(path.join(outside, 'secret.jpg'), path.join(front, 'linked.jpg'));
      const absolute = path.join(tmp, 'absolute.jpg');
      await start();
      const client = await connect();

      await client.send('CWD ..');
      await client.cd('../../..');
      expect(await client.pwd()).toBe('/');
      await client.uploadFrom(Readable.from([Buffer.from('a')]), '../../up.jpg');
      await client.uploadFrom(Readable.from([Buffer.from('b')]), '..\\..\\back.jpg');
      expect(await ftpCode(client.uploadFrom(Readable.from([Buffer.from('c')]), absolute))).toBe(550);
      expect(await ftpCode(client.send('MKD .hidden'))).toBe(550);
      expect(await ftpCode(client.cd('escape'))).toBe(550);
      expect(await ftpCode(client.uploadFrom(Readable.from([Buffer.from('d')]), 'escape/in.jpg'))).toBe(550);
      expect(await ftpCode(client.list('escape'))).toBe(451);
      expect(await ftpCode(client.size('linked.jpg'))).toBe(550);
      expect(await ftpCode(client.rename('linked.jpg', 'mine.jpg'))).toBe(550);
      await client.rename('up.jpg', '../../../renamed.jpg');

      expect(existsSync(absolute)).toBe(false);
      expect(filesUnder(outside)).toStrictEqual(['secret.jpg']);
      expect(readFileSync(path.join(outside, 'secret.jpg'), 'utf8')).toBe('secret');
      // Everything the client wrote is in its own folder (the two links were put there by the test).
      expect(readdirSync(mediaRoot)).toStrictEqual(['Front Door']);
      expect(readdirSync(front).sort()).toStrictEqual(['back.jpg', 'escape', 'linked.jpg', 'renamed.jpg']);
      expect(readFileSync(path.join(front, 'renamed.jpg'), 'utf8')).toBe('a');
      const raw = await rawReplies(receiver?.port ?? 0, [
        `USER ${FRONT.username}`,
        `PASS ${FRONT.password}`,
        'MKD bad\u0000name',
        'MKD nl\nname',
        'CWD /../..',
        'PWD',
        'CWD /nowhere',
        'SIZE escape/secret.jpg',
      ]);
      expect(raw.map((r) => r.slice(0, 3))).toStrictEqual(['331', '230', '550', '550', '250', '257', '550', '550']);
      expect(raw[5]).toContain('"/"');
      // Error replies name client paths only, never the server's folders.
      expect(raw[6]).toBe('550 /nowhere: no such file or folder');
      expect(raw.join('\n')).not.toContain(tmp);
      expect(readdirSync(front).sort()).toStrictEqual(['back.jpg', 'escape', 'linked.jpg', 'renamed.jpg']);
    },
    TEST_TIMEOUT,
  );

  it(
    'aborts an upload over the size limit and leaves nothing behind',
    async () => {
      await start({}, 200_000);
      const client = await connect();
      const big = Buffer.alloc(3 * 1024 * 1024, 7);
      expect(await ftpCode(client.uploadFrom(Readable.from([big]), 'huge.jpg'))).not.toBe('resolved');
      await waitFor(() => filesUnder(mediaRoot).length === 0, 5000);
      expect(filesUnder(mediaRoot)).toStrictEqual([]);
      const failed = logs.filter((l) => l.msg === 'FTP upload failed; its partial file was removed');
      expect(failed.map((l) => [l.level, l.path])).toStrictEqual([[40, 'Front Door/huge.jpg']]);
      expect(String(failed[0]?.reason)).toContain('200000 bytes');
      // A picture under the limit still goes through on a new connection.
      const again = await connect();
      await again.uploadFrom(JPEG, 'ok.jpg');
      expect(filesUnder(mediaRoot)).toStrictEqual(['Front Door/ok.jpg']);
    },
    TEST_TIMEOUT,
  );

  it(
    'closes a control connection idle for ftp.idle_timeout_s, never one whose upload is still streaming',
    async () => {
      // 1 s (the schema's minimum is 10) keeps the test short; the mechanism is the same. The login and command
      // timeouts at 1 s too: neither cuts a logged-in camera's slow upload.
      await start({ idle_timeout_s: 1, login_timeout_s: 1, command_timeout_s: 1 });
      const idle = await RawSession.open(receiver?.port ?? 0);
      try {
        await idle.command(`USER ${FRONT.username}`);
        expect(await idle.command(`PASS ${FRONT.password}`)).toMatch(/^230/);
        const started = Date.now();
        expect(await idle.reply()).toMatch(/^421/);
        expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      } finally {
        idle.close();
      }

      const client = await connect();
      const bytes = readFileSync(JPEG);
      async function* slowly() {
        for (let offset = 0; offset < bytes.length; offset += Math.ceil(bytes.length / 5)) {
          yield bytes.subarray(offset, offset + Math.ceil(bytes.length / 5));
          await sleep(500); // 2.5 s in all: the control connection stays silent for longer than the timeout
        }
      }
      await client.uploadFrom(Readable.from(slowly()), 'slow.jpg');
      expect(readFileSync(path.join(front, 'slow.jpg')).equals(bytes)).toBe(true);
    },
    TEST_TIMEOUT,
  );

  it(
    'refuses connections beyond ftp.max_connections, logs it, and accepts again once one closes',
    async () => {
      await start({ max_connections: 2 });
      const first = await connect();
      await connect(GARAGE.username, GARAGE.password);
      const extra = net.connect(receiver?.port ?? 0, '127.0.0.1');
      const received: Buffer[] = [];
      extra.on('data', (chunk: Buffer) => received.push(chunk));
      await new Promise<void>((resolve) => {
        extra.once('close', () => resolve());
        extra.once('error', () => undefined);
      });
      expect(Buffer.concat(received).toString()).toBe(''); // closed before any greeting
      const refused = logs.filter((l) => l.msg.startsWith('FTP connection refused'));
      expect(refused.map((l) => [l.level, l.max_connections])).toStrictEqual([[40, 2]]);

      first.close();
      let again: Client | undefined; // Node counts the closed connection out a moment after the client ends it
      for (let attempt = 0; attempt < 20 && again === undefined; attempt++) {
        again = await connect().catch(async () => {
          await sleep(100);
          return undefined;
        });
      }
      expect(again).toBeDefined();
      await again!.uploadFrom(JPEG, 'after.jpg');
      expect(filesUnder(front)).toStrictEqual(['after.jpg']);
    },
    TEST_TIMEOUT,
  );

  it(
    'removes temporary files of uploads abandoned by a killed process at start, and nothing else',
    async () => {
      mkdirSync(path.join(front, '2024-05-01'), { recursive: true });
      const abandoned = path.join(front, '2024-05-01', '.hsi-upload-0123456789abcdef');
      const recent = path.join(front, '.hsi-upload-fedcba9876543210');
      const picture = path.join(front, 'old.jpg');
      for (const file of [abandoned, recent, picture]) writeFileSync(file, 'x');
      const hourAgo = new Date(Date.now() - 3_600_000);
      for (const file of [abandoned, picture]) utimesSync(file, hourAgo, hourAgo);
      await start();
      await waitFor(() => !existsSync(abandoned), 5000);
      expect(filesUnder(mediaRoot)).toStrictEqual(['Front Door/.hsi-upload-fedcba9876543210', 'Front Door/old.jpg']);
      expect(logs.some((l) => l.msg.startsWith('removed temporary files of uploads') && l.files === 1)).toBe(true);
    },
    TEST_TIMEOUT,
  );

  it(
    'removes the partial file of an upload whose data connection is reset mid-file',
    async () => {
      await start();
      const session = await RawSession.open(receiver?.port ?? 0);
      try {
        await session.command(`USER ${FRONT.username}`);
        expect(await session.command(`PASS ${FRONT.password}`)).toMatch(/^230/);
        const pasv = /\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/.exec(await session.command('PASV'));
        const data = net.connect(Number(pasv?.[5]) * 256 + Number(pasv?.[6]), '127.0.0.1');
        await new Promise<void>((resolve, reject) => data.once('connect', resolve).once('error', reject));
        data.on('error', () => undefined);
        expect(await session.command('STOR reset.jpg')).toMatch(/^150/);
        data.write(readFileSync(JPEG).subarray(0, 100_000));
        await waitFor(() => filesUnder(front).length === 1, 5000);
        expect(filesUnder(front)[0]).toMatch(/^\.hsi-upload-/);
        data.resetAndDestroy();
        expect(await session.reply()).toMatch(/^(550|426)/);
        await waitFor(() => filesUnder(front).length === 0, 5000);
        expect(filesUnder(mediaRoot)).toStrictEqual([]);
      } finally {
        session.close();
      }
    },
    TEST_TIMEOUT,
  );

  it(
    'refuses DELE, RMD, SITE CHMOD, downloads and appends, and never overwrites a picture',
    async () => {
      await start();
      const client = await connect();
      await client.ensureDir('/day');
      await client.uploadFrom(JPEG, '/evidence.jpg');
      expect(await ftpCode(client.remove('/evidence.jpg'))).toBe(502);
      expect(await ftpCode(client.send('RMD /day'))).toBe(502);
      expect(await ftpCode(client.send('SITE CHMOD 777 /evidence.jpg'))).toBe(502);
      expect(await ftpCode(client.downloadTo(path.join(tmp, 'copy.jpg'), '/evidence.jpg'))).toBe(502);
      expect(await ftpCode(client.appendFrom(Readable.from([Buffer.from('x')]), '/evidence.jpg'))).toBe(502);
      // Uploading or renaming onto an existing picture keeps both.
      await client.uploadFrom(Readable.from([Buffer.from('replacement')]), '/evidence.jpg');
      await client.uploadFrom(Readable.from([Buffer.from('renamed over')]), '/other.tmp');
      await client.rename('/other.tmp', '/evidence.jpg');
      expect(readFileSync(path.join(front, 'evidence.jpg')).equals(readFileSync(JPEG))).toBe(true);
      const names = filesUnder(front);
      expect(names).toHaveLength(3);
      expect(names.filter((n) => /^evidence-[0-9a-f]{8}\.jpg$/.test(n))).toHaveLength(2);
      expect(existsSync(path.join(front, 'day'))).toBe(true);
    },
    TEST_TIMEOUT,
  );

  it(
    'puts two users in two camera folders, each seeing only its own',
    async () => {
      await start();
      const frontClient = await connect();
      const garageClient = await connect(GARAGE.username, GARAGE.password);
      await frontClient.uploadFrom(JPEG, 'a.jpg');
      await garageClient.uploadFrom(PNG, 'b.jpg');
      expect(filesUnder(mediaRoot)).toStrictEqual(['Front Door/a.jpg', 'garage/b.jpg']);
      expect((await frontClient.list()).map((f) => f.name)).toStrictEqual(['a.jpg']);
      expect((await garageClient.list()).map((f) => f.name)).toStrictEqual(['b.jpg']);
      expect(await ftpCode(garageClient.cd('/../Front Door'))).toBe(550);
    },
    TEST_TIMEOUT,
  );

  it(
    'accepts a temporary upload renamed to its final name',
    async () => {
      await start();
      const client = await connect();
      await client.uploadFrom(JPEG, 'snap.jpg.tmp');
      await client.rename('snap.jpg.tmp', 'snap.jpg');
      expect(filesUnder(mediaRoot)).toStrictEqual(['Front Door/snap.jpg']);
      expect(readFileSync(path.join(front, 'snap.jpg')).equals(readFileSync(JPEG))).toBe(true);
      expect(logs.some((l) => l.msg === 'FTP upload renamed' && l.path === 'Front Door/snap.jpg')).toBe(true);
    },
    TEST_TIMEOUT,
  );

  it(
    'is picked up by the media watcher once, complete, under its final name (never the temporary one)',
    async () => {
      await start();
      const watcher = new MediaWatcher({ root: mediaRoot, stableMs: 300, log: silentLogger() });
      const fired: [string, number][] = [];
      watcher.onReady((p) => {
        fired.push([p, existsSync(p) ? readFileSync(p).length : -1]);
      });
      await watcher.start();
      try {
        const client = await connect();
        // A slow upload: the watcher has time to notice the temporary file if it looked at it.
        const chunks = readFileSync(JPEG);
        async function* slowly() {
          for (let offset = 0; offset < chunks.length; offset += 40_000) {
            yield chunks.subarray(offset, offset + 40_000);
            await sleep(150);
          }
        }
        await client.ensureDir('2024-05-01');
        await client.uploadFrom(Readable.from(slowly()), 'slow.jpg');
        await waitFor(() => fired.length > 0, 5000);
        await sleep(800);
      } finally {
        await watcher.stop();
      }
      expect(fired).toStrictEqual([[path.join(front, '2024-05-01', 'slow.jpg'), readFileSync(JPEG).length]]);
    },
    TEST_TIMEOUT,
  );

  it(
    'cuts off an upload in progress on close(), removes its partial file, and disconnects clients',
    async () => {
      const server = await start();
      const client = await connect();
      async function* endless() {
        for (let i = 0; i < 400; i += 1) {
          yield Buffer.alloc(1024, 1);
          await sleep(25);
        }
      }
      const upload = ftpCode(client.uploadFrom(Readable.from(endless()), 'cut.jpg'));
      await waitFor(() => filesUnder(front).length > 0, 5000);
      expect(filesUnder(front)[0]).toMatch(/^\.hsi-upload-[0-9a-f]{16}$/);
      await server.close();
      expect(await upload).not.toBe('resolved');
      expect(filesUnder(mediaRoot)).toStrictEqual([]);
      expect(await ftpCode(client.pwd())).not.toBe('resolved');
    },
    TEST_TIMEOUT,
  );

  it(
    'announces the passive address: the one connected to, or ftp.passive_url, with a port in the range',
    async () => {
      await start();
      const client = await connect();
      const own = (await client.send('PASV')).message;
      await receiver?.close();
      receiver = undefined;
      await start({ passive_url: 'localhost' });
      const named = (await (await connect()).send('PASV')).message;
      for (const [reply, host] of [
        [own, '127,0,0,1'],
        [named, '127,0,0,1'],
      ] as const) {
        const match = /\((\d+,\d+,\d+,\d+),(\d+),(\d+)\)/.exec(reply);
        expect(match?.[1]).toBe(host);
        const port = Number(match?.[2]) * 256 + Number(match?.[3]);
        expect(port).toBeGreaterThanOrEqual(passiveBase);
        expect(port).toBeLessThan(passiveBase + PASSIVE_PORTS);
      }
    },
    TEST_TIMEOUT,
  );

  it(
    'leaves process signal handling alone',
    async () => {
      const before = ['SIGTERM', 'SIGINT', 'SIGQUIT'].map((s) => process.listenerCount(s));
      await start();
      expect(['SIGTERM', 'SIGINT', 'SIGQUIT'].map((s) => process.listenerCount(s))).toStrictEqual(before);
    },
    TEST_TIMEOUT,
  );

  it(
    'refuses to start without users, or on a port in use, naming the setting',
    async () => {
      const noUsers = await start({ users: [] }).catch((error: unknown) => error);
      expect(noUsers).toBeInstanceOf(AppError);
      expect((noUsers as AppError).code).toBe('CONFIG_INVALID');
      expect((noUsers as AppError).message).toContain('ftp.users');

      const blocker = net.createServer();
      await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
      try {
        const taken = (blocker.address() as net.AddressInfo).port;
        const inUse = await start({ port: taken }).catch((error: unknown) => error);
        expect(inUse).toBeInstanceOf(AppError);
        expect((inUse as AppError).message).toContain(`ftp.port ${taken}`);
        expect(logs.filter((l) => l.level >= 50)).toStrictEqual([]);
      } finally {
        await new Promise((resolve) => blocker.close(resolve));
      }
    },
    TEST_TIMEOUT,
  );
});
