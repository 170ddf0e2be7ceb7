import { createHash } from 'node:crypto';
import { constants, createWriteStream } from 'node:fs';
import { type FileHandle, lstat, mkdtemp, open, realpath, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from './errors.js';

/**
 * Reading an uploaded file again, long after it was processed (the API's detection image, the MQTT snapshot): the
 * media folder is writable by the cameras (FTP, a share), so the name may now hold another picture, or a symbolic
 * link to anything on the machine. Only the bytes that were processed are served: the file must still have the
 * sha256 recorded in `media_files`, and no link is followed, neither the file itself nor any folder above it under
 * the media root.
 */

/**
 * `missing`: no file by that name (any more); `changed`: other content than was processed, or not a regular file;
 * `link`: the file or a folder on its way is a symbolic link; `outside`: the stored path leaves the media root.
 */
export type MediaRefusal = 'missing' | 'changed' | 'link' | 'outside';

/** A permanent error: MEDIA_GONE for `missing` and `changed`, MEDIA_OUTSIDE_ROOT for `link` and `outside`. */
export class UnverifiedMediaError extends AppError {
  constructor(
    readonly reason: MediaRefusal,
    readonly relPath: string,
    message: string,
  ) {
    super(reason === 'missing' || reason === 'changed' ? 'MEDIA_GONE' : 'MEDIA_OUTSIDE_ROOT', message, {
      permanent: true,
      details: { reason, path: relPath },
    });
    this.name = 'UnverifiedMediaError';
  }
}

const MESSAGES: Readonly<Record<MediaRefusal, string>> = {
  missing: 'is gone',
  changed: 'changed since it was processed',
  link: 'is (or lies under) a symbolic link, which is never followed',
  outside: 'is outside the media root',
};

const refusal = (reason: MediaRefusal, relPath: string) =>
  new UnverifiedMediaError(reason, relPath, `the file ${relPath} ${MESSAGES[reason]}`);

const errno = (error: unknown): string | undefined =>
  typeof error === 'object' && error !== null ? (error as NodeJS.ErrnoException).code : undefined;

/** `missing` for the errors a vanished file or folder gives; anything else is rethrown. */
function missingOr(error: unknown, relPath: string): UnverifiedMediaError {
  if (errno(error) === 'ENOENT' || errno(error) === 'ENOTDIR') return refusal('missing', relPath);
  throw error;
}

interface Confined {
  handle: FileHandle;
  size: number;
}

/**
 * Opens `relPath` under `root` (the root itself may be a link, as configured): every folder on the way must be a real
 * folder (lstat), the file is opened with O_NOFOLLOW and must be a regular file, and the opened file must still be
 * the one the path names, inside the root (realpath and inode, against a swap while opening).
 */
async function openConfined(root: string, relPath: string): Promise<Confined> {
  const parts = relPath.split(/[\\/]+/).filter((part) => part !== '' && part !== '.');
  if (path.isAbsolute(relPath) || parts.length === 0 || parts.includes('..')) throw refusal('outside', relPath);
  const realRoot = await realpath(root).catch((error: unknown) => Promise.reject(missingOr(error, relPath)));
  let dir = realRoot;
  for (const part of parts.slice(0, -1)) {
    dir = path.join(dir, part);
    const info = await lstat(dir).catch((error: unknown) => Promise.reject(missingOr(error, relPath)));
    if (info.isSymbolicLink()) throw refusal('link', relPath);
    if (!info.isDirectory()) throw refusal('missing', relPath);
  }
  const file = path.join(dir, parts.at(-1) ?? '');
  const flags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
  const handle = await open(file, flags).catch((error: unknown) =>
    Promise.reject(errno(error) === 'ELOOP' ? refusal('link', relPath) : missingOr(error, relPath)),
  );
  try {
    const opened = await handle.stat();
    if (!opened.isFile()) throw refusal('changed', relPath);
    const real = await realpath(file).catch((error: unknown) => Promise.reject(missingOr(error, relPath)));
    const named = await stat(real).catch((error: unknown) => Promise.reject(missingOr(error, relPath)));
    if (!real.startsWith(realRoot + path.sep) || named.ino !== opened.ino || named.dev !== opened.dev) {
      throw refusal('link', relPath);
    }
    return { handle, size: opened.size };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/**
 * The bytes of `relPath` under `root` when they still have `sha256` (hex, as `media_files.sha256`); throws an
 * `UnverifiedMediaError` otherwise. With `size` (`media_files.size`) a file of another size is refused unread.
 * For photos: the whole file is read into memory.
 */
export async function readVerifiedMedia(root: string, relPath: string, sha256: string, size?: number): Promise<Buffer> {
  const { handle, size: actual } = await openConfined(root, relPath);
  try {
    if (size !== undefined && actual !== size) throw refusal('changed', relPath);
    const bytes = await handle.readFile();
    if (createHash('sha256').update(bytes).digest('hex') !== sha256.toLowerCase()) throw refusal('changed', relPath);
    return bytes;
  } finally {
    await handle.close();
  }
}

/**
 * Runs `use` on a private copy of `relPath` (same base name, in a temporary folder removed afterwards) that has
 * `sha256`, for tools that read a path (ffmpeg on a clip): the copy is streamed and hashed at once, so a large
 * clip never sits in memory, and the tool cannot read a file swapped in after the check.
 */
export async function withVerifiedMediaCopy<T>(
  root: string,
  relPath: string,
  sha256: string,
  use: (file: string) => Promise<T>,
  size?: number,
): Promise<T> {
  const { handle, size: actual } = await openConfined(root, relPath);
  let dir: string | undefined;
  try {
    if (size !== undefined && actual !== size) throw refusal('changed', relPath);
    dir = await mkdtemp(path.join(os.tmpdir(), 'hsi-media-'));
    const copy = path.join(dir, path.basename(relPath));
    const hash = createHash('sha256');
    const tap = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        done(null, chunk);
      },
    });
    await pipeline(handle.createReadStream({ autoClose: false }), tap, createWriteStream(copy, { mode: 0o600 }));
    if (hash.digest('hex') !== sha256.toLowerCase()) throw refusal('changed', relPath);
    await handle.close();
    return await use(copy);
  } finally {
    await handle.close().catch(() => undefined);
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }
}
