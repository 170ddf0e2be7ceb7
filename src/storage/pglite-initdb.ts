import { execFile } from 'node:child_process';
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { AppError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';

const INITDB_TIMEOUT_MS = 180_000;

/**
 * Creates a PGlite data directory in a short-lived child process, when it does not exist yet. PGlite runs initdb in
 * its own WebAssembly instance, whose memory is never given back to the process that ran it: done in-process, the
 * first start of a fresh install kept about 500 MB more resident than every later start (874 against 355 MB for
 * PGlite alone, measured on the 2-core machine). The child exits and takes that memory with it; the service then
 * opens the finished directory like on any restart.
 *
 * The child builds `<dir>.init-<pid>` and the directory is renamed into place only when complete: a process killed
 * during the first start leaves at most a stale `.init-*` folder (removed on the next start), never a half-made
 * database that a restart would open, and an orphaned child cannot write into the directory a restart creates.
 */
export async function createPgliteDirIfMissing(dir: string, log: Logger): Promise<void> {
  removeStaleBuilds(dir);
  if (existsSync(path.join(dir, 'PG_VERSION'))) return;
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new AppError(
      'CONFIG_INVALID',
      `${dir} holds files but no database (no PG_VERSION): move it away, or point data_dir elsewhere`,
    );
  }
  const started = performance.now();
  const build = `${dir}.init-${process.pid}`;
  log.info({ dir }, 'creating the embedded database (first start)');
  const pglite = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const script = [
    `const { PGlite } = require(${JSON.stringify(pglite)});`,
    `PGlite.create(${JSON.stringify(build)})`,
    '  .then((db) => db.close())',
    '  .then(() => process.exit(0), (error) => { console.error(error && error.stack || String(error)); process.exit(1); });',
  ].join('\n');
  await new Promise<void>((resolve, reject) => {
    execFile(
      process.execPath,
      ['-e', script],
      { timeout: INITDB_TIMEOUT_MS, maxBuffer: 1024 * 1024, env: { ...process.env, NODE_OPTIONS: '' } },
      (error, _stdout, stderr) => {
        if (error === null) return resolve();
        rmSync(build, { recursive: true, force: true });
        const detail = (stderr.trim() || error.message).slice(-2000);
        reject(new AppError('CONFIG_INVALID', `cannot create the embedded database in ${dir}: ${detail}`));
      },
    );
  });
  rmSync(dir, { recursive: true, force: true }); // empty (checked above): made for the lock's sake
  renameSync(build, dir);
  log.info({ dir, ms: Math.round(performance.now() - started) }, 'embedded database created');
}

/** Removes `<dir>.init-*` folders left by a first start that was killed. */
function removeStaleBuilds(dir: string): void {
  const parent = path.dirname(dir);
  const prefix = `${path.basename(dir)}.init-`;
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    if (name.startsWith(prefix)) rmSync(path.join(parent, name), { recursive: true, force: true });
  }
}
