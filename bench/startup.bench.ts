import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { type Figure, percentile, round, tempDir } from './support.js';

/** Wall time from spawning `hsi run` on embedded backends to its "HSI ready" log line. */
async function startOnce(env: Record<string, string>, root: string): Promise<number> {
  const built = existsSync(path.join('dist', 'cli.js'));
  const args = built ? [path.join('dist', 'cli.js'), 'run'] : ['--import', 'tsx', path.join('src', 'cli.ts'), 'run'];
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    env: {
      ...process.env,
      ...env,
      HSI_DATA_DIR: path.join(root, 'data'),
      HSI_MQTT_EMBEDDED_PORT: '0',
      HSI_HTTP_PORT: '0',
      HSI_MEDIA_ROOT: path.join(root, 'media'),
      HSI_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ms = await new Promise<number>((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout });
    rl.on('line', (line) => {
      if (line.includes('"HSI ready"')) resolve(performance.now() - started);
    });
    child.once('exit', (code) => reject(new Error(`hsi exited with ${code} before ready`)));
  });
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  return ms;
}

/**
 * First start (PGlite creates its database cluster: initdb) and later starts on the same data folder (what a user
 * sees at every restart), embedded backends.
 */
export async function runStartupBench(runs: number): Promise<Figure[]> {
  const root = tempDir('hsi-bench-start-');
  const env = { HSI_DATABASE_URL: '', HSI_REDIS_URL: '' };
  const first = await startOnce(env, root);
  const warm: number[] = [];
  for (let i = 0; i < runs; i++) warm.push(await startOnce(env, root));
  rmSync(root, { recursive: true, force: true });
  const p50 = percentile(warm, 50);
  const which = existsSync(path.join('dist', 'cli.js')) ? 'dist' : 'tsx';
  return [
    {
      name: `first start -> ready (creates the database, ${which})`,
      value: `${round(first / 1000, 2)} s`,
      target: '',
      ok: undefined,
    },
    {
      name: `start -> ready (embedded, ${which}), median of ${runs}`,
      value: `${round(p50 / 1000, 2)} s`,
      target: '<= 3 s',
      ok: p50 <= 3000,
    },
  ];
}
