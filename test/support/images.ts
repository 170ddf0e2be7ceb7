import { mkdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

/**
 * Writes `count` distinct JPEGs (different sizes of one photo, so different bytes and the same content to detect)
 * into `dir`, named `img-0000.jpg`… Returns their names.
 */
export async function writeDistinctImages(source: string, dir: string, count: number, start = 0): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const names: string[] = [];
  for (let i = start; i < start + count; i++) {
    const name = `img-${String(i).padStart(4, '0')}.jpg`;
    await sharp(source)
      .resize(240 + (i % 400))
      .jpeg({ quality: 70 + (Math.floor(i / 400) % 25) })
      .toFile(path.join(dir, name));
    names.push(name);
  }
  return names;
}
