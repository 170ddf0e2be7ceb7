import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AppError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';

export interface DirLock {
  release(): void;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The process's start time (clock ticks since boot, field 22 of /proc/<pid>/stat): with the pid, it names one
 * process for the life of the machine, where a pid alone is reused. Undefined where /proc is missing (not Linux).
 */
export function processStartToken(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
    const token = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    return token !== undefined && /^\d+$/.test(token) ? token : undefined;
  } catch {
    return undefined;
  }
}

/** Whether /proc/<pid>/cmdline is node running HSI (`dist/cli.js`, `src/cli.ts`, `bin/hsi.mjs`); undefined without /proc. */
function runsHsi(pid: number): boolean | undefined {
  let args: string[];
  try {
    args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return undefined;
  }
  const [program, ...rest] = args.map((a) => path.basename(a));
  return program?.startsWith('node') === true && rest.some((a) => /^(cli|hsi)\.[cm]?[jt]s$/.test(a) || a === 'hsi');
}

interface Holder {
  pid: number;
  token: string | undefined;
}

/** `<pid>` (older HSI, other systems) or `<pid>\n<start token>`. */
function parseLockFile(text: string): Holder {
  const [pid, token] = text.trim().split('\n');
  return { pid: Number.parseInt(pid ?? '', 10), token: token?.trim() || undefined };
}

/**
 * Why the live process `holder` names is not the HSI that wrote the file (its pid was reused), or undefined where it
 * is, or where this system cannot tell (no /proc: a live pid counts as HSI, the safe side).
 */
function notTheWriter(holder: Holder): string | undefined {
  const token = processStartToken(holder.pid);
  if (holder.token !== undefined && token !== undefined) {
    return token === holder.token ? undefined : 'it started after the lock was written';
  }
  return runsHsi(holder.pid) === false ? 'it does not run HSI' : undefined;
}

/** The live HSI that holds the lock file `name` in `dir` (pid), else undefined: none, dead, or its pid reused. */
export function lockHolder(dir: string, name: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path.join(dir, name), 'utf8');
  } catch {
    return undefined;
  }
  const holder = parseLockFile(text);
  if (!Number.isInteger(holder.pid) || holder.pid <= 0 || !processAlive(holder.pid)) return undefined;
  return notTheWriter(holder) === undefined ? holder.pid : undefined;
}

/**
 * A pid file that keeps two processes off one embedded database. A lock left by a dead process (kill -9, power
 * loss) is taken over, and so is one whose pid now belongs to another program (after a reboot or in a container,
 * pids come round again): the file holds the writer's start time along with its pid, and a live pid counts as the
 * holder only while its start time matches (on Linux; elsewhere any live pid does). One held by HSI is a clear error.
 */
export function acquireDirLock(dir: string, name: string, log?: Logger): DirLock {
  const file = path.join(dir, name);
  const token = processStartToken(process.pid);
  const content = token === undefined ? String(process.pid) : `${process.pid}\n${token}\n`;
  try {
    writeFileSync(file, content, { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const holder = parseLockFile(readFileSync(file, 'utf8'));
    if (Number.isInteger(holder.pid) && holder.pid !== process.pid && processAlive(holder.pid)) {
      const reason = notTheWriter(holder);
      if (reason === undefined) {
        throw new AppError(
          'DB_LOCKED',
          `the embedded database in ${dir} is in use by another HSI process (pid ${holder.pid}); stop it first, ` +
            'or configure database.url to share a PostgreSQL server between processes',
        );
      }
      log?.warn({ file, pid: holder.pid }, `${name} names pid ${holder.pid}, but ${reason}: a stale lock, taken over`);
    }
    writeFileSync(file, content);
  }
  return {
    release() {
      try {
        if (parseLockFile(readFileSync(file, 'utf8')).pid === process.pid) rmSync(file);
      } catch {
        // already gone
      }
    },
  };
}
