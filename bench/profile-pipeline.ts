/**
 * Where the pipeline's main-thread time goes: a burst of generated images through an in-process HSI on the embedded
 * backends, under `node --cpu-prof`. Run: `npx tsx --cpu-prof --cpu-prof-dir=/tmp/prof bench/profile-pipeline.ts [n]`,
 * then `node scripts/cpuprofile-top.mjs /tmp/prof/<file>.cpuprofile`.
 */
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { createLogger } from '../src/lib/logger.js';
import { startHsi } from '../src/main.js';
import { makeImages, tempDir } from './support.js';

const count = Number(process.argv[2] ?? 200);
const root = tempDir('hsi-prof-');
const images = await makeImages(path.join(root, 'src'), count);
const { config } = loadConfig({
  env: {
    ...process.env,
    HSI_DATA_DIR: path.join(root, 'data'),
    HSI_MQTT_EMBEDDED_PORT: '0',
    HSI_HTTP_PORT: '0',
    HSI_MEDIA_ROOT: path.join(root, 'media'),
    HSI_INGEST_STABLE_MS: '200',
  },
  optionsFile: path.join(root, 'none.json'),
});
const hsi = await startHsi(config, createLogger('warn'));
await hsi.reconciled;
const camera = path.join(config.media_root, 'Bench');
mkdirSync(camera, { recursive: true });
const copies = images.map((f) => {
  const target = path.join(camera, path.basename(f));
  copyFileSync(f, target);
  return target;
});
let done = 0;
const finished = new Promise<void>((resolve) => {
  const count = () => {
    done += 1;
    if (done === copies.length) resolve();
  };
  hsi.bus.on('media.processed', count);
  hsi.bus.on('media.rejected', count);
});
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await Promise.all(copies.map((file) => hsi.ingest!.ingest(file)));
await finished;
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
console.log(
  `${copies.length} files in ${seconds.toFixed(2)} s = ${(copies.length / seconds).toFixed(1)} img/s; process CPU ` +
    `${((cpu.user + cpu.system) / 1000 / copies.length).toFixed(1)} ms/file (all threads)`,
);
await hsi.stop();
rmSync(root, { recursive: true, force: true });
