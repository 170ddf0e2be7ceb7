import { readdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { FTP_TEMP_PREFIX } from './ftp-upload.js';

/**
 * Temporary files of uploads that no process is writing any more: an upload removes its own on every failure, but a
 * process killed mid-upload (SIGKILL, power loss) leaves it behind, hidden from the watcher and never completed.
 * A live upload writes to its file continuously, so one untouched for `olderThanMs` is abandoned.
 */
export async function sweepAbandonedUploads(
  folders: readonly string[],
  olderThanMs: number,
  now: number,
  log: Logger,
): Promise<string[]> {
  const removed: string[] = [];
  for (const folder of folders) {
    let entries: string[];
    try {
      entries = await readdir(folder, { recursive: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        log.warn({ folder, error: errorMessage(error) }, 'FTP upload sweep: folder unreadable');
      }
      continue;
    }
    for (const entry of entries) {
      if (!path.basename(entry).startsWith(FTP_TEMP_PREFIX)) continue;
      const file = path.join(folder, entry);
      try {
        const info = await stat(file);
        if (!info.isFile() || now - info.mtimeMs < olderThanMs) continue;
        await unlink(file);
        removed.push(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue; // completed or removed meanwhile
        log.warn({ file, error: errorMessage(error) }, 'FTP upload sweep: cannot remove an abandoned upload');
      }
    }
  }
  if (removed.length > 0) {
    log.info({ files: removed.length }, 'removed temporary files of uploads abandoned by a stopped process');
  }
  return removed;
}
