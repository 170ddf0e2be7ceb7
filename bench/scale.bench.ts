import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { backendsUnavailable, testEnvironment } from '../test/support/hsi.js';
import { until } from '../test/support/mqtt-watcher.js';
import { HsiProcess } from '../test/support/process.js';
import { type Figure, round } from './support.js';

const built = () => existsSync(path.join('dist', 'cli.js'));
const processed = (p: HsiProcess) => p.lines.filter((l) => l.msg === 'file processed').length;

/**
 * Scale-out throughput: a front process (`--roles ingest,analyze,bridge,api`) and `detectors` processes with
 * `--roles detect` sharing the work through BullMQ on PostgreSQL + Redis. Seconds from the first file written to
 * the last one processed; each run on a database and Redis prefix of its own.
 */
async function scaleRun(files: readonly string[], detectors: number): Promise<{ perSecond: number; shares: number[] }> {
  const { env, root, dropDatabase } = await testEnvironment('postgres+redis', {
    HSI_LOG_LEVEL: 'debug',
    HSI_INGEST_STABLE_MS: '200',
    HSI_MQTT_URL: '', // the embedded broker: the bench measures detection, not Mosquitto
  });
  const processes: HsiProcess[] = [];
  try {
    const front = HsiProcess.start(env, ['run', '--roles', 'ingest,analyze,bridge,api'], built());
    processes.push(front);
    await front.ready(60_000); // migrates before the detect processes start
    const detect = Array.from({ length: detectors }, () =>
      HsiProcess.start(env, ['run', '--roles', 'detect'], built()),
    );
    processes.push(...detect);
    await Promise.all(detect.map((d) => d.ready(60_000)));
    const camera = path.join(env.HSI_MEDIA_ROOT!, 'Bench');
    mkdirSync(camera, { recursive: true });
    const start = performance.now();
    for (const file of files) copyFileSync(file, path.join(camera, path.basename(file)));
    // Polled: a log-line wait on one process would only look again when that process logs something.
    await until(
      () => detect.reduce((n, d) => n + processed(d), 0) >= files.length,
      300_000,
      `${files.length} files processed by ${detectors} detect process(es)`,
    );
    const seconds = (performance.now() - start) / 1000;
    return { perSecond: files.length / seconds, shares: detect.map(processed) };
  } finally {
    await Promise.all(processes.map((p) => p.kill('SIGTERM')));
    await dropDatabase();
    rmSync(root, { recursive: true, force: true });
  }
}

/** Throughput with one and with two detect processes; skipped with the reason when PostgreSQL or Redis is down. */
export async function runScaleBench(files: readonly string[]): Promise<Figure[]> {
  const unavailable = await backendsUnavailable('postgres+redis');
  if (unavailable) {
    console.warn(`scale-out bench skipped: ${unavailable}`);
    return [];
  }
  const one = await scaleRun(files, 1);
  const two = await scaleRun(files, 2);
  const ratio = two.perSecond / one.perSecond;
  return [
    { name: 'scale-out: 1 detect process', value: `${round(one.perSecond)} img/s`, target: 'baseline', ok: undefined },
    {
      name: `scale-out: 2 detect processes (files ${two.shares.join(' / ')})`,
      value: `${round(two.perSecond)} img/s`,
      target: '',
      ok: undefined,
    },
    {
      name: 'scale-out: 2 / 1',
      value: round(ratio, 2).toFixed(2),
      target: 'work on both',
      ok: two.shares.every((n) => n > 0),
    },
  ];
}
