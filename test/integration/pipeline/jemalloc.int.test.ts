import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixtureImage, jemallocLibrary, missingAsset, modelPath } from '../../support/env.js';
import { testEnvironment } from '../../support/hsi.js';
import { HsiProcess } from '../../support/process.js';

/**
 * The container image preloads jemalloc (Dockerfile, `LD_PRELOAD`) under onnxruntime, sharp/libvips and PGlite's
 * WebAssembly. This runs HSI the same way where the library is installed: it starts, detects a real photo through
 * the whole pipeline and stops cleanly, with the allocator really mapped into the process.
 */

const JEMALLOC = jemallocLibrary();
const PHOTO = fixtureImage('person_astronaut.png');
const skip =
  missingAsset(modelPath('yolox_nano.onnx'), PHOTO) ??
  (JEMALLOC === undefined ? 'jemalloc is not installed (Debian: apt install libjemalloc2)' : undefined);
if (skip) console.warn(`skipping the jemalloc run: ${skip}`);

describe.skipIf(skip !== undefined)('HSI with jemalloc preloaded, as in the image', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('detects a photo end to end and exits cleanly on SIGTERM', { timeout: 90_000 }, async () => {
    // A real first start (initdb under jemalloc too), as a fresh container does: no template database.
    const made = await testEnvironment(
      'pglite+memory',
      { HSI_LOG_LEVEL: 'debug', HSI_INGEST_STABLE_MS: '200', LD_PRELOAD: JEMALLOC! },
      { template: false },
    );
    cleanups.push(async () => rmSync(made.root, { recursive: true, force: true }));
    const hsi = HsiProcess.start(made.env, ['run'], existsSync(path.join('dist', 'cli.js')));
    cleanups.push(async () => void hsi.child.kill('SIGKILL'));
    await hsi.ready(45_000);
    const maps = readFileSync(`/proc/${hsi.child.pid}/maps`, 'utf8');
    expect(maps).toContain('libjemalloc.so.2');

    const camera = path.join(made.env.HSI_MEDIA_ROOT!, 'Porch');
    mkdirSync(camera, { recursive: true });
    copyFileSync(PHOTO, path.join(camera, 'astronaut.png'));
    const processed = await hsi.waitForLine((l) => l.msg === 'file processed', 30_000, 'the photo processed');
    expect(processed.detections).toBeGreaterThan(0);
    expect(await hsi.kill('SIGTERM')).toBe(0);
  });
});
