import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnrichmentResult, FrameProcessor } from '../../../src/enrichment/contract.js';
import { cropFrame } from '../../../src/enrichment/crops.js';
import { createEnrichmentHandler } from '../../../src/enrichment/enrichment.worker.js';
import type { Feature } from '../../../src/feature.js';
import { systemClock } from '../../../src/lib/clock.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { enrichmentRunsOf, mergeEnrichmentData } from '../../../src/storage/enrichment.repository.js';
import { ffmpegMissing, makePhotoClip } from '../../support/clips.js';
import { fixtureImage, missingAsset, modelPath } from '../../support/env.js';
import { startTestHsi, type TestHsi, waitFor, waitForMedia } from '../../support/hsi.js';

/** Mean of each channel over a crop: proves the processor got the decoded frame and the detection's box. */
function meanRgb(data: Buffer): number[] {
  const sums = [0, 0, 0];
  for (let i = 0; i < data.length; i += 3) {
    sums[0]! += data[i]!;
    sums[1]! += data[i + 1]!;
    sums[2]! += data[i + 2]!;
  }
  const n = data.length / 3;
  return sums.map((s) => Math.round(s / n));
}

/** A processor on person crops that stores each crop's size and mean colour in enrichment_data, slowly. */
function cropStats(calls: { frames: number; loaded: boolean }): FrameProcessor {
  return {
    name: 'crop-stats',
    appliesTo: ['person'],
    async load(models) {
      calls.loaded = models.device === 'cpu' || models.device === 'auto' || models.device === 'cuda';
    },
    async process(frame, detections) {
      calls.frames += 1;
      // Slow on purpose: the event must still wait for it.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      return detections.map((d): EnrichmentResult => {
        const crop = cropFrame(frame, d.bbox);
        if (crop === undefined) throw new Error(`box of detection ${d.id} is outside the frame`);
        return {
          detectionId: d.id,
          data: { width: crop.width, height: crop.height, frame: [frame.width, frame.height], rgb: meanRgb(crop.data) },
        };
      });
    },
    async persist(tx, _mediaFileId, results) {
      for (const r of results)
        if (r.detectionId !== null) await mergeEnrichmentData(tx, r.detectionId, 'crop_stats', r.data);
    },
    async close() {},
  };
}

/** A processor that fails on every frame: the others and the event must not notice. */
const broken: FrameProcessor = {
  name: 'broken',
  appliesTo: 'frame',
  async load() {},
  async process() {
    throw new Error('model exploded');
  },
  async persist() {
    throw new Error('never called: no results');
  },
  async close() {},
};

/** A processor that fails on a clip's second frame only: partial, with the other frames' results kept. */
const flaky: FrameProcessor = {
  name: 'flaky',
  appliesTo: ['person'],
  async load() {},
  async process(frame, detections) {
    if (frame.frameIndex === 1) throw new Error('frame 1 unreadable');
    return detections.map((d) => ({ detectionId: d.id, data: { frame: frame.frameIndex } }));
  },
  async persist(tx, _mediaFileId, results) {
    for (const r of results) if (r.detectionId !== null) await mergeEnrichmentData(tx, r.detectionId, 'flaky', r.data);
  },
  async close() {},
};

const assetsMissing = missingAsset(modelPath('yolox_nano.onnx'), fixtureImage('person_astronaut.png'));
const clipSkip = await ffmpegMissing();

describe.skipIf(assetsMissing !== undefined)('the enrichment stage on the real detector (pglite+memory)', () => {
  let t: TestHsi;
  const calls = { frames: 0, loaded: false };
  const eventsSeen: { eventId: number; runs: string[] }[] = [];

  beforeAll(async () => {
    const feature: Feature = {
      name: 'test-enrichers',
      roles: [],
      enabled: () => true,
      frameProcessors: () => [cropStats(calls), broken, flaky],
    };
    t = await startTestHsi('pglite+memory', { HSI_BATCHING_IDLE_SECONDS: '2' }, { extraFeatures: [feature] });
    // What was recorded for the file at the moment its event was announced.
    t.hsi.bus.on('event.created', async ({ event }) => {
      const links = await t.hsi.store.db
        .selectFrom('event_detections as ed')
        .innerJoin('detections as d', 'd.id', 'ed.detection_id')
        .select('d.media_file_id')
        .where('ed.event_id', '=', event.id)
        .executeTakeFirst();
      const runs = links === undefined ? [] : await enrichmentRunsOf(t.hsi.store.db, links.media_file_id);
      eventsSeen.push({ eventId: event.id, runs: runs.map((r) => `${r.processor}:${r.status}`) });
    });
    await t.hsi.reconciled;
  });
  afterAll(async () => t?.dispose());

  it('runs each processor once on the decoded photo, isolates the failing one, and only then makes the event', async () => {
    mkdirSync(path.join(t.mediaRoot, 'porch'), { recursive: true });
    copyFileSync(fixtureImage('person_astronaut.png'), path.join(t.mediaRoot, 'porch', 'a.png'));
    const media = await waitForMedia(t.hsi.store.db, 'porch/a.png');
    const runs = await waitFor(
      async () => {
        const rows = await enrichmentRunsOf(t.hsi.store.db, media.id);
        return rows.length === 3 ? rows : undefined;
      },
      20_000,
      'every processor recorded',
    );
    expect(calls.loaded).toBe(true);
    expect(runs.map((r) => [r.processor, r.status, r.results])).toStrictEqual([
      ['broken', 'failed', 0],
      ['crop-stats', 'success', 1],
      ['flaky', 'success', 1],
    ]);
    expect(runs[0]?.error).toBe('broken: model exploded');
    expect(runs[1]?.duration_ms).toBeGreaterThanOrEqual(1400);

    const person = await t.hsi.store.db
      .selectFrom('detections')
      .selectAll()
      .where('media_file_id', '=', media.id)
      .where('object_type', '=', 'person')
      .executeTakeFirstOrThrow();
    const stats = (person.enrichment_data as { crop_stats: { width: number; height: number; frame: number[] } })
      .crop_stats;
    // The crop is the detection's box (rounded out to whole pixels) in the 512x512 photo.
    expect(stats.frame).toStrictEqual([512, 512]);
    expect(Math.abs(stats.width - person.bbox_width)).toBeLessThanOrEqual(2);
    expect(Math.abs(stats.height - person.bbox_height)).toBeLessThanOrEqual(2);

    const seen = await waitFor(async () => eventsSeen[0], 20_000, 'the event');
    // The aggregator batched the detections only once enriched: both runs were already recorded.
    expect(seen.runs).toStrictEqual(['broken:failed', 'crop-stats:success', 'flaky:success']);
    expect(calls.frames).toBe(1);
  });

  it('runs on a replayed job only the processors that have no run yet, and announces only then', async () => {
    const media = await waitForMedia(t.hsi.store.db, 'porch/a.png');
    const replay = { frames: 0, loaded: false };
    const handler = createEnrichmentHandler({
      db: t.hsi.store.db,
      bus: t.hsi.bus,
      log: silentLogger(),
      clock: systemClock,
      mediaRoot: t.mediaRoot,
      processors: [cropStats(replay), broken],
      extractFrames: async () => [],
    });
    const enriched: string[][] = [];
    const off = t.hsi.bus.on('detection.enriched', (e) => {
      enriched.push(e.outcomes.map((o) => `${o.processor}:${o.status}`));
    });
    const job = { mediaFileId: media.id, cameraId: 'porch', queuedAt: Date.now() };
    const ctx = { id: 'enrich-replay', attempt: 1, maxAttempts: 3 };
    try {
      await handler(job, ctx);
      expect(replay.frames).toBe(0);
      expect(enriched).toStrictEqual([]);
      await t.hsi.store.db.deleteFrom('enrichment_runs').where('processor', '=', 'broken').execute();
      await handler(job, ctx);
      expect(replay.frames).toBe(0);
      expect(enriched).toStrictEqual([['broken:failed']]);
    } finally {
      off();
    }
  });

  it.skipIf(clipSkip !== undefined)(
    "decodes a clip's detected frames once each and gives each processor its frame's detections",
    async () => {
      const before = calls.frames;
      makePhotoClip(path.join(t.mediaRoot, 'drive', 'clip.mp4'));
      const media = await waitForMedia(t.hsi.store.db, 'drive/clip.mp4', 30_000);
      const runs = await waitFor(
        async () => {
          const rows = await enrichmentRunsOf(t.hsi.store.db, media.id);
          return rows.length === 3 ? rows : undefined;
        },
        30_000,
        'every processor recorded on the clip',
      );
      const people = await t.hsi.store.db
        .selectFrom('detections')
        .selectAll()
        .where('media_file_id', '=', media.id)
        .where('object_type', '=', 'person')
        .orderBy('frame_index')
        .execute();
      // One sampled frame a second: the astronaut in frames 0, 1 and 2, each frame decoded and processed once.
      expect(people.map((p) => p.frame_index)).toStrictEqual([0, 1, 2]);
      expect(calls.frames - before).toBe(3);
      expect(runs.map((r) => [r.processor, r.status, r.results, r.error])).toStrictEqual([
        ['broken', 'failed', 0, 'broken: model exploded'],
        ['crop-stats', 'success', 3, null],
        // Frame 1 failed, frames 0 and 2 kept their results.
        ['flaky', 'partial', 2, 'flaky: frame 1 unreadable'],
      ]);
      expect(people.map((p) => (p.enrichment_data as { flaky?: unknown }).flaky ?? null)).toStrictEqual([
        { frame: 0 },
        null,
        { frame: 2 },
      ]);
      for (const person of people) {
        const stats = (person.enrichment_data as { crop_stats: { frame: number[]; width: number } }).crop_stats;
        expect(stats.frame).toStrictEqual([512, 512]);
        expect(Math.abs(stats.width - person.bbox_width)).toBeLessThanOrEqual(2);
      }
    },
  );
});
