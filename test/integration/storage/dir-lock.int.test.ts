import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/lib/logger.js';
import { acquireDirLock, lockHolder, processStartToken } from '../../../src/storage/dir-lock.js';

/** A logger whose JSON lines are kept for the test to read. */
function capturingLogger() {
  const lines: { level: number; msg: string; pid?: number }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(text));
      done();
    },
  });
  return { log: createLogger('info', sink), lines };
}

const started = (child: ChildProcess) => new Promise<void>((resolve) => child.once('spawn', () => resolve()));

/** The embedded database's pid lock: a live pid counts as the holder only while it is still the HSI that wrote it. */
describe.skipIf(!existsSync('/proc/self/stat'))('data_dir pid lock', () => {
  let dir: string;
  const children: ChildProcess[] = [];
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hsi-lock-'));
  });
  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  const spawnKept = async (command: string, args: string[]) => {
    const child = spawn(command, args, { stdio: 'ignore' });
    children.push(child);
    await started(child);
    return child.pid!;
  };
  const lockFile = () => path.join(dir, 'hsi.pid');

  it('takes over a pid file (pid alone, as older HSI wrote it) whose pid is now an unrelated live process', async () => {
    const sleeper = await spawnKept('sleep', ['30']);
    writeFileSync(lockFile(), String(sleeper));
    expect(lockHolder(dir, 'hsi.pid')).toBeUndefined(); // what `hsi doctor` asks
    const { log, lines } = capturingLogger();
    const lock = acquireDirLock(dir, 'hsi.pid', log);
    expect(readFileSync(lockFile(), 'utf8')).toBe(`${process.pid}\n${processStartToken(process.pid)}\n`);
    expect(lines.filter((l) => l.level === 40)).toStrictEqual([
      expect.objectContaining({
        pid: sleeper,
        msg: `hsi.pid names pid ${sleeper}, but it does not run HSI: a stale lock, taken over`,
      }),
    ]);
    lock.release();
    expect(existsSync(lockFile())).toBe(false);
  });

  it('takes over a pid file whose pid was reused by a process started after the lock was written', async () => {
    const node = await spawnKept(process.execPath, ['-e', 'setTimeout(() => {}, 30_000)', 'dist/cli.js']);
    const token = processStartToken(node)!;
    writeFileSync(lockFile(), `${node}\n${Number(token) - 1}\n`);
    const { log, lines } = capturingLogger();
    acquireDirLock(dir, 'hsi.pid', log).release();
    expect(lines.map((l) => l.msg)).toStrictEqual([
      `hsi.pid names pid ${node}, but it started after the lock was written: a stale lock, taken over`,
    ]);
  });

  it('refuses while the HSI that wrote the pid file runs', async () => {
    const node = await spawnKept(process.execPath, ['-e', 'setTimeout(() => {}, 30_000)', 'dist/cli.js']);
    writeFileSync(lockFile(), `${node}\n${processStartToken(node)}\n`);
    expect(lockHolder(dir, 'hsi.pid')).toBe(node);
    expect(() => acquireDirLock(dir, 'hsi.pid')).toThrow(expect.objectContaining({ code: 'DB_LOCKED' }));
    // A pid alone (older HSI) names a live node running HSI: held too.
    writeFileSync(lockFile(), String(node));
    expect(() => acquireDirLock(dir, 'hsi.pid')).toThrow(expect.objectContaining({ code: 'DB_LOCKED' }));
    expect(readFileSync(lockFile(), 'utf8')).toBe(String(node));
  });

  it('takes over the pid file of a dead process silently', async () => {
    const gone = spawn('true');
    await new Promise((resolve) => gone.once('exit', resolve));
    writeFileSync(lockFile(), String(gone.pid));
    const { log, lines } = capturingLogger();
    const lock = acquireDirLock(dir, 'hsi.pid', log);
    expect(lines).toStrictEqual([]);
    lock.release();
  });
});
