import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { defineFeature } from '../../../src/feature.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { startHsi } from '../../../src/main.js';
import { missingAsset, modelPath } from '../../support/env.js';
import { testEnvironment } from '../../support/hsi.js';

const skip = missingAsset(modelPath('yolox_nano.onnx'));

describe.skipIf(skip !== undefined)('the composition root (pglite+memory)', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it("starts a feature after HSI's own, stops it first, and after a failed start stops everything it started", async () => {
    const made = await testEnvironment('pglite+memory');
    cleanups.push(async () => {
      await made.dropDatabase();
      rmSync(made.root, { recursive: true, force: true });
    });
    const { config } = loadConfig({ env: made.env, cwd: made.root, optionsFile: path.join(made.root, 'none.json') });
    const seen: string[] = [];
    const recorder = defineFeature({
      name: 'recorder',
      roles: ['analyze'],
      async start(ctx, stop) {
        // Everything of the core started before: what it publishes is there.
        const running = ctx.running;
        seen.push(
          `started with ${[running.detector, running.ingest, running.aggregator, running.mqtt].filter((p) => p !== undefined).length} core parts`,
        );
        stop.push('recorder', async () => {
          // Stopped before the core: the database still answers.
          const cameras = await ctx.db.selectFrom('cameras').select('id').execute();
          seen.push(`stopped with the database open (${cameras.length} cameras)`);
        });
      },
    });
    const hsi = await startHsi(config, silentLogger(), { extraFeatures: [recorder] });
    await hsi.stop();
    expect(seen).toStrictEqual(['started with 4 core parts', 'stopped with the database open (0 cameras)']);

    const broken = defineFeature({
      name: 'broken',
      roles: ['api'],
      async start() {
        throw new Error('broken feature');
      },
    });
    await expect(startHsi(config, silentLogger(), { extraFeatures: [broken] })).rejects.toThrow('broken feature');
    // Nothing was left running: the embedded database (one process at a time, by its lock) opens again.
    const again = await startHsi(config, silentLogger());
    await again.stop();
  });
});
