import { rmSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { createPostgresDatabase } from '../test/support/stores.js';
import { runDetectionBench } from './detection.bench.js';
import { runEventsBench } from './events.bench.js';
import { runIdentityBench } from './identity.bench.js';
import { runMqttBench } from './mqtt.bench.js';
import { runScaleBench } from './scale.bench.js';
import { runStartupBench } from './startup.bench.js';
import { runStorageBench } from './storage.bench.js';
import { type Figure, makeImages, printTable, tempDir } from './support.js';

/**
 * `npm run bench [-- --quick] [-- --services]`: prints every figure with its target and the ratio against a baseline
 * measured in the same run. Embedded backends by default; `--services` runs on PostgreSQL + Redis on 127.0.0.1.
 */
const { values } = parseArgs({
  options: { quick: { type: 'boolean' }, services: { type: 'boolean' } },
});
const quick = values.quick === true;
// A database of its own for this run: files of an earlier run would be duplicates, never processed again.
const database =
  values.services && process.env.HSI_BENCH_DATABASE_URL === undefined ? await createPostgresDatabase() : undefined;
const env: Record<string, string> = values.services
  ? {
      HSI_DATABASE_URL: process.env.HSI_BENCH_DATABASE_URL ?? database?.url ?? '',
      HSI_REDIS_URL: process.env.HSI_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
      HSI_REDIS_PREFIX: `hsi-bench-${process.pid}`,
    }
  : { HSI_DATABASE_URL: '', HSI_REDIS_URL: '' };

console.log(
  `HSI bench: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ` +
    `node ${process.version}, backends ${values.services ? 'PostgreSQL + Redis' : 'PGlite + in-process'}`,
);
const figures: Figure[] = [];
figures.push(...(await runStartupBench(quick ? 1 : 3)));
figures.push(
  ...(await runDetectionBench({
    images: quick ? 60 : 200,
    rounds: quick ? 1 : 3,
    rssImages: quick ? 300 : 10_000,
    env,
  })),
);
figures.push(...(await runIdentityBench({ env, images: quick ? 30 : 90, rounds: quick ? 1 : 3 })));
figures.push(...(await runEventsBench({ env, fastPath: quick ? 10 : 30, batches: quick ? 100 : 500 })));
figures.push(...(await runMqttBench(env)));
// The storage figure is about PostgreSQL (the production store); PGlite is measured for comparison.
const postgresUrl = process.env.HSI_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
figures.push(...(await runStorageBench('', quick ? 300 : 1000)));
figures.push(
  ...(await runStorageBench(postgresUrl, quick ? 300 : 1000).catch((error: unknown) => {
    console.warn(`storage bench on PostgreSQL skipped: ${String(error)}`);
    return [];
  })),
);
// Scale-out needs PostgreSQL + Redis whatever the run's backends (a split role set refuses the embedded ones).
const scaleImages = tempDir('hsi-bench-scale-');
figures.push(...(await runScaleBench(await makeImages(scaleImages, quick ? 60 : 200))));
rmSync(scaleImages, { recursive: true, force: true });
printTable(figures);
await database?.drop();
