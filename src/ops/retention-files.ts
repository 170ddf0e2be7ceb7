import { lstat } from 'node:fs/promises';
import path from 'node:path';
import type { Db } from '../storage/database.js';
import {
  deleteExpiredRejection,
  expireDetectionBatch,
  expireMediaBatch,
  listExpiredRejections,
} from '../storage/retention.repository.js';
import { isInside, type RemoveOutcome, removeFile, removeThumbnail } from './remove-file.js';

/**
 * The retention steps that remove files with their rows. Each batch runs in one transaction that locks its rows
 * (`FOR UPDATE SKIP LOCKED`), unlinks the files, then deletes the rows whose files are gone: a crash in between
 * leaves rows whose files are missing, which the next run deletes (ENOENT counts as removed). A file that cannot be
 * unlinked for another reason keeps its row and is reported. Batches walk ids upwards, so a kept row is not retried
 * within one run.
 */

export interface FileFailure {
  path: string;
  error: string;
}

export interface FileStepResult {
  rows: number;
  files: number;
  failures: FileFailure[];
}

export interface FileStepDeps {
  db: Db;
  mediaRoot: string;
  dataDir: string;
  batchSize: number;
}

const empty = (): FileStepResult => ({ rows: 0, files: 0, failures: [] });

function tally(result: FileStepResult, file: string, outcome: RemoveOutcome): boolean {
  if (outcome.kind === 'removed') result.files += 1;
  if (outcome.kind === 'failed') result.failures.push({ path: file, error: outcome.error });
  return outcome.kind !== 'failed';
}

/**
 * Detections stored before `cutoff` that belong to no event (the events step already removed the expired events, so
 * a remaining link means the event is kept), with their thumbnails.
 */
export async function expireDetections(deps: FileStepDeps, cutoff: Date): Promise<FileStepResult> {
  const result = empty();
  let after = 0;
  for (;;) {
    const batch = await expireDetectionBatch(deps.db, { cutoff, after, limit: deps.batchSize }, async (rows) => {
      const removable: number[] = [];
      for (const row of rows) {
        const outcome = await removeThumbnail(deps.dataDir, row.thumbnailPath);
        if (tally(result, row.thumbnailPath ?? '', outcome)) removable.push(row.id);
      }
      return removable;
    });
    result.rows += batch.deleted;
    if (batch.last === undefined) return result;
    after = batch.last;
  }
}

interface OwnedFile {
  rel: string;
  size: number;
  /** The modification time recorded at ingest; undefined for a duplicate's alias (not recorded). */
  mtime: Date | undefined;
}

/**
 * Whether the file now at `rel` is still the content the expiring row describes: same size, and the recorded
 * modification time (main path) or an old one (alias), and no other row claims the alias path. A camera that wrote
 * new content under an old name must not lose it.
 */
async function stillOwned(
  claimed: (path: string) => Promise<boolean>,
  deps: FileStepDeps,
  file: OwnedFile,
  mainPath: string,
  cutoff: Date,
) {
  const abs = path.join(deps.mediaRoot, file.rel);
  if (!isInside(deps.mediaRoot, abs)) return false;
  const stats = await lstat(abs).catch(() => undefined);
  if (stats === undefined) return true; // gone (or unreadable: unlink reports why)
  if (!stats.isFile() && !stats.isSymbolicLink()) return false;
  if (stats.size !== file.size) return false;
  if (file.mtime !== undefined) return stats.mtime.getTime() === file.mtime.getTime();
  if (file.rel === mainPath || stats.mtime >= cutoff) return false;
  return !(await claimed(file.rel));
}

/**
 * Media files stored before `cutoff` that are finished (`done`, `failed`, `rejected`) and have no detection left
 * (the detections step ran first: a remaining detection is young or belongs to a kept event, and keeps its media).
 * Removes the file, every alias file (the same content under other names), the row and its alias rows together.
 */
export async function expireMedia(deps: FileStepDeps, cutoff: Date): Promise<FileStepResult> {
  const result = empty();
  let after = 0;
  for (;;) {
    const window = { cutoff, after, limit: deps.batchSize };
    const batch = await expireMediaBatch(deps.db, window, async (rows, claimed) => {
      const removable: number[] = [];
      for (const row of rows) {
        const owned: OwnedFile[] = [
          { rel: row.path, size: row.size, mtime: row.capturedAt },
          ...row.aliases.map((a) => ({ rel: a.path, size: a.size, mtime: undefined })),
        ];
        let ok = true;
        for (const file of owned) {
          if (!(await stillOwned(claimed, deps, file, row.path, cutoff))) continue;
          ok = tally(result, file.rel, await removeFile(path.join(deps.mediaRoot, file.rel))) && ok;
        }
        if (ok) removable.push(row.id);
      }
      return removable;
    });
    result.rows += batch.deleted;
    if (batch.last === undefined) return result;
    after = batch.last;
  }
}

/**
 * Uploads refused before they got a row (not media, too large, outside the root…), recorded before `cutoff`: the
 * file goes when it is still the one refused (same size and modification time), and the record goes with it.
 */
export async function expireRejections(deps: FileStepDeps, cutoff: Date): Promise<FileStepResult> {
  const result = empty();
  for (const row of await listExpiredRejections(deps.db, cutoff)) {
    const abs = path.join(deps.mediaRoot, row.path);
    const stats = isInside(deps.mediaRoot, abs) ? await lstat(abs).catch(() => undefined) : undefined;
    const same = stats !== undefined && stats.size === row.size && stats.mtime.getTime() === row.modifiedAt.getTime();
    if (same && !tally(result, row.path, await removeFile(abs))) continue;
    result.rows += await deleteExpiredRejection(deps.db, row.path, cutoff);
  }
  return result;
}
