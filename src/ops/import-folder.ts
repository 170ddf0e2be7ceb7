import { copyFile, lstat, mkdir, realpath, rename, rm, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { cameraIdFromFolder } from '../domain/camera-id.js';
import type { IngestOutcome } from '../ingest/ingest.service.js';
import { relativeMediaPath } from '../ingest/ingest.service.js';
import { scanMediaFiles } from '../ingest/watcher.js';
import { AppError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { getCamera } from '../storage/camera.repository.js';
import type { Db } from '../storage/database.js';
import { isKnownFile } from '../storage/media-file.repository.js';
import { isInside } from './remove-file.js';

/**
 * `hsi import <folder> [--camera NAME]`: brings footage from outside the media root in. Every supported file under
 * `folder` is copied to `<media_root>/<first folder>/…` (the first folder under `folder` names the camera), or to
 * `<media_root>/<NAME>/…` with `camera` (an existing camera's id or folder name, or a new folder name), keeping its
 * modification time (the capture time), then ingested like an upload. Copies are written under a hidden name and
 * renamed, so a running watcher never sees half a file. Resumable: a file already copied (same size and time) is not
 * copied again, one already known to the database is not ingested again, and ingest skips known content (sha256).
 * A name taken by different content gets a `-1`, `-2`… suffix.
 */

export interface ImportDeps {
  db: Db;
  mediaRoot: string;
  ingest: { ingest(file: string): Promise<IngestOutcome> };
  log: Logger;
  /** Camera id or folder name: every file goes to this camera's folder. */
  camera?: string;
  onProgress?: (done: number, total: number) => void;
}

export interface ImportReport {
  scanned: number;
  /** Files copied into the media root (the others were there from an earlier run). */
  copied: number;
  queued: number;
  duplicates: number;
  rejected: number;
  /** Already imported and known to the database. */
  known: number;
  /** Files directly in `folder` with no camera folder and no `camera` given. */
  unplaced: number;
  /** Ingest skipped them (vanished or still changing). */
  skipped: number;
}

async function checkFolders(folder: string, mediaRoot: string): Promise<{ source: string }> {
  const source = await realpath(folder).catch((error: NodeJS.ErrnoException) => {
    throw new AppError('NOT_FOUND', `import folder ${folder} cannot be read (${error.code}); check the path`);
  });
  if (!(await stat(source)).isDirectory())
    throw new AppError('INVALID_INPUT', `import source ${folder} is not a folder`);
  const root = await realpath(mediaRoot);
  if (source === root || isInside(root, source)) {
    throw new AppError('INVALID_INPUT', `${folder} is inside the media root ${root}: its files are ingested already`);
  }
  if (isInside(source, root)) {
    throw new AppError('INVALID_INPUT', `the media root ${root} is inside ${folder}: import a folder beside it`);
  }
  return { source };
}

/** The folder name under the media root for `camera`: an existing camera's own folder, else the name itself. */
async function cameraFolder(db: Db, camera: string): Promise<string> {
  const name = camera.trim();
  if (name === '' || name.startsWith('.') || name.includes('/') || name.includes(path.sep) || name === '..') {
    throw new AppError('INVALID_INPUT', `camera "${camera}" must be a camera id or a plain folder name`);
  }
  const known = (await getCamera(db, name)) ?? (await getCamera(db, cameraIdFromFolder(name)));
  return known === undefined ? name : path.basename(known.folder_path);
}

/** Where `file` goes: the same name, or the first `-N` variant that is free or holds this very copy. */
async function destinationFor(target: string, size: number, mtimeMs: number): Promise<{ file: string; copy: boolean }> {
  const ext = path.extname(target);
  const base = target.slice(0, target.length - ext.length);
  for (let n = 0; ; n++) {
    const file = n === 0 ? target : `${base}-${n}${ext}`;
    const existing = await lstat(file).catch(() => undefined);
    if (existing === undefined) return { file, copy: true };
    if (existing.isFile() && existing.size === size && Math.trunc(existing.mtimeMs) === Math.trunc(mtimeMs)) {
      return { file, copy: false };
    }
  }
}

async function copyIn(source: string, file: string): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.hsi-import-${process.pid}`);
  await mkdir(path.dirname(file), { recursive: true });
  try {
    await copyFile(source, temp);
    const times = await stat(source);
    await utimes(temp, times.atime, times.mtime);
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

export async function importFolder(folder: string, deps: ImportDeps): Promise<ImportReport> {
  const { source } = await checkFolders(folder, deps.mediaRoot);
  // Targets are named from the media root as configured (not its real path): ingest names files relative to it.
  const root = path.resolve(deps.mediaRoot);
  const camera = deps.camera === undefined ? undefined : await cameraFolder(deps.db, deps.camera);
  const files: string[] = [];
  for await (const file of scanMediaFiles(source)) files.push(file);
  const report: ImportReport = {
    ...{ scanned: 0, copied: 0, queued: 0, duplicates: 0, rejected: 0, known: 0, unplaced: 0, skipped: 0 },
  };
  deps.onProgress?.(0, files.length);
  for (const file of files) {
    report.scanned += 1;
    const rel = path.relative(source, file);
    if (camera === undefined && !rel.includes(path.sep)) {
      report.unplaced += 1;
      deps.log.warn({ file }, 'not in a camera folder: pass a camera name to import it');
    } else {
      await importOne(deps, report, file, path.join(root, camera ?? '', rel));
    }
    deps.onProgress?.(report.scanned, files.length);
  }
  deps.log.info(report, 'import done');
  return report;
}

async function importOne(deps: ImportDeps, report: ImportReport, file: string, target: string): Promise<void> {
  const stats = await stat(file).catch(() => undefined);
  if (stats === undefined) {
    report.skipped += 1;
    return;
  }
  const dest = await destinationFor(target, stats.size, stats.mtimeMs);
  if (dest.copy) {
    await copyIn(file, dest.file);
    report.copied += 1;
  } else if (await isKnownFile(deps.db, relativeMediaPath(deps.mediaRoot, dest.file), stats.size, stats.mtime)) {
    report.known += 1;
    return;
  }
  const outcome = await deps.ingest.ingest(dest.file);
  if (outcome.kind === 'queued') report.queued += 1;
  else if (outcome.kind === 'duplicate') report.duplicates += 1;
  else if (outcome.kind === 'rejected') report.rejected += 1;
  else report.skipped += 1;
}
