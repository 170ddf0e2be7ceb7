import { readFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import type { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxObjectDetector } from '../../../src/detection/onnx-detector.js';
import { ThreadedDetector, type ThreadedDetectorOptions } from '../../../src/detection/threaded-detector.js';
import { AppError } from '../../../src/lib/errors.js';
import { createLogger, silentLogger } from '../../../src/lib/logger.js';
import { fixtureImage, missingAsset, modelPath } from '../../support/env.js';

/** The detector in a worker thread must answer exactly like the in-thread one, errors included. */

const MODEL = modelPath('yolox_nano.onnx');
const skip = missingAsset(MODEL, fixtureImage('person_astronaut.png'), fixtureImage('bad_truncated.jpg'));

const options = (overrides: Partial<ThreadedDetectorOptions> = {}): ThreadedDetectorOptions => ({
  modelPath: MODEL,
  modelType: 'yolox',
  device: 'cpu',
  scoreThreshold: 0.25,
  nmsIou: 0.45,
  maxPixels: 40_000_000,
  log: silentLogger(),
  ...overrides,
});

describe.skipIf(skip !== undefined)('ThreadedDetector', () => {
  let threaded: ThreadedDetector;
  let inline: OnnxObjectDetector;
  const lines: { level: number; msg: string; component?: string }[] = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    threaded = await ThreadedDetector.create(options({ log: createLogger('info', sink) }));
    inline = await OnnxObjectDetector.create(options());
  }, 60_000);
  afterAll(async () => {
    await threaded?.close();
    await inline?.close();
  });

  it('finds what the in-thread detector finds, with the same info', async () => {
    const image = await readFile(fixtureImage('person_astronaut.png'));
    const [a, b] = await Promise.all([threaded.detect(image), inline.detect(image)]);
    expect(threaded.info).toStrictEqual(inline.info);
    expect({ width: a.width, height: a.height, detections: a.detections }).toStrictEqual({
      width: b.width,
      height: b.height,
      detections: b.detections,
    });
    expect(a.detections.find((d) => d.label === 'person')?.confidence).toBeGreaterThan(0.9);
    expect(a.timings.inferenceMs).toBeGreaterThan(0);
  });

  it("forwards the thread's log lines to the main logger", () => {
    expect(lines.find((l) => l.msg === 'detector ready')).toMatchObject({ level: 30, component: 'detector-thread' });
  });

  it('answers many images in flight, each with its own result', async () => {
    const person = await readFile(fixtureImage('person_astronaut.png'));
    const coffee = await readFile(fixtureImage('no_target_coffee.png'));
    const results = await Promise.all([person, coffee, person, coffee].map((image) => threaded.detect(image)));
    const people = results.map((r) => r.detections.some((d) => d.label === 'person' && d.confidence > 0.9));
    expect(people).toStrictEqual([true, false, true, false]);
  });

  it('keeps a corrupt image a permanent MEDIA_CORRUPT error, and goes on', async () => {
    const error = await threaded.detect(await readFile(fixtureImage('bad_truncated.jpg'))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'MEDIA_CORRUPT', permanent: true });
    const next = await threaded.detect(await readFile(fixtureImage('person_astronaut.png')));
    expect(next.detections.length).toBeGreaterThan(0);
  });

  it('fails the images in flight as transient when the thread dies, then starts a new one', async () => {
    const image = await readFile(fixtureImage('person_astronaut.png'));
    const inFlight = threaded.detect(image);
    // The thread dies (as after a native crash or an out-of-memory kill of the worker).
    await (threaded as unknown as { worker: Worker }).worker.terminate();
    const error = await inFlight.then(
      () => undefined,
      (e: unknown) => e,
    );
    // The image either finished before the kill or failed as retryable: never lost as permanent.
    if (error !== undefined) expect(error).toMatchObject({ code: 'TRANSIENT', permanent: false });
    const again = await threaded.detect(image);
    expect(again.detections.some((d) => d.label === 'person')).toBe(true);
  });

  it('starts one new thread for all the images that arrive after the thread died', async () => {
    const log: { msg: string }[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) log.push(JSON.parse(line));
        done();
      },
    });
    const detector = await ThreadedDetector.create(options({ log: createLogger('info', sink) }));
    try {
      await (detector as unknown as { worker: Worker }).worker.terminate();
      await expect.poll(() => (detector as unknown as { worker?: Worker }).worker).toBeUndefined();
      const image = await readFile(fixtureImage('person_astronaut.png'));
      const results = await Promise.all([image, image, image].map((i) => detector.detect(i)));
      expect(results.every((r) => r.detections.some((d) => d.label === 'person'))).toBe(true);
      expect(log.filter((l) => l.msg === 'detector ready')).toHaveLength(2);
    } finally {
      await detector.close();
    }
  });

  it('replaces a thread that does not answer in time, failing its image as transient, and goes on', async () => {
    const log: { level: number; msg: string }[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) log.push(JSON.parse(line));
        done();
      },
    });
    // 5 ms: no image is answered that fast, so every detect looks stuck.
    const impatient = await ThreadedDetector.create(options({ log: createLogger('info', sink), stuckAfterMs: 5 }));
    try {
      const image = await readFile(fixtureImage('person_astronaut.png'));
      await expect(impatient.detect(image)).rejects.toMatchObject({ code: 'TRANSIENT', permanent: false });
      expect(log.some((l) => l.level === 50 && l.msg === 'detector thread stuck: replacing it')).toBe(true);
      // The next image goes to a new thread (the process survives the old one finishing its inference).
      await expect(impatient.detect(image)).rejects.toMatchObject({ code: 'TRANSIENT', permanent: false });
      expect(log.filter((l) => l.msg === 'detector ready')).toHaveLength(2);
    } finally {
      await impatient.close();
    }
  });

  it('refuses a missing model at creation with MODEL_MISSING, as the in-thread detector does', async () => {
    const error = await ThreadedDetector.create(options({ modelPath: '/nonexistent/model.onnx' })).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'MODEL_MISSING' });
    expect((error as Error).message).toContain('/nonexistent/model.onnx');
  });

  it('refuses to detect after close', async () => {
    const detector = await ThreadedDetector.create(options());
    await detector.close();
    await detector.close();
    await expect(detector.detect(Buffer.alloc(1))).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
  });
});
