/**
 * Resident memory of a real `hsi run` over a soak: `npx tsx bench/profile-rss.ts [images] [KEY=VALUE ...]`, each
 * KEY=VALUE added to the process's environment (`HSI_*` configuration, `MALLOC_ARENA_MAX`, …) to compare settings.
 * Prints RSS after each round of 100 new uploads. Embedded backends unless `HSI_DATABASE_URL` is given.
 */
import { rmSync } from 'node:fs';
import { rssOverRun } from './detection.bench.js';
import { makeImages, tempDir } from './support.js';

const count = Number(process.argv[2] ?? 1000);
const extra = Object.fromEntries(process.argv.slice(3).map((kv) => [kv.split('=')[0]!, kv.slice(kv.indexOf('=') + 1)]));
const images = tempDir('hsi-rss-img-');
const samples = await rssOverRun(
  { HSI_DATABASE_URL: '', HSI_REDIS_URL: '', ...extra },
  await makeImages(images, 100),
  count,
);
const mb = (b: number) => Math.round(b / 2 ** 20);
console.log(`${JSON.stringify(extra)}: RSS MB per 100 images ${samples.map(mb).join(' ')}`);
rmSync(images, { recursive: true, force: true });
