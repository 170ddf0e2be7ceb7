import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

/**
 * Hostile or broken uploads generated on the fly for the bad-input tests: nothing here is committed as a fixture.
 */

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** CRC-32 as PNG chunks use it (over the chunk type and data). */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = (CRC_TABLE[(c ^ byte) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * A small valid PNG whose IHDR claims `width` x `height` (CRC fixed, so the header reads as valid): a
 * decompression bomb as far as any header-reading decoder can tell.
 */
export async function pngDeclaring(width: number, height: number): Promise<Buffer> {
  const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } })
    .png()
    .toBuffer();
  // Signature (8) + IHDR length (4) + 'IHDR' (4) + width (4) + height (4) + 5 bytes + CRC (4).
  if (png.toString('latin1', 12, 16) !== 'IHDR') throw new Error('sharp wrote a PNG without IHDR first');
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

/** A JPEG of noise over `minBytes` (noise does not compress), for the size limit. */
export async function jpegOver(minBytes: number): Promise<Buffer> {
  const side = Math.ceil(Math.sqrt(minBytes));
  const noise = Buffer.alloc(side * side * 3);
  let seed = 12345;
  for (let i = 0; i < noise.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    noise[i] = seed >>> 24;
  }
  const jpeg = await sharp(noise, { raw: { width: side, height: side, channels: 3 } })
    .jpeg({ quality: 100 })
    .toBuffer();
  if (jpeg.length <= minBytes) throw new Error(`noise JPEG is only ${jpeg.length} bytes, wanted > ${minBytes}`);
  return jpeg;
}

/** A photo resized to `width` (distinct widths give distinct bytes): a good upload. */
export function photo(source: string, width: number): Promise<Buffer> {
  return sharp(source).resize(width).jpeg({ quality: 85 }).toBuffer();
}

/** Writes `bytes` to `root/relPath`, creating its folders. Returns the absolute path. */
export function put(root: string, relPath: string, bytes: Buffer | string): string {
  const file = path.join(root, relPath);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, bytes);
  return file;
}
