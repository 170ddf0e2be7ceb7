import { randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { link, lstat, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { isSupportedMediaPath } from '../domain/media-kind.js';
import { alternativeName } from './ftp-access.js';

/**
 * One FTP upload on disk: bytes go to a hidden temporary file beside the target (same folder, so the final rename is
 * atomic), and only a complete upload is moved to its name. The watcher ignores hidden names, so it never sees a
 * half-written picture; an upload that fails, is cut off or grows past the size limit removes its temporary file.
 */

/** An FTP error: ftp-srv answers with `code` (where it uses one) and the message, which never names server paths. */
export class FtpRefusal extends Error {
  constructor(
    message: string,
    readonly code = 550,
  ) {
    super(message);
    this.name = 'FtpRefusal';
  }
}

/** Prefix of temporary upload files (hidden: skipped by the watcher, the reconciliation scan and FTP listings). */
export const FTP_TEMP_PREFIX = '.hsi-upload-';

export function ftpTempName(): string {
  return `${FTP_TEMP_PREFIX}${randomBytes(8).toString('hex')}`;
}

function errnoOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

/** Errors of `link` on file systems without hard links (some FUSE, SMB and FAT mounts). */
const LINK_UNSUPPORTED = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK']);
const NAME_ATTEMPTS = 5;

async function exists(filePath: string): Promise<boolean> {
  try {
    await lstat(filePath);
    return true;
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return false;
    throw error;
  }
}

/**
 * Moves `from` to `to` and returns where it landed. A picture or clip (a name the watcher ingests) never replaces
 * an existing entry: it takes `name-<tag>.ext` instead (hard link + unlink, atomic, where the file system allows).
 * Other names (`x.tmp`) are renamed over, so a camera retrying its temporary upload is not confused.
 */
export async function placeFile(from: string, to: string): Promise<string> {
  if (!isSupportedMediaPath(to)) {
    await rename(from, to);
    return to;
  }
  let target = to;
  for (let attempt = 0; attempt < NAME_ATTEMPTS; attempt += 1) {
    try {
      await link(from, target);
      // The picture is in place; a temporary name left behind is hidden and harmless.
      await unlink(from).catch(() => undefined);
      return target;
    } catch (error) {
      const errno = errnoOf(error);
      if (errno !== undefined && LINK_UNSUPPORTED.has(errno)) {
        if (!(await exists(target))) {
          await rename(from, target);
          return target;
        }
      } else if (errno !== 'EEXIST') {
        throw error;
      }
    }
    target = path.join(path.dirname(to), alternativeName(path.basename(to), randomBytes(4).toString('hex')));
  }
  throw new FtpRefusal('no free name for the file', 553);
}

export interface UploadTarget {
  handle: FileHandle;
  tempPath: string;
  finalPath: string;
  maxBytes: number;
}

/**
 * The writable end ftp-srv pipes the data connection into. `finish` is emitted only after the file has its final
 * name, so the `226` reply means the picture is in place. `placed` resolves with the final path, or rejects when
 * the upload was refused or cut off (the temporary file is gone by then).
 */
export class UploadStream extends Writable {
  readonly placed: Promise<{ path: string; bytes: number }>;
  private bytes = 0;
  private finalPath: string | undefined;
  private handleOpen = true;
  private settle: { resolve(value: { path: string; bytes: number }): void; reject(error: Error): void } | undefined;

  constructor(private readonly target: UploadTarget) {
    super();
    this.placed = new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // Failures are reported through `placed` (and to ftp-srv by its own `error` listener); these keep a failed
    // upload from crashing the process when nobody else listens at that moment.
    this.placed.catch(() => undefined);
    this.on('error', () => undefined);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.bytes + chunk.length > this.target.maxBytes) {
      callback(new FtpRefusal(`upload refused: larger than the limit of ${this.target.maxBytes} bytes`, 552));
      return;
    }
    this.bytes += chunk.length;
    writeAll(this.target.handle, chunk).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.closeHandle()
      .then(() => placeFile(this.target.tempPath, this.target.finalPath))
      .then((finalPath) => {
        this.finalPath = finalPath;
        this.settle?.resolve({ path: finalPath, bytes: this.bytes });
        callback();
      }, callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.finalPath !== undefined) {
      callback(error);
      return;
    }
    const reason = error ?? new FtpRefusal('upload ended before it was complete', 426);
    const done = (): void => {
      this.settle?.reject(reason);
      callback(error);
    };
    this.removeTemp().then(done, done);
  }

  private async removeTemp(): Promise<void> {
    await this.closeHandle().catch(() => undefined);
    await unlink(this.target.tempPath).catch(() => undefined);
  }

  private async closeHandle(): Promise<void> {
    if (!this.handleOpen) return;
    this.handleOpen = false;
    await this.target.handle.close();
  }
}

async function writeAll(handle: FileHandle, chunk: Buffer): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
  }
}
