/**
 * Measures the identity thresholds on real photos (run: `npx tsx bench/identity-thresholds.ts`; models and photos
 * from HSI_ASSETS_DIR, default ../shared). Persons are found by the real detector (YOLOX-Nano); each person is seen
 * again under augmentations of the whole photo (box jitter ±10%, scale 0.5/0.75, mirror, gaussian blur σ 1/2,
 * brightness 0.6/1.4, JPEG quality 40). Prints the same-person and different-person cosine distributions for the
 * re-id vector and the face vector, the face quality numbers, and per-call CPU latencies. The figures and the
 * chosen thresholds are in docs/IDENTITY-THRESHOLDS.md.
 */
import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import sharp, { type Sharp } from 'sharp';
import { createSession } from '../src/detection/execution-provider.js';
import { OnnxObjectDetector } from '../src/detection/onnx-detector.js';
import type { BBox } from '../src/domain/detection.js';
import type { DecodedFrame } from '../src/enrichment/contract.js';
import { cropFrame } from '../src/enrichment/crops.js';
import type { Embedder } from '../src/features/identity/contract.js';
import { loadFaceDetector } from '../src/features/identity/models/face-detector.js';
import { loadFaceEmbedder } from '../src/features/identity/models/face-embedder.js';
import { embedPerson, type FaceFinding, findFaces, headRegion } from '../src/features/identity/models/person-faces.js';
import { loadReidEmbedder } from '../src/features/identity/models/reid-model.js';
import { cosine } from '../src/features/identity/vectors.js';
import { silentLogger } from '../src/lib/logger.js';
import type { ModelRuntime } from '../src/models/model-runtime.js';
import { assetsDir } from './support.js';

/** The gates the service defaults to (`identity.faces.min_face_px`, `min_sharpness`). */
const GATES = { minFacePx: 32, minSharpness: 20 };
const SHARED_PHOTOS = ['person_astronaut.png', 'person_cameraman_gray.png', 'person_dog_horse.jpg'];
/** More people, with source and licence in test/fixtures/people/SOURCES.md. */
const PEOPLE_DIR = fileURLToPath(new URL('../test/fixtures/people/', import.meta.url));

interface Photo {
  file: string;
  /**
   * Photos of one circle may show the same person again (the group photos are one photographer's friends), so a
   * pair across two photos of one circle is neither "same person" nor surely "different people".
   */
  circle?: string;
}

async function photos(): Promise<Photo[]> {
  const shared = SHARED_PHOTOS.map((name) => ({ file: path.join(assetsDir(), 'fixtures', 'images', name) }));
  const people = (await readdir(PEOPLE_DIR))
    .filter((name) => /\.(jpe?g|png)$/i.test(name))
    .sort()
    .map((name) => ({
      file: path.join(PEOPLE_DIR, name),
      ...(name.startsWith('group') ? { circle: 'group' } : {}),
    }));
  return [...shared, ...people];
}
const log = silentLogger();
const model = (file: string) => path.join(assetsDir(), 'models', file);

/** A CPU-only runtime: sessions as HSI opens them, no detector. */
const runtime: ModelRuntime = {
  device: 'cpu',
  detector: () => Promise.reject(new Error('no detector in this bench')),
  session: async (modelPath) => ({ modelPath, ...(await createSession({ modelPath, device: 'cpu', log })) }),
  close: async () => {},
};

interface Shot {
  frame: DecodedFrame;
  box: BBox;
}

type Augment = (shot: Shot) => Promise<Shot>;

async function fromSharp(image: Sharp): Promise<DecodedFrame> {
  const { data, info } = await image.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { frameIndex: null, width: info.width, height: info.height, data };
}

const rawOf = (frame: DecodedFrame) =>
  sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } });

const jitter =
  (dx: number, dy: number, dw: number, dh: number): Augment =>
  async ({ frame, box }) => ({
    frame,
    box: {
      x: box.x + dx * box.width,
      y: box.y + dy * box.height,
      width: box.width * (1 + dw),
      height: box.height * (1 + dh),
    },
  });

const scale =
  (factor: number): Augment =>
  async ({ frame, box }) => ({
    frame: await fromSharp(rawOf(frame).resize(Math.round(frame.width * factor), Math.round(frame.height * factor))),
    box: { x: box.x * factor, y: box.y * factor, width: box.width * factor, height: box.height * factor },
  });

const AUGMENTS: Record<string, Augment> = {
  original: async (shot) => shot,
  'crop +10%': jitter(-0.05, -0.05, 0.1, 0.1),
  'crop -10%': jitter(0.05, 0.05, -0.1, -0.1),
  'shift left 10%': jitter(-0.1, 0, 0, 0),
  'shift down 10%': jitter(0, 0.1, 0, 0),
  'scale 0.75': scale(0.75),
  'scale 0.5': scale(0.5),
  flip: async ({ frame, box }) => ({
    frame: await fromSharp(rawOf(frame).flop()),
    box: { ...box, x: frame.width - box.x - box.width },
  }),
  'blur σ1': async ({ frame, box }) => ({ frame: await fromSharp(rawOf(frame).blur(1)), box }),
  'blur σ2': async ({ frame, box }) => ({ frame: await fromSharp(rawOf(frame).blur(2)), box }),
  'brightness 0.6': async ({ frame, box }) => ({ frame: await fromSharp(rawOf(frame).linear(0.6, 0)), box }),
  'brightness 1.4': async ({ frame, box }) => ({ frame: await fromSharp(rawOf(frame).linear(1.4, 0)), box }),
  'jpeg q40': async ({ frame, box }) => ({
    frame: await fromSharp(sharp(await rawOf(frame).jpeg({ quality: 40 }).toBuffer())),
    box,
  }),
};

interface Sample {
  person: string;
  photo: string;
  circle: string | undefined;
  /** The best face's box in the original photo's pixels (the augment undone), to spot one face given to two people. */
  faceBox: BBox | undefined;
  augment: string;
  reid: Float32Array | undefined;
  faces: FaceFinding[];
}

function stats(values: number[]): string {
  if (values.length === 0) return 'n=0';
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(p * (sorted.length - 1))))]!;
  const f = (v: number) => v.toFixed(3);
  return `n=${sorted.length} min ${f(sorted[0]!)} p5 ${f(at(0.05))} median ${f(at(0.5))} p95 ${f(at(0.95))} max ${f(sorted.at(-1)!)}`;
}

/**
 * Cosine of every pair of samples. With skipSharedFaces, a pair of two people on one photo whose best faces are the
 * same face (a neighbour's face inside a group photo's head region) is left out: that is attribution, not the model.
 */
function pairs(samples: Sample[], vectorOf: (s: Sample) => Float32Array | undefined, skipSharedFaces = false) {
  const same: number[] = [];
  const different: number[] = [];
  const samePhoto: number[] = [];
  const unknown: number[] = [];
  const worstSame: { value: number; label: string } = { value: 2, label: '' };
  const worstDifferent: { value: number; label: string } = { value: -2, label: '' };
  for (let i = 0; i < samples.length; i++) {
    for (let j = i + 1; j < samples.length; j++) {
      const si = samples[i]!;
      const sj = samples[j]!;
      const a = vectorOf(si);
      const b = vectorOf(sj);
      if (a === undefined || b === undefined) continue;
      const value = cosine(a, b);
      if (si.person === sj.person) {
        same.push(value);
        if (value < worstSame.value) Object.assign(worstSame, { value, label: `${si.augment} vs ${sj.augment}` });
      } else if (si.photo !== sj.photo && si.circle !== undefined && si.circle === sj.circle) {
        unknown.push(value);
      } else {
        if (skipSharedFaces && si.photo === sj.photo && si.faceBox && sj.faceBox && iou(si.faceBox, sj.faceBox) > 0.5) {
          continue;
        }
        different.push(value);
        if (si.photo === sj.photo) samePhoto.push(value);
        if (value > worstDifferent.value) {
          Object.assign(worstDifferent, {
            value,
            label: `${si.person} ${si.augment} vs ${sj.person} ${sj.augment}`,
          });
        }
      }
    }
  }
  return { same, different, samePhoto, unknown, worstSame, worstDifferent };
}

async function median(runs: number, call: () => Promise<unknown>): Promise<number> {
  await call();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await call();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

async function main(): Promise<void> {
  const detector = await OnnxObjectDetector.create({
    modelPath: model('yolox_nano.onnx'),
    modelType: 'yolox',
    device: 'cpu',
    scoreThreshold: 0.3,
    nmsIou: 0.45,
    maxPixels: 40_000_000,
    log,
  });
  const reid = await loadReidEmbedder(runtime, model('person-reidentification-retail-0248.onnx'));
  const faceDetector = await loadFaceDetector(runtime, model('version-RFB-320.onnx'));
  const faceEmbedder = await loadFaceEmbedder(runtime, model('MobileFaceNet.onnx'));
  // Gates open: every detected face is embedded, so the measurement sees them all.
  const tools = { detector: faceDetector, embedder: faceEmbedder, gates: { minFacePx: 8, minSharpness: 0 } };

  const samples: Sample[] = [];
  const originals: Shot[] = [];
  for (const { file, circle } of await photos()) {
    const photo = path.basename(file);
    const bytes = await readFile(file);
    const frame = await fromSharp(sharp(bytes));
    const persons = (await detector.detect(bytes)).detections.filter(
      (d) => d.label === 'person' && d.confidence >= 0.5,
    );
    persons.forEach((person, index) => {
      originals.push({ frame, box: person.box });
      console.log(`${photo} person ${index}: confidence ${person.confidence.toFixed(2)}, box ${boxText(person.box)}`);
    });
    const originalFaces: (BBox | undefined)[] = [];
    for (const [index, person] of persons.entries()) {
      for (const [augment, apply] of Object.entries(AUGMENTS)) {
        const shot = await apply({ frame, box: person.box });
        const faces = await findFaces(shot.frame, shot.box, tools);
        const reidVector = await embedPerson(shot.frame, shot.box, reid);
        const faceBox = undoAugment(augment, bestOf(faces)?.box, frame.width);
        samples.push({ person: `${photo}#${index}`, photo, circle, faceBox, augment, reid: reidVector, faces });
        if (augment === 'original') originalFaces.push(bestOf(faces)?.box);
      }
    }
    for (let i = 0; i < persons.length; i++) {
      for (let j = i + 1; j < persons.length; j++) {
        const a = originalFaces[i];
        const b = originalFaces[j];
        if (a !== undefined && b !== undefined && iou(a, b) > 0.5) {
          console.log(`${photo} persons ${i} and ${j}: the same face is the best face of both`);
        }
      }
    }
  }
  const people = new Set(samples.map((s) => s.person));
  const withFace = new Set(samples.filter((s) => s.augment === 'original' && bestOf(s.faces)).map((s) => s.person));
  console.log(`\n${people.size} people (${withFace.size} with a face on the original photo)`);

  console.log('\n== re-identification (person-reidentification-retail-0248), cosine');
  const reidPairs = pairs(samples, (s) => s.reid);
  console.log(`same person:      ${stats(reidPairs.same)}  (lowest: ${reidPairs.worstSame.label})`);
  console.log(`different people: ${stats(reidPairs.different)}  (highest: ${reidPairs.worstDifferent.label})`);
  console.log(`  of which same photo: ${stats(reidPairs.samePhoto)}`);
  console.log(`different photos of one circle (identity unknown): ${stats(reidPairs.unknown)}`);

  console.log('\n== faces (UltraFace RFB-320 + MobileFaceNet), cosine of the best face per shot');
  const bestFace = (s: Sample) => bestOf(s.faces);
  const facePairs = pairs(samples, (s) => bestFace(s)?.embedding ?? undefined, true);
  console.log(`same person:      ${stats(facePairs.same)}  (lowest: ${facePairs.worstSame.label})`);
  console.log(`different people: ${stats(facePairs.different)}  (highest: ${facePairs.worstDifferent.label})`);
  console.log(`  of which same photo: ${stats(facePairs.samePhoto)}`);
  console.log(`different photos of one circle (identity unknown): ${stats(facePairs.unknown)}`);
  const gated = (s: Sample) => {
    const face = bestFace(s);
    return face !== undefined && face.box.width >= GATES.minFacePx && face.quality.sharpness >= GATES.minSharpness
      ? (face.embedding ?? undefined)
      : undefined;
  };
  const gatedPairs = pairs(samples, gated, true);
  console.log(`after the gates (min_face_px ${GATES.minFacePx}, min_sharpness ${GATES.minSharpness}):`);
  console.log(`same person:      ${stats(gatedPairs.same)}  (lowest: ${gatedPairs.worstSame.label})`);
  console.log(`different people: ${stats(gatedPairs.different)}  (highest: ${gatedPairs.worstDifferent.label})`);
  console.log(`  of which same photo: ${stats(gatedPairs.samePhoto)}`);
  console.log(`different photos of one circle (identity unknown): ${stats(gatedPairs.unknown)}`);
  for (const person of new Set(samples.map((s) => s.person))) {
    const own = pairs(
      samples.filter((s) => s.person === person),
      gated,
    );
    console.log(`  ${person}: ${stats(own.same)}`);
  }

  console.log('\n== face quality per shot (best face)');
  for (const s of samples) {
    const face = bestFace(s);
    if (face === undefined) {
      console.log(`${s.person.padEnd(30)} ${s.augment.padEnd(15)} no face (${s.faces.length} found)`);
      continue;
    }
    const q = face.quality;
    console.log(
      `${s.person.padEnd(30)} ${s.augment.padEnd(15)} width ${face.box.width.toFixed(0).padStart(3)} px score ` +
        `${face.box.score.toFixed(3)} sharpness ${q.sharpness.toFixed(0).padStart(5)} frontal ${q.frontal.toFixed(2)}` +
        ` faces ${s.faces.length}`,
    );
  }

  console.log('\n== latency, CPU, median of 20 calls (ms)');
  const astronaut = originals[0]!;
  const personCrop = cropFrame(astronaut.frame, astronaut.box)!;
  const head = cropFrame(astronaut.frame, headRegion(astronaut.frame, astronaut.box)!)!;
  const face = (await findFaces(astronaut.frame, astronaut.box, tools))[0]!;
  const faceCrop = cropFrame(astronaut.frame, face.box)!;
  const embedder: Embedder = faceEmbedder;
  console.log(
    `reid embed (person crop ${personCrop.width}x${personCrop.height}): ${(await median(20, () => reid.embed(personCrop))).toFixed(1)}`,
  );
  console.log(
    `face detect (head region ${head.width}x${head.height}): ${(await median(20, () => faceDetector.detect(head))).toFixed(1)}`,
  );
  console.log(
    `face embed (face ${faceCrop.width}x${faceCrop.height}): ${(await median(20, () => embedder.embed(faceCrop))).toFixed(1)}`,
  );
  console.log(
    `findFaces (whole pipeline, one person): ${(await median(20, () => findFaces(astronaut.frame, astronaut.box, { ...tools, gates: GATES }))).toFixed(1)}`,
  );
  console.log(`machine: ${os.cpus()[0]?.model ?? 'unknown'}, ${os.cpus().length} cores`);
  await detector.close();
}

function bestOf(faces: FaceFinding[]): FaceFinding | undefined {
  return [...faces].sort((a, b) => b.box.score - a.box.score)[0];
}

function undoAugment(augment: string, box: BBox | undefined, width: number): BBox | undefined {
  if (box === undefined) return undefined;
  if (augment === 'flip') return { ...box, x: width - box.x - box.width };
  const factor = augment.startsWith('scale ') ? Number(augment.slice(6)) : 1;
  return { x: box.x / factor, y: box.y / factor, width: box.width / factor, height: box.height / factor };
}

function iou(a: BBox, b: BBox): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  return (w * h) / (a.width * a.height + b.width * b.height - w * h);
}

function boxText(box: BBox): string {
  return `${box.x.toFixed(0)},${box.y.toFixed(0)} ${box.width.toFixed(0)}x${box.height.toFixed(0)}`;
}

await main();
