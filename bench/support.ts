import { mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';

export function assetsDir(): string {
  return path.resolve(process.env.HSI_ASSETS_DIR ?? path.join(process.cwd(), '..', 'shared'));
}

export const FIXTURES = [
  'person_astronaut.png',
  'person_cameraman_gray.png',
  'cat_chelsea.png',
  'no_target_coffee.png',
  'dog_bicycle_car.jpg',
  'person_dog_horse.jpg',
];

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * `count` distinct JPEG files made from the fixture photos (each a slightly different size, so every file has its
 * own sha256 and HSI processes all of them), roughly the size of a camera snapshot.
 */
export async function makeImages(dir: string, count: number): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const sources = FIXTURES.map((f) => path.join(assetsDir(), 'fixtures', 'images', f));
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    const file = path.join(dir, `bench-${String(i).padStart(5, '0')}.jpg`);
    await sharp(sources[i % sources.length]!)
      .resize(560 + Math.floor(i / sources.length) * 2)
      .jpeg({ quality: 85 })
      .toFile(file);
    files.push(file);
  }
  return files;
}

export { percentile } from '../src/lib/stats.js';

export const round = (n: number, digits = 1): number => Math.round(n * 10 ** digits) / 10 ** digits;

export interface Figure {
  name: string;
  value: string;
  target: string;
  ok: boolean | undefined;
}

export function printTable(figures: readonly Figure[]): void {
  const rows = figures.map((f) => [f.name, f.value, f.target, f.ok === undefined ? '' : f.ok ? 'ok' : 'MISSED']);
  const widths = [0, 1, 2, 3].map((i) =>
    Math.max(...rows.map((r) => r[i]!.length), ['figure', 'value', 'target', ''][i]!.length),
  );
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(['figure', 'value', 'target', '']));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}
