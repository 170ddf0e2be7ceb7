import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { loadConfig } from '../src/config/load.js';
import type { BBox } from '../src/domain/detection.js';
import type { DecodedFrame } from '../src/enrichment/contract.js';
import { loadFaceDetector } from '../src/features/identity/models/face-detector.js';
import { loadFaceEmbedder } from '../src/features/identity/models/face-embedder.js';
import { embedPerson, findFaces } from '../src/features/identity/models/person-faces.js';
import { loadReidEmbedder } from '../src/features/identity/models/reid-model.js';
import { silentLogger } from '../src/lib/logger.js';
import type { Hsi } from '../src/main.js';
import { OnnxModelRuntime } from '../src/models/model-runtime.js';
import { startBenchHsi } from './detection.bench.js';
import { assetsDir, type Figure, makeImages, percentile, round, tempDir } from './support.js';

const PEOPLE = ['person_astronaut.png', 'person_cameraman_gray.png', 'person_dog_horse.jpg'];

/**
 * What identity costs: per person detection on the CPU (re-id embed, the face pipeline: detect, gate, embed), as the
 * enrichment stage runs them on each frame's person crops; then the whole pipeline's throughput until every file's
 * detections are enriched, identity on against identity off, in paired rounds (the median of the pair ratios).
 */
export async function runIdentityBench(options: { env: Record<string, string>; images: number; rounds: number }) {
  const figures: Figure[] = [...(await perDetectionCosts(options.rounds * 20))];
  const imageDir = tempDir('hsi-bench-id-');
  const images = await makeImages(imageDir, options.images);
  const off: number[] = [];
  const on: number[] = [];
  for (let r = 0; r < options.rounds; r++) {
    off.push(await throughput(options.env, images, false));
    on.push(await throughput(options.env, images, true));
  }
  rmSync(imageDir, { recursive: true, force: true });
  const ratios = on.map((v, i) => v / off[i]!);
  const note = (values: number[]) => (values.length > 1 ? ` (rounds: ${values.map((v) => round(v)).join(', ')})` : '');
  figures.push(
    {
      name: 'pipeline, detection only',
      value: `${round(percentile(off, 50))} img/s${note(off)}`,
      target: 'baseline',
      ok: undefined,
    },
    {
      name: 'pipeline, detection + identity (enriched)',
      value: `${round(percentile(on, 50))} img/s${note(on)}`,
      target: '',
      ok: undefined,
    },
    {
      name: 'identity on / off, median of paired rounds',
      value: round(percentile(ratios, 50), 2).toFixed(2),
      target: 'for reference',
      ok: undefined,
    },
  );
  return figures;
}

/** Median ms per person detection of each identity step, on the people of the shared photos. */
async function perDetectionCosts(calls: number): Promise<Figure[]> {
  const { config } = loadConfig({ env: { HSI_DETECTOR_DEVICE: 'cpu' }, optionsFile: '/nonexistent.json' });
  const runtime = new OnnxModelRuntime({ config, log: silentLogger() });
  try {
    const detector = await runtime.detector();
    const reid = await loadReidEmbedder(runtime, config.identity.reid_model);
    const faces = {
      detector: await loadFaceDetector(runtime, config.identity.faces.detector_model),
      embedder: await loadFaceEmbedder(runtime, config.identity.faces.embedding_model),
      gates: { minFacePx: config.identity.faces.min_face_px, minSharpness: config.identity.faces.min_sharpness },
    };
    const people: { frame: DecodedFrame; box: BBox }[] = [];
    for (const file of PEOPLE) {
      const bytes = readFileSync(path.join(assetsDir(), 'fixtures', 'images', file));
      const person = (await detector.detect(bytes)).detections.find((d) => d.label === 'person');
      if (person === undefined) throw new Error(`${file}: the detector found no person`);
      const { data, info } = await sharp(bytes).rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true });
      people.push({ frame: { frameIndex: null, width: info.width, height: info.height, data }, box: person.box });
    }
    const time = async (step: (i: number) => Promise<unknown>) => {
      await step(0);
      const ms: number[] = [];
      for (let i = 0; i < calls; i++) {
        const started = performance.now();
        await step(i);
        ms.push(performance.now() - started);
      }
      return percentile(ms, 50);
    };
    const of = (i: number) => people[i % people.length]!;
    const reidMs = await time((i) => embedPerson(of(i).frame, of(i).box, reid));
    const facesMs = await time((i) => findFaces(of(i).frame, of(i).box, faces));
    const row = (name: string, ms: number): Figure => ({
      name,
      value: `${round(ms)} ms`,
      target: 'CPU, median',
      ok: undefined,
    });
    return [
      row('identity per person: re-id embed', reidMs),
      row('identity per person: faces (detect, gate, embed)', facesMs),
      row('identity per person: total', reidMs + facesMs),
    ];
  } finally {
    await runtime.close();
  }
}

/** Files per second from the first file queued until every file is detected and, with identity, enriched. */
async function throughput(env: Record<string, string>, files: string[], identity: boolean): Promise<number> {
  const root = tempDir('hsi-bench-idtp-');
  const { config, start } = startBenchHsi({ ...env, HSI_IDENTITY_ENABLED: identity ? 'true' : 'false' }, root);
  const hsi = await start();
  try {
    await hsi.reconciled;
    return files.length / (await burstUntilEnriched(hsi, config.media_root, files, identity));
  } finally {
    await hsi.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

async function burstUntilEnriched(hsi: Hsi, mediaRoot: string, files: string[], identity: boolean): Promise<number> {
  const camera = path.join(mediaRoot, 'Bench');
  mkdirSync(camera, { recursive: true });
  let firstQueuedAt: number | undefined;
  let done = 0;
  const finished = new Promise<void>((resolve) => {
    const count = () => {
      done += 1;
      if (done === files.length) resolve();
    };
    hsi.bus.on('media.ingested', () => {
      firstQueuedAt ??= performance.now();
    });
    // A file without detections is finished when processed; one with detections when enriched (identity on).
    hsi.bus.on('media.processed', (e) => {
      if (!identity || e.detectionCount === 0) count();
    });
    hsi.bus.on('media.rejected', count);
    hsi.bus.on('media.duplicate', count);
    if (identity) hsi.bus.on('detection.enriched', count);
  });
  for (const file of files) copyFileSync(file, path.join(camera, path.basename(file)));
  await finished;
  return (performance.now() - (firstQueuedAt ?? Number.NaN)) / 1000;
}
