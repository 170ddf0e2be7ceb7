import { distinctLines } from '../lib/text.js';

/**
 * Names the damage in an image the decoder refused, from its bytes alone. libvips keeps its error text in one
 * buffer shared by every thread, so a decode failing while another fails or succeeds can come back as
 * "Unknown error"; the file itself still says whether it was cut short.
 */

const JPEG_SOI = [0xff, 0xd8] as const;
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] as const;
/** The IEND chunk: zero length, type "IEND", fixed CRC. Always the last 12 bytes of a whole PNG. */
const PNG_IEND = [0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82] as const;

/** Why the bytes cannot be a whole image, or undefined when they look complete (or are not JPEG/PNG). */
export function describeTruncation(bytes: Uint8Array): string | undefined {
  if (startsWith(bytes, JPEG_SOI)) {
    // Some cameras pad files with zeros after the end-of-image marker; look past them.
    let end = bytes.length;
    while (end > 0 && bytes[end - 1] === 0x00) end--;
    if (end >= 4 && bytes[end - 2] === 0xff && bytes[end - 1] === 0xd9) return undefined;
    return 'premature end of JPEG data: no end-of-image marker, the file is truncated';
  }
  if (startsWith(bytes, PNG_SIGNATURE)) {
    if (includesAt(bytes, PNG_IEND, bytes.length - PNG_IEND.length)) return undefined;
    return 'premature end of PNG data: no IEND chunk, the file is truncated';
  }
  return undefined;
}

/** libvips' message with each distinct line once, on one line (see `distinctLines`). */
export const decoderMessage = distinctLines;

/** True when the decoder's message says nothing (libvips' shared error buffer was emptied by another thread). */
export function isUninformative(message: string): boolean {
  const text = message.trim();
  return text === '' || /^(error: )?unknown error\.?$/i.test(text);
}

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return includesAt(bytes, prefix, 0);
}

function includesAt(bytes: Uint8Array, part: readonly number[], at: number): boolean {
  if (at < 0 || at + part.length > bytes.length) return false;
  return part.every((value, i) => bytes[at + i] === value);
}
