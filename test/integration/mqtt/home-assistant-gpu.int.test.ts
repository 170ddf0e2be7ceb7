import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/lib/logger.js';
import { EmbeddedBroker } from '../../../src/mqtt/embedded-broker.js';
import { hubObjectId } from '../../../src/mqtt/topics.js';
import { missingAsset, modelPath } from '../../support/env.js';
import { componentProblems } from '../../support/ha-schema.js';
import { HomeAssistant, topicsOf } from '../../support/home-assistant.js';
import { testEnvironment } from '../../support/hsi.js';
import { HsiProcess } from '../../support/process.js';

/**
 * GPU telemetry end to end: HSI (a child process) finds a fake `nvidia-smi` on its PATH (the only stand-in: this
 * machine has no GPU), stores the samples, and Home Assistant discovers the GPU sensors on the hub and reads their
 * values from the retained `hsi/health/gpu` state.
 */

const skip = missingAsset(modelPath('yolox_nano.onnx'));
if (skip) console.warn(`skipping GPU sensor test: ${skip}`);

describe.skipIf(skip !== undefined)('GPU sensors in Home Assistant', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('discovers one set of sensors per GPU and publishes the newest sample', { timeout: 90_000 }, async () => {
    const bin = mkdtempSync(path.join(os.tmpdir(), 'hsi-fake-smi-'));
    cleanups.push(async () => rmSync(bin, { recursive: true, force: true }));
    writeFileSync(
      path.join(bin, 'nvidia-smi'),
      '#!/bin/sh\nprintf "NVIDIA GeForce RTX 3060, 37, 2150, 12288, 54, 71.32\\nTesla T4, 0, 3, 15360, [N/A], 9.87\\n"\n',
    );
    chmodSync(path.join(bin, 'nvidia-smi'), 0o755);
    const broker = new EmbeddedBroker({ host: '127.0.0.1', port: 0, username: '', password: '', log: silentLogger() });
    const url = await broker.start();
    cleanups.push(() => broker.stop());
    const made = await testEnvironment('pglite+memory', {
      HSI_MQTT_URL: url,
      HSI_HOMEASSISTANT_HEALTH_INTERVAL_S: '1',
      HSI_LOG_LEVEL: 'info',
      PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}`,
    });
    cleanups.push(async () => {
      await made.dropDatabase();
      rmSync(made.root, { recursive: true, force: true });
    });
    const topics = topicsOf(made.env);
    const ha = await HomeAssistant.connect(url, topics);
    cleanups.push(() => ha.close());
    const hsi = HsiProcess.start(made.env);
    cleanups.push(async () => void hsi.child.kill('SIGKILL'));
    await hsi.ready(45_000);

    const hubTopic = `${topics.prefix}/device/${hubObjectId(topics.base)}/config`;
    const hub = await ha.next(hubTopic, (p) => p.includes('gpu1_power'), 0, 30_000);
    const cmps = (JSON.parse(hub.payload) as { cmps: Record<string, Record<string, unknown>> }).cmps;
    const gpu = Object.entries(cmps).filter(([key]) => key.startsWith('gpu'));
    expect(gpu.map(([key]) => key).sort()).toStrictEqual(
      ['memory_used', 'power', 'temperature', 'utilization'].flatMap((k) => [`gpu0_${k}`, `gpu1_${k}`]).sort(),
    );
    expect(gpu.flatMap(([key, c]) => componentProblems(key, c))).toStrictEqual([]);
    expect(cmps.gpu1_temperature?.name).toBe('GPU 1 temperature');

    const state = await ha.next(ha.topic('health/gpu'), (p) => p.includes('RTX 3060'), 0, 30_000);
    const payload = JSON.parse(state.payload) as { gpus: unknown[]; recorded_at: string };
    expect(payload.gpus).toStrictEqual([
      {
        index: 0,
        name: 'NVIDIA GeForce RTX 3060',
        utilization_pct: 37,
        memory_used_mib: 2150,
        memory_total_mib: 12288,
        temperature_c: 54,
        power_w: 71.32,
      },
      {
        index: 1,
        name: 'Tesla T4',
        utilization_pct: 0,
        memory_used_mib: 3,
        memory_total_mib: 15360,
        temperature_c: null,
        power_w: 9.87,
      },
    ]);
    expect(Number.isNaN(Date.parse(payload.recorded_at))).toBe(false);
    await hsi.kill('SIGTERM');
  });
});
