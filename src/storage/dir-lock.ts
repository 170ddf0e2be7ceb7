import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AppError } from '../lib/errors.js';

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
 * A pid file that keeps two processes off one embedded database. A lock left by a dead process (kill -9, power
 * loss) is taken over; one held by a live process is a clear error.
 */
export function acquireDirLock(dir: string, name: string): DirLock {
  const file = path.join(dir, name);
  try {
    writeFileSync(file, String(process.pid), { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const holder = Number.parseInt(readFileSync(file, 'utf8'), 10);
    if (Number.isInteger(holder) && holder !== process.pid && processAlive(holder)) {
      throw new AppError(
        'DB_LOCKED',
        `the embedded database in ${dir} is in use by another HSI process (pid ${holder}); stop it first, ` +
          'or configure database.url to share a PostgreSQL server between processes',
      );
    }
    writeFileSync(file, String(process.pid));
  }
  return {
    release() {
      try {
        if (readFileSync(file, 'utf8') === String(process.pid)) rmSync(file);
      } catch {
        // already gone
      }
    },
  };
}
