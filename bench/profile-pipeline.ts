/**
 * Where the pipeline's main-thread time goes: a burst of generated images through an in-process HSI on the embedded
 * backends, under `node --cpu-prof`. Run: `npx tsx --cpu-prof --cpu-prof-dir=/tmp/prof bench/profile-pipeline.ts [n]`,
 * then `node scripts/cpuprofile-top.mjs /tmp/prof/<file>.cpuprofile`.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { burst, startBenchHsi } from './detection.bench.js';
import { makeImages, tempDir } from './support.js';

const count = Number(process.argv[2] ?? 200);
const root = tempDir('hsi-prof-');
const images = await makeImages(path.join(root, 'src'), count);
const { config, start } = startBenchHsi(process.env as Record<string, string>, root);
const hsi = await start();
await hsi.reconciled;
const cpu0 = process.cpuUsage();
const seconds = await burst(hsi, config.media_root, images);
const cpu = process.cpuUsage(cpu0);
console.log(
  `${images.length} files in ${seconds.toFixed(2)} s = ${(images.length / seconds).toFixed(1)} img/s; process CPU ` +
    `${((cpu.user + cpu.system) / 1000 / images.length).toFixed(1)} ms/file (all threads)`,
);
await hsi.stop();
rmSync(root, { recursive: true, force: true });
