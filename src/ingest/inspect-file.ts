import { createHash } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { type FileHandle, lstat, open, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import sharp, { type Metadata } from 'sharp';
import type { MediaType } from '../domain/events.js';
import {
  formatMatchesExtension,
  type MediaFormat,
  mediaKindFromPath,
  mediaKindOfFormat,
  SNIFF_BYTES,
  sniffMediaType,
} from '../domain/media-kind.js';
import type { ErrorCode } from '../lib/errors.js';
import { distinctLines } from '../lib/text.js';

/**
 * Decides whether one file under the media root may enter the pipeline, and fingerprints it. Reads the header and
 * streams the content once for sha256; images get their dimensions from the header alone (no decode), so a
 * decompression bomb is refused before any pixel is allocated. Never throws for a bad file: every refusal is a
 * result with an ErrorCode and a reason naming the file.
 */

export interface InspectOptions {
  mediaRoot: string;
  /** Files larger than this are refused (MEDIA_TOO_LARGE). */
  maxFileBytes: number;
  /** Images declaring more pixels (width × height) than this are refused from the header (MEDIA_TOO_LARGE). */
  maxPixels: number;
}

export interface InspectedMedia {
  ok: true;
  kind: MediaType;
  format: MediaFormat;
  /** The file behind any symlink, inside the real media root. */
  realPath: string;
  size: number;
  sha256: string;
  /** Displayed size (after EXIF orientation); images only. */
  width?: number;
  /** The image's raw EXIF block, when it has one (capture time). */
  exif?: Buffer;
  height?: number;
  mtime: Date;
}

export interface RefusedMedia {
  ok: false;
  code: ErrorCode;
  reason: string;
}

export type InspectResult = InspectedMedia | RefusedMedia;

const READ_CHUNK_BYTES = 1024 * 1024;

function refuse(code: ErrorCode, reason: string): RefusedMedia {
  return { ok: false, code, reason };
}

function errnoOf(error: unknown): string {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : 'unknown';
}

/** Maps a filesystem error to a refusal: a vanished file is MEDIA_GONE, anything else MEDIA_UNREADABLE. */
function fsRefusal(filePath: string, error: unknown, doing: string): RefusedMedia {
  const errno = errnoOf(error);
  if (errno === 'ENOENT' || errno === 'ENOTDIR')
    return refuse('MEDIA_GONE', `${filePath} vanished (${doing}: ${errno})`);
  const detail = error instanceof Error ? error.message : String(error);
  return refuse(
    'MEDIA_UNREADABLE',
    `${filePath} cannot be read (${doing}: ${errno}): ${detail}; check its permissions`,
  );
}

function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative !== '' && relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}

/** Resolves symlinks (of the file or of any folder above it) and refuses a target outside the real media root. */
async function resolveInsideRoot(filePath: string, mediaRoot: string): Promise<string | RefusedMedia> {
  let realRoot: string;
  try {
    realRoot = await realpath(mediaRoot);
  } catch (error) {
    return refuse('MEDIA_UNREADABLE', `media root ${mediaRoot} cannot be resolved (${errnoOf(error)})`);
  }
  let realFile: string;
  try {
    await lstat(filePath);
    realFile = await realpath(filePath);
  } catch (error) {
    return fsRefusal(filePath, error, 'resolving');
  }
  if (!isInside(realRoot, realFile)) {
    return refuse('MEDIA_OUTSIDE_ROOT', `${filePath} resolves to ${realFile}, outside the media root ${realRoot}`);
  }
  return realFile;
}

function checkStats(filePath: string, stats: Stats, maxFileBytes: number): RefusedMedia | undefined {
  if (!stats.isFile()) return refuse('MEDIA_UNSUPPORTED', `${filePath} is not a regular file`);
  if (stats.size === 0) return refuse('MEDIA_CORRUPT', `${filePath} is empty (0 bytes); the upload probably failed`);
  if (stats.size > maxFileBytes) {
    return refuse(
      'MEDIA_TOO_LARGE',
      `${filePath} is ${stats.size} bytes, over the limit of ${maxFileBytes} bytes (ingest.max_file_bytes)`,
    );
  }
  return undefined;
}

async function readHeader(handle: FileHandle): Promise<Buffer> {
  const header = Buffer.alloc(SNIFF_BYTES);
  const { bytesRead } = await handle.read(header, 0, SNIFF_BYTES, 0);
  return header.subarray(0, bytesRead);
}

/** Streams the content through sha256 in fixed chunks (a 50 MB clip never sits in memory whole). */
async function hashContent(handle: FileHandle): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
  let bytes = 0;
  for (;;) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, bytes);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    bytes += bytesRead;
  }
  return { sha256: hash.digest('hex'), bytes };
}

async function imageSize(
  filePath: string,
  realFile: string,
  maxPixels: number,
): Promise<{ width: number; height: number; exif: Buffer | undefined } | RefusedMedia> {
  let metadata: Metadata;
  try {
    // The pixel limit is checked below from the header, so the reason can name the dimensions.
    metadata = await sharp(realFile, { limitInputPixels: false }).metadata();
  } catch (error) {
    return refuse(
      'MEDIA_CORRUPT',
      `${filePath} has an unreadable image header: ${distinctLines((error as Error).message)}`,
    );
  }
  const { width, height } = metadata.autoOrient;
  if (!(width > 0 && height > 0)) return refuse('MEDIA_CORRUPT', `${filePath} declares no image size`);
  if (width * height > maxPixels) {
    return refuse(
      'MEDIA_TOO_LARGE',
      `${filePath} declares ${width}x${height} = ${width * height} pixels, over the limit of ${maxPixels} ` +
        '(ingest.max_pixels); refused without decoding',
    );
  }
  return { width, height, exif: metadata.exif };
}

/** Content checks on an open handle: the file is read once; it must not change while being read. */
async function inspectContent(
  filePath: string,
  realFile: string,
  handle: FileHandle,
  options: InspectOptions,
): Promise<InspectResult> {
  const before = await handle.stat();
  const statRefusal = checkStats(filePath, before, options.maxFileBytes);
  if (statRefusal !== undefined) return statRefusal;
  const header = await readHeader(handle);
  const format = sniffMediaType(header);
  if (format === undefined || !formatMatchesExtension(filePath, format)) {
    const found = format ?? `unrecognised bytes ${header.subarray(0, 8).toString('hex') || '(none)'}`;
    return refuse('MEDIA_UNSUPPORTED', `${filePath} content is ${found}, not what its extension claims`);
  }
  const { sha256, bytes } = await hashContent(handle);
  const after = await handle.stat();
  if (bytes !== before.size || after.size !== before.size || after.mtimeMs !== before.mtimeMs) {
    return refuse('TRANSIENT', `${filePath} changed while being read (still being written?); retry once it is stable`);
  }
  const kind = mediaKindOfFormat(format);
  const result: InspectedMedia = {
    ok: true,
    kind,
    format,
    realPath: realFile,
    size: bytes,
    sha256,
    mtime: before.mtime,
  };
  if (kind === 'image') {
    const size = await imageSize(filePath, realFile, options.maxPixels);
    if ('ok' in size) return size;
    result.width = size.width;
    result.height = size.height;
    if (size.exif !== undefined) result.exif = size.exif;
  }
  return result;
}

export async function inspectMediaFile(filePath: string, options: InspectOptions): Promise<InspectResult> {
  if (mediaKindFromPath(filePath) === 'unsupported') {
    return refuse('MEDIA_UNSUPPORTED', `${filePath} has an unsupported extension (jpg, jpeg, png, mp4, mkv, avi, mov)`);
  }
  const realFile = await resolveInsideRoot(filePath, options.mediaRoot);
  if (typeof realFile !== 'string') return realFile;
  try {
    // Checked before opening: opening a FIFO named `.jpg` would block until a writer appears.
    const statRefusal = checkStats(filePath, await stat(realFile), options.maxFileBytes);
    if (statRefusal !== undefined) return statRefusal;
  } catch (error) {
    return fsRefusal(filePath, error, 'stat');
  }
  let handle: FileHandle;
  try {
    // O_NONBLOCK: a file swapped for a FIFO after the check above still cannot block the thread pool.
    handle = await open(realFile, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    return fsRefusal(filePath, error, 'open');
  }
  let result: InspectResult;
  try {
    result = await inspectContent(filePath, realFile, handle, options);
  } catch (error) {
    return fsRefusal(filePath, error, 'read');
  } finally {
    await handle.close();
  }
  if (!result.ok) return result;
  // An open handle keeps reading a file that was deleted meanwhile: make sure it is still there to be processed.
  try {
    await stat(filePath);
  } catch (error) {
    return fsRefusal(filePath, error, 'stat after read');
  }
  return result;
}
