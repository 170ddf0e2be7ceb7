import type { MediaType } from './events.js';

/**
 * What a media file is, by name (extension) and by content (magic bytes). Pure: callers read the header bytes.
 * The extension decides whether a file is picked up at all; the magic bytes decide whether it really is what the
 * extension claims, so a text file named `.jpg` never reaches the detector.
 */

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png'] as const;
export const VIDEO_EXTENSIONS = ['.mp4', '.mkv', '.avi', '.mov'] as const;

/** How many leading bytes `sniffMediaType` needs to recognise every supported format. */
export const SNIFF_BYTES = 12;

/** Container / codec families recognised from magic bytes. `quicktime` is a legacy `.mov` without an `ftyp` box. */
export type MediaFormat = 'jpeg' | 'png' | 'mp4' | 'quicktime' | 'mkv' | 'avi';

const FORMAT_KIND: Readonly<Record<MediaFormat, MediaType>> = {
  jpeg: 'image',
  png: 'image',
  mp4: 'video',
  quicktime: 'video',
  mkv: 'video',
  avi: 'video',
};

/** Formats each extension may hold. A PNG named `.jpg` is still accepted (the decoder reads content, not names). */
const EXTENSION_FORMATS: Readonly<Record<string, readonly MediaFormat[]>> = {
  '.jpg': ['jpeg', 'png'],
  '.jpeg': ['jpeg', 'png'],
  '.png': ['png', 'jpeg'],
  '.mp4': ['mp4'],
  '.mov': ['mp4', 'quicktime'],
  '.mkv': ['mkv'],
  '.avi': ['avi'],
};

/** Top-level QuickTime atoms an old `.mov` may start with instead of `ftyp`. */
const QUICKTIME_ATOMS = new Set(['moov', 'mdat', 'wide', 'free', 'skip', 'pnot']);

/** Lower-cased extension with its dot (`.jpg`), or '' when the name has none. Hidden-file names have none. */
export function fileExtension(filePath: string): string {
  const base = filePath.slice(filePath.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot <= 0 ? '' : base.slice(dot).toLowerCase();
}

/** `image`, `video` or `unsupported`, by extension only (case-insensitive). */
export function mediaKindFromPath(filePath: string): MediaType | 'unsupported' {
  const ext = fileExtension(filePath);
  if ((IMAGE_EXTENSIONS as readonly string[]).includes(ext)) return 'image';
  if ((VIDEO_EXTENSIONS as readonly string[]).includes(ext)) return 'video';
  return 'unsupported';
}

export function isSupportedMediaPath(filePath: string): boolean {
  return mediaKindFromPath(filePath) !== 'unsupported';
}

function ascii(header: Uint8Array, start: number, end: number): string {
  return String.fromCharCode(...header.subarray(start, end));
}

/** The format the leading bytes announce, or undefined when they match no supported format (or are too short). */
export function sniffMediaType(header: Uint8Array): MediaFormat | undefined {
  if (header.length >= 3 && header[0] === 0xff && header[1] === 0xd8 && header[2] === 0xff) return 'jpeg';
  if (header.length >= 4 && header[0] === 0x89 && ascii(header, 1, 4) === 'PNG') return 'png';
  if (header.length >= 4 && header[0] === 0x1a && header[1] === 0x45 && header[2] === 0xdf && header[3] === 0xa3) {
    return 'mkv';
  }
  if (header.length >= 12 && ascii(header, 0, 4) === 'RIFF' && ascii(header, 8, 12) === 'AVI ') return 'avi';
  if (header.length >= 8) {
    const box = ascii(header, 4, 8);
    if (box === 'ftyp') return 'mp4';
    if (QUICKTIME_ATOMS.has(box)) return 'quicktime';
  }
  return undefined;
}

export function mediaKindOfFormat(format: MediaFormat): MediaType {
  return FORMAT_KIND[format];
}

/**
 * Whether content of `format` may sit behind this file name: the kinds must agree (an image extension never holds
 * a video) and the format must be one the extension is known to carry.
 */
export function formatMatchesExtension(filePath: string, format: MediaFormat): boolean {
  return EXTENSION_FORMATS[fileExtension(filePath)]?.includes(format) ?? false;
}
