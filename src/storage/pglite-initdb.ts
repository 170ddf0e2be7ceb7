import { spawn } from 'node:child_process';
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
 * The child also dies with its parent: it holds an IPC channel to it and exits when the channel closes, which the
 * kernel does when the parent ends however it ends (kill -9 included), so no orphan keeps writing into a build
 * folder that the next start is removing (that race failed the next start once with ENOTEMPTY).
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
  await runInitdbChild(build, dir);
  rmSync(dir, { recursive: true, force: true }); // empty (checked above): made for the lock's sake
  renameSync(build, dir);
  log.info({ dir, ms: Math.round(performance.now() - started) }, 'embedded database created');
}

/**
 * The child's script: create the database in `build`, exit 0 when done, exit 1 on an error or as soon as the IPC
 * channel to the parent closes (the parent ended: nothing would use the result).
 */
function initdbScript(pglite: string, build: string): string {
  return [
    "process.on('disconnect', () => process.exit(1));",
    'if (!process.connected) process.exit(1);',
    `const { PGlite } = require(${JSON.stringify(pglite)});`,
    `PGlite.create(${JSON.stringify(build)})`,
    '  .then((db) => db.close())',
    '  .then(() => process.exit(0), (error) => { console.error(error && error.stack || String(error)); process.exit(1); });',
  ].join('\n');
}

async function runInitdbChild(build: string, dir: string): Promise<void> {
  const pglite = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const child = spawn(process.execPath, ['-e', initdbScript(pglite, build)], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  // The channel is only a lifeline: unreferenced, it keeps neither process's event loop alive.
  child.channel?.unref();
  const timer = setTimeout(() => child.kill('SIGKILL'), INITDB_TIMEOUT_MS);
  try {
    const failure = await new Promise<string | undefined>((resolve) => {
      child.once('error', (error) => resolve(error.message));
      child.once('close', (code, signal) =>
        resolve(code === 0 ? undefined : `initdb child exited with ${signal ?? `code ${code}`}`),
      );
    });
    if (failure === undefined) return;
    rmSync(build, { recursive: true, force: true, maxRetries: 5 });
    const detail = (stderr.trim() || failure).slice(-2000);
    throw new AppError('CONFIG_INVALID', `cannot create the embedded database in ${dir}: ${detail}`);
  } finally {
    clearTimeout(timer);
  }
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
    // Retried: a child of the killed start may still be writing for a moment before it notices its parent is gone.
    if (name.startsWith(prefix)) {
      rmSync(path.join(parent, name), { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    }
  }
}
