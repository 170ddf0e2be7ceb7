import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileText, type GpuSampler, startGpuSampler } from '../../../src/features/gpu-stats/gpu-sampler.js';
import { FakeClock } from '../../../src/lib/clock.js';
import { createLogger } from '../../../src/lib/logger.js';
import { listGpuStats } from '../../../src/storage/gpu-stats.repository.js';
import { createTestStore, type TestStore } from '../../support/stores.js';

/** The sampler against a fake `nvidia-smi` (a shell script printing CSV) and a real database (PGlite). */

const T0 = Date.parse('2026-02-01T00:00:00Z');

function logSink() {
  const lines: { level: number; msg: string }[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { log: createLogger('info', stream), lines };
}

describe('GPU sampler with a fake nvidia-smi', () => {
  let t: TestStore;
  let dir: string;
  let script: string;
  const output = (text: string) => writeFileSync(path.join(dir, 'output.csv'), text);
  const calls: string[] = [];
  let settled = 0;
  const exec = async (file: string, args: readonly string[]) => {
    calls.push(file);
    try {
      return await execFileText(file, args);
    } finally {
      settled += 1;
    }
  };
  /** Waits until `n` runs of nvidia-smi have finished and the sampler has taken their result. */
  const ran = async (n: number) => {
    await expect.poll(() => settled).toBe(n);
    await new Promise((resolve) => setTimeout(resolve, 20));
  };
  let sampler: GpuSampler | undefined;

  beforeAll(async () => {
    t = await createTestStore('pglite');
    dir = mkdtempSync(path.join(os.tmpdir(), 'hsi-gpu-'));
    script = path.join(dir, 'nvidia-smi');
    writeFileSync(
      script,
      [
        '#!/bin/sh',
        'want="--query-gpu=name,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw"',
        '[ "$1" = "$want" ] && [ "$2" = "--format=csv,noheader,nounits" ] || { echo "bad args: $*" >&2; exit 2; }',
        '[ -f "$(dirname "$0")/fail" ] && { echo "NVIDIA-SMI has failed" >&2; exit 9; }',
        'cat "$(dirname "$0")/output.csv"',
        '',
      ].join('\n'),
    );
    chmodSync(script, 0o755);
  });
  afterAll(async () => {
    await sampler?.stop();
    await t?.dispose();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('stores one row per GPU per sample and keeps the latest reading; failures are logged once', async () => {
    const clock = new FakeClock(T0);
    const { log, lines } = logSink();
    output('NVIDIA GeForce RTX 3060, 37, 2150, 12288, 54, 71.32\nTesla T4, 0, 3, 15360, 33, 9.87\n');
    sampler = startGpuSampler({
      db: t.store.db,
      log,
      clock,
      intervalMs: 10_000,
      nvidiaSmi: script,
      exec,
      inferenceFps: () => 12.5,
    });
    await expect.poll(() => sampler?.latest()?.gpus.length).toBe(2);
    expect(sampler.latest()).toStrictEqual({
      at: new Date(T0),
      inferenceFps: 12.5,
      gpus: [
        {
          gpuName: 'NVIDIA GeForce RTX 3060',
          gpuUtilization: 37,
          memoryUsed: 2150,
          memoryTotal: 12288,
          temperature: 54,
          powerUsage: 71.32,
        },
        {
          gpuName: 'Tesla T4',
          gpuUtilization: 0,
          memoryUsed: 3,
          memoryTotal: 15360,
          temperature: 33,
          powerUsage: 9.87,
        },
      ],
    });
    await expect.poll(async () => (await listGpuStats(t.store.db)).length).toBe(2);

    await ran(1);
    writeFileSync(path.join(dir, 'fail'), '');
    clock.advance(10_000);
    await ran(2);
    clock.advance(10_000);
    await ran(3);
    rmSync(path.join(dir, 'fail'));
    output('NVIDIA Jetson Orin, [N/A], [N/A], [N/A], 48, [Not Supported]\n');
    clock.advance(10_000);
    await expect.poll(() => sampler?.latest()?.at.getTime()).toBe(T0 + 30_000);
    await expect.poll(async () => (await listGpuStats(t.store.db)).length).toBe(3);
    const stored = await listGpuStats(t.store.db);
    expect(stored.map(({ id, ...s }) => s).at(-1)).toStrictEqual({
      recordedAt: new Date(T0 + 30_000),
      gpuName: 'NVIDIA Jetson Orin',
      gpuUtilization: null,
      memoryUsed: null,
      memoryTotal: null,
      temperature: 48,
      powerUsage: null,
      inferenceFps: 12.5,
    });
    expect(stored.map((s) => s.recordedAt.getTime() - T0)).toStrictEqual([0, 0, 30_000]);
    expect(lines.map((l) => [l.level, l.msg])).toStrictEqual([
      [40, 'nvidia-smi failed; GPU statistics paused until it works'],
    ]);
    expect(sampler.enabled()).toBe(true);
    await sampler.stop();
    clock.advance(60_000);
    expect(calls).toHaveLength(4);
  });

  it('disables itself with one info line when nvidia-smi does not exist', async () => {
    const clock = new FakeClock(T0);
    const { log, lines } = logSink();
    const before = calls.length;
    const missing = startGpuSampler({
      db: t.store.db,
      log,
      clock,
      intervalMs: 1000,
      nvidiaSmi: path.join(dir, 'nope'),
      exec,
    });
    await expect.poll(() => missing.enabled()).toBe(false);
    clock.advance(10_000);
    await missing.stop();
    expect(calls.length - before).toBe(1);
    expect(missing.latest()).toBeUndefined();
    expect(lines.map((l) => [l.level, l.msg])).toStrictEqual([[30, 'nvidia-smi not found: GPU statistics disabled']]);
  });
});
