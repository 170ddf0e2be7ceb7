import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COCO_LABELS, loadLabels } from '../../../src/detection/coco-labels.js';
import { iou } from '../../../src/detection/nms.js';
import { type OnnxDetectorOptions, OnnxObjectDetector } from '../../../src/detection/onnx-detector.js';
import { DEFAULT_TARGET_CLASSES, filterDetections, type RawDetection } from '../../../src/domain/detection.js';
import { createLogger, silentLogger } from '../../../src/lib/logger.js';
import { fixtureImage, missingAsset, modelPath } from '../../support/env.js';

const MODELS: Record<'yolox' | 'picodet', string> = {
  yolox: modelPath('yolox_nano.onnx'),
  picodet: modelPath('picodet_s_416_coco.onnx'),
};
const PERSON_MODEL = modelPath('light_person_detector.onnx');
const img = (name: string) => fixtureImage(name);
const skip = missingAsset(
  ...Object.values(MODELS),
  PERSON_MODEL,
  modelPath('coco.names'),
  ...['person_astronaut.png', 'person_cameraman_gray.png', 'dog_bicycle_car.jpg', 'no_target_coffee.png'].map(img),
  img('bad_truncated.jpg'),
);
const TARGETS = { classes: DEFAULT_TARGET_CLASSES, confidence: 0.5, perClass: {} };

function options(modelType: 'yolox' | 'picodet', overrides: Partial<OnnxDetectorOptions> = {}): OnnxDetectorOptions {
  return {
    modelPath: MODELS[modelType],
    modelType,
    device: 'cpu',
    scoreThreshold: 0.25,
    nmsIou: 0.45,
    maxPixels: 40_000_000,
    log: silentLogger(),
    ...overrides,
  };
}

const best = (detections: RawDetection[], label: string) =>
  detections.filter((d) => d.label === label).sort((a, b) => b.confidence - a.confidence)[0];
const centre = (d: RawDetection) => [d.box.x + d.box.width / 2, d.box.y + d.box.height / 2];

describe.skipIf(skip !== undefined)(`OnnxObjectDetector on real models${skip ? ` (${skip})` : ''}`, () => {
  describe.each(['yolox', 'picodet'] as const)('%s', (modelType) => {
    let detector: OnnxObjectDetector;
    const detect = async (name: string) => detector.detect(await readFile(img(name)));

    beforeAll(async () => {
      detector = await OnnxObjectDetector.create(options(modelType));
    });
    afterAll(async () => detector.close());

    it('reads the input size from the model', () => {
      expect(detector.info).toStrictEqual({
        modelPath: MODELS[modelType],
        modelType,
        provider: 'cpu',
        inputWidth: 416,
        inputHeight: 416,
      });
    });

    it('finds the astronaut as a person >= 0.9 with a box covering her', async () => {
      const result = await detect('person_astronaut.png');
      expect([result.width, result.height]).toStrictEqual([512, 512]);
      const person = best(result.detections, 'person');
      expect(person?.confidence).toBeGreaterThanOrEqual(0.9);
      const [cx, cy] = centre(person!);
      expect([cx! > 128 && cx! < 384, cy! > 128 && cy! < 384]).toStrictEqual([true, true]);
      expect((person!.box.width * person!.box.height) / (512 * 512)).toBeGreaterThan(0.4);
      expect(result.timings.inferenceMs).toBeGreaterThan(0);
    });

    it('finds the person in the greyscale cameraman photo', async () => {
      const result = await detect('person_cameraman_gray.png');
      expect(best(result.detections, 'person')?.confidence).toBeGreaterThanOrEqual(0.85);
    });

    it('finds the dog (lower left), the car (upper right) and the bicycle', async () => {
      const result = await detect('dog_bicycle_car.jpg');
      const kept = filterDetections(result.detections, TARGETS);
      expect([...new Set(kept.map((d) => d.label))].sort()).toStrictEqual(['bicycle', 'car', 'dog']);
      const [dogX, dogY] = centre(best(kept, 'dog')!);
      const [carX, carY] = centre(best(kept, 'car')!);
      expect([dogX! < 384, dogY! > 288, carX! > 384, carY! < 288]).toStrictEqual([true, true, true, true]);
    });

    it('finds no target class on the coffee photo', async () => {
      const result = await detect('no_target_coffee.png');
      expect(result.detections.some((d) => d.label === 'cup')).toBe(true);
      expect(filterDetections(result.detections, TARGETS)).toStrictEqual([]);
    });

    it('reports boxes in the EXIF-oriented frame', async () => {
      const original = await readFile(img('dog_bicycle_car.jpg'));
      const upright = await sharp(original).rotate().png().toBuffer();
      // Stored rotated a quarter turn back, tagged "rotate 90 clockwise to display": displays as the original.
      const tagged = await sharp(upright).rotate(270).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
      expect(await sharp(tagged).metadata()).toMatchObject({ width: 576, height: 768, orientation: 6 });
      const [plain, rotated] = [await detector.detect(upright), await detector.detect(tagged)];
      expect([rotated.width, rotated.height]).toStrictEqual([768, 576]);
      expect(iou(best(rotated.detections, 'dog')!.box, best(plain.detections, 'dog')!.box)).toBeGreaterThan(0.85);
      expect(iou(best(rotated.detections, 'car')!.box, best(plain.detections, 'car')!.box)).toBeGreaterThan(0.85);
    });

    it('rejects a truncated JPEG as permanent MEDIA_CORRUPT', async () => {
      await expect(detect('bad_truncated.jpg')).rejects.toMatchObject({ code: 'MEDIA_CORRUPT', permanent: true });
    });
  });

  it('rejects a PNG over the pixel limit as permanent MEDIA_TOO_LARGE', async () => {
    const detector = await OnnxObjectDetector.create(options('yolox', { maxPixels: 512 * 512 - 1 }));
    try {
      await expect(detector.detect(await readFile(img('person_astronaut.png')))).rejects.toMatchObject({
        code: 'MEDIA_TOO_LARGE',
        permanent: true,
      });
    } finally {
      await detector.close();
    }
  });

  it('reads a smaller input size from the model: the 192x192 person detector', async () => {
    const detector = await OnnxObjectDetector.create(options('yolox', { modelPath: PERSON_MODEL, labels: ['person'] }));
    try {
      expect([detector.info.inputWidth, detector.info.inputHeight]).toStrictEqual([192, 192]);
      const result = await detector.detect(await readFile(img('person_astronaut.png')));
      expect(best(result.detections, 'person')?.confidence).toBeGreaterThan(0.5);
    } finally {
      await detector.close();
    }
  });

  it('fails with MODEL_MISSING saying where models live and how to get one', async () => {
    const missing = path.join(tmpdir(), 'hsi-no-such-model.onnx');
    await expect(OnnxObjectDetector.create(options('yolox', { modelPath: missing }))).rejects.toMatchObject({
      code: 'MODEL_MISSING',
      message: expect.stringMatching(
        /not found at .*hsi-no-such-model\.onnx.*shared assets.*HSI_DETECTOR_MODEL.*YOLOX/,
      ),
    });
  });

  it('fails with MODEL_INVALID for a yolox file configured as picodet, naming both', async () => {
    await expect(OnnxObjectDetector.create(options('picodet', { modelPath: MODELS.yolox }))).rejects.toMatchObject({
      code: 'MODEL_INVALID',
      message: expect.stringMatching(/does not match model type 'picodet'.*'output' float32 \[1,3549,85\].*'yolox'/),
    });
  });

  it('fails with MODEL_INVALID for a file onnxruntime cannot load, or too few labels', async () => {
    const file = path.join(await mkdtemp(path.join(tmpdir(), 'hsi-model-')), 'broken.onnx');
    await writeFile(file, 'not a model');
    await expect(OnnxObjectDetector.create(options('yolox', { modelPath: file }))).rejects.toMatchObject({
      code: 'MODEL_INVALID',
      message: expect.stringContaining('cannot be loaded by onnxruntime'),
    });
    await expect(OnnxObjectDetector.create(options('yolox', { labels: ['a', 'b'] }))).rejects.toMatchObject({
      code: 'MODEL_INVALID',
      message: expect.stringContaining('has 80 classes but only 2 labels'),
    });
  });

  it('falls back from auto to CPU with one warning when CUDA files are absent; cuda then fails', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).trim().split('\n'));
        done();
      },
    });
    const log = createLogger('warn', sink);
    const detector = await OnnxObjectDetector.create(options('yolox', { device: 'auto', cudaInstalled: false, log }));
    await detector.close();
    expect(detector.info.provider).toBe('cpu');
    expect(lines.map((l) => JSON.parse(l).level)).toStrictEqual([40]);
    await expect(
      OnnxObjectDetector.create(options('yolox', { device: 'cuda', cudaInstalled: false })),
    ).rejects.toMatchObject({ code: 'DEVICE_UNAVAILABLE' });
  });

  it('ships the same 80 labels as coco.names', async () => {
    expect(await loadLabels(modelPath('coco.names'))).toStrictEqual(COCO_LABELS);
  });
});
