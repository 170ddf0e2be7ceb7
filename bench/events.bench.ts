import { appendFileSync, copyFileSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { AlertService } from '../src/alerts/alert.service.js';
import { createAnalysisHandler } from '../src/analysis/analysis.worker.js';
import { OpenAiLlmClient } from '../src/analysis/llm-client.js';
import { loadConfig } from '../src/config/load.js';
import type { BusEvents } from '../src/domain/events.js';
import { systemClock } from '../src/lib/clock.js';
import { EventBus } from '../src/lib/event-bus.js';
import { createLogger } from '../src/lib/logger.js';
import { startHsi } from '../src/main.js';
import type { AnalysisJob } from '../src/queue/contracts.js';
import { openStore } from '../src/storage/connect.js';
import { migrate } from '../src/storage/migrate.js';
import { FakeLlmServer, json } from '../test/support/fake-llm.js';
import { seedDetections } from '../test/support/seed.js';
import { type Figure, makeImages, percentile, round, tempDir } from './support.js';

/**
 * Fast path: a confident person dropped into a camera folder, from "file stable" to its security event committed
 * (rules scorer). One upload at a time, each to its own camera (a camera's first confident person takes the fast
 * path; later ones join its batch).
 */
async function fastPathLatency(env: Record<string, string>, count: number): Promise<number[]> {
  const root = tempDir('hsi-bench-fp-');
  const { config } = loadConfig({
    env: {
      ...env,
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
  const imageDir = tempDir('hsi-bench-fp-img-');
  const images = (await makeImages(imageDir, count * 6)).filter((_, i) => i % 6 === 0);
  const latencies: number[] = [];
  for (const [i, file] of images.entries()) {
    const dir = path.join(config.media_root, `Fast ${i}`);
    const target = path.join(dir, path.basename(file));
    const done = new Promise<number>((resolve, reject) => {
      let stableAt = 0;
      const offProcessed = hsi.bus.on('media.processed', (e) => {
        stableAt = performance.now() - e.latencyMs;
      });
      const timer = setTimeout(() => {
        off();
        reject(new Error(`fast path bench: no fast-path event for ${target} within 30 s`));
      }, 30_000);
      const offEvent = hsi.bus.on('event.created', (e) => {
        if (!e.event.isFastPath) return;
        off();
        resolve(performance.now() - stableAt);
      });
      const off = () => {
        clearTimeout(timer);
        offProcessed();
        offEvent();
      };
    });
    mkdirSync(dir, { recursive: true });
    copyFileSync(file, target);
    // New bytes: on PostgreSQL the detection bench stored these very pictures already (a duplicate is not processed).
    appendFileSync(target, Buffer.from(`fast-path-${i}`));
    latencies.push(await done);
  }
  await hsi.stop();
  rmSync(root, { recursive: true, force: true });
  rmSync(imageDir, { recursive: true, force: true });
  return latencies;
}

/** Events per second through the analysis stage (prompt, LLM call to a local stand-in answering at once, storage). */
async function analysisThroughput(databaseUrl: string, batches: number): Promise<number> {
  const root = tempDir('hsi-bench-an-');
  const log = createLogger('warn');
  const store = await openStore({ url: databaseUrl, dataDir: root, poolSize: 4, log });
  await migrate(store, log);
  const llm = await FakeLlmServer.start();
  llm.reply(
    ...Array.from({ length: batches }, () =>
      json({ risk_score: 12, risk_level: 'low', summary: 'A car parked.', reasoning: 'Daytime.' }),
    ),
  );
  const bus = new EventBus<BusEvents>(log);
  const handler = createAnalysisHandler({
    db: store.db,
    bus,
    log,
    clock: systemClock,
    alerts: new AlertService({ db: store.db, bus, log, clock: systemClock }),
    llm: new OpenAiLlmClient({ url: llm.url, model: 'bench', timeoutMs: 5000, log }),
    timeZone: 'UTC',
  });
  const jobs: AnalysisJob[] = [];
  const camera = `bench_${process.pid}_${Date.now()}`;
  for (let i = 0; i < batches; i++) {
    const ids = await seedDetections(store.db, camera, [
      { objectType: 'car', confidence: 0.8 },
      { objectType: 'person', confidence: 0.7 },
    ]);
    const now = Date.now();
    jobs.push({
      batchId: `${camera}:${ids[0]}`,
      cameraId: camera,
      detectionIds: ids,
      isFastPath: false,
      reason: 'idle',
      startedAt: now,
      endedAt: now,
      closedAt: now,
    });
  }
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++]!;
      await handler(job, { id: job.batchId, attempt: 1, maxAttempts: 1 });
    }
  };
  await Promise.all([worker(), worker()]);
  const perSecond = batches / ((performance.now() - started) / 1000);
  await llm.close();
  await store.close();
  rmSync(root, { recursive: true, force: true });
  return perSecond;
}

export async function runEventsBench(options: {
  env: Record<string, string>;
  fastPath: number;
  batches: number;
}): Promise<Figure[]> {
  const latencies = await fastPathLatency(options.env, options.fastPath);
  const perSecond = await analysisThroughput(options.env.HSI_DATABASE_URL ?? '', options.batches);
  const p95 = percentile(latencies, 95);
  return [
    {
      name: 'fast path: stable -> event p50',
      value: `${round(percentile(latencies, 50))} ms`,
      target: '',
      ok: undefined,
    },
    { name: 'fast path: stable -> event p95', value: `${round(p95)} ms`, target: '<= 1000 ms', ok: p95 <= 1000 },
    { name: 'analysis stage (LLM stand-in, 0 ms)', value: `${round(perSecond)} events/s`, target: '', ok: undefined },
  ];
}
