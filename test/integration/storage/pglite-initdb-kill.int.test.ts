import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/lib/logger.js';
import { createPgliteDirIfMissing } from '../../../src/storage/pglite-initdb.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Pids whose parent is `ppid`, from /proc (Linux). */
function childrenOf(ppid: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === ppid) pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Running: not gone and not a zombie waiting to be reaped. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** kill -9 during the very first start: the initdb child dies with its parent and the next start succeeds. */
describe.skipIf(!existsSync('/proc/self/stat'))('PGlite creation killed mid-way', () => {
  let root: string | undefined;
  afterEach(() => {
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
  });

  it('leaves no orphan initdb process, and the next start creates the database', { timeout: 60_000 }, async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'hsi-initdb-kill-'));
    const dir = path.join(root, 'pglite');
    const module = path.resolve('src/storage/pglite-initdb.ts');
    const logger = path.resolve('src/lib/logger.ts');
    const script = [
      `const { createPgliteDirIfMissing } = await import(${JSON.stringify(module)});`,
      `const { silentLogger } = await import(${JSON.stringify(logger)});`,
      `await createPgliteDirIfMissing(${JSON.stringify(dir)}, silentLogger());`,
    ].join('\n');
    const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: 'ignore',
    });
    const parentPid = parent.pid!;
    const exited = new Promise((resolve) => parent.once('exit', resolve));
    try {
      // Mid-creation: the initdb child runs and has begun writing its build folder.
      const initdb = await waitFor('the initdb child', 30_000, () => childrenOf(parentPid)[0]);
      await waitFor('the build folder', 30_000, () =>
        readdirSync(root!).some((n) => n.startsWith('pglite.init-')) ? true : undefined,
      );
      parent.kill('SIGKILL');
      await exited;
      // The child would run on for seconds as an orphan to finish initdb; it notices its parent is gone at once.
      await waitFor('the orphaned initdb child to end', 1_500, () => (running(initdb) ? undefined : true));
    } finally {
      parent.kill('SIGKILL');
    }
    expect(existsSync(path.join(dir, 'PG_VERSION'))).toBe(false);

    await createPgliteDirIfMissing(dir, silentLogger());
    expect(existsSync(path.join(dir, 'PG_VERSION'))).toBe(true);
    expect(readdirSync(root).sort()).toStrictEqual(['pglite']);
  });
});
