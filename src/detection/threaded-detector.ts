import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { AppError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import {
  deserializeError,
  type FromThread,
  parseThreadLogLine,
  type ThreadDetectorOptions,
  type ToThread,
} from './detector-protocol.js';
import type { DetectionResult, DetectorInfo, ObjectDetector } from './object-detector.js';
import { prepareImage } from './preprocess.js';

export interface ThreadedDetectorOptions extends ThreadDetectorOptions {
  log: Logger;
  /**
   * An image not answered within this many ms means the thread is stuck (a hung native call): it is abandoned (see
   * `abandon`), the images in flight fail as transient (the queue retries them) and the next image starts a new
   * thread. Default 60000; generous, because a first CUDA run or a huge image can take seconds.
   */
  stuckAfterMs?: number;
}

const DEFAULT_STUCK_AFTER_MS = 60_000;

interface Pending {
  resolve: (result: DetectionResult) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
  /** The thread the image went to. */
  worker: Worker;
}

/**
 * Starts the thread's entry next to this file: `detector-thread.js` from `dist/`. From source (tsx, vitest) it is
 * `.ts`, which a worker cannot load by itself (loader hooks do not reach worker threads on Node 20), so a small
 * bootstrap registers tsx inside the thread first (tsx is a development dependency; `dist/` never needs it).
 */
function startThread(workerData: unknown): Worker {
  if (!import.meta.url.endsWith('.ts')) {
    return new Worker(fileURLToPath(new URL('./detector-thread.js', import.meta.url)), { workerData });
  }
  // tsx's ESM API (`tsx/esm/api`, its import-condition file) registers its hooks in the calling thread.
  const root = path.dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  const tsx = pathToFileURL(path.join(root, 'dist', 'esm', 'api', 'index.mjs')).href;
  const entry = new URL('./detector-thread.ts', import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(bootstrap, { eval: true, workerData });
}

/**
 * An `ObjectDetector` whose onnxruntime session lives in a worker thread (see detector-thread.ts for why). Images are
 * copied to the thread, results and errors come back as plain data; a permanent media error stays permanent. If the
 * thread dies, the images in flight fail as transient errors (the queue retries them) and the next image starts a
 * new thread.
 */
export class ThreadedDetector implements ObjectDetector {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  /** A thread being started after the last one died (see `ready`). */
  private starting: Promise<Worker> | undefined;

  private constructor(
    readonly info: DetectorInfo,
    private worker: Worker | undefined,
    private readonly options: ThreadedDetectorOptions,
  ) {
    if (worker !== undefined) this.attach(worker);
  }

  static async create(options: ThreadedDetectorOptions): Promise<ThreadedDetector> {
    const { worker, info } = await spawn(options);
    return new ThreadedDetector(info, worker, options);
  }

  async detect(image: Buffer): Promise<DetectionResult> {
    if (this.closed) throw new AppError('INVALID_TRANSITION', 'detector is closed');
    // Decoded here, on the main thread's libuv pool: in the thread it would wait behind the inference in progress
    // (onnxruntime blocks that thread's event loop), and decoding and inference would never overlap.
    const prepared = await prepareImage(image, this.info, this.options.maxPixels);
    const worker = await this.ready();
    const id = this.nextId++;
    const stuckAfterMs = this.options.stuckAfterMs ?? DEFAULT_STUCK_AFTER_MS;
    return new Promise<DetectionResult>((resolve, reject) => {
      const timer = setTimeout(() => this.abandon(worker, stuckAfterMs), stuckAfterMs);
      this.pending.set(id, { resolve, reject, timer, worker });
      // The tensor is transferred, not copied (2 MB at 416 x 416); the caller keeps the image bytes for thumbnails.
      worker.postMessage({ type: 'detect', id, prepared } satisfies ToThread, [
        prepared.input.data.buffer as ArrayBuffer,
      ]);
    });
  }

  /**
   * The thread to send an image to, starting one when the last died or was abandoned. Images arriving while it
   * starts share that one start: two starts would leave a thread (and its model, 100+ MB) running unused.
   */
  private async ready(): Promise<Worker> {
    if (this.closed) throw new AppError('INVALID_TRANSITION', 'detector is closed');
    if (this.worker !== undefined) return this.worker;
    if (this.starting === undefined) {
      this.starting = spawn(this.options)
        .then(({ worker }) => {
          if (this.closed) {
            worker.postMessage({ type: 'close' } satisfies ToThread);
            worker.unref();
            throw new AppError('INVALID_TRANSITION', 'detector is closed');
          }
          this.worker = worker;
          this.attach(worker);
          return worker;
        })
        .finally(() => {
          this.starting = undefined;
        });
    }
    return this.starting;
  }

  /**
   * A thread that has not answered in time: its images fail as transient (the queue retries them) and the next image
   * starts a new thread. The old one is never terminated: `worker.terminate()` during a native `session.run` aborts
   * the whole process when the call returns (onnxruntime-node throws into the dying environment). It is asked to
   * close instead, after whatever it is running, and unref'd so that a thread hung for good cannot hold the process.
   */
  private abandon(worker: Worker, stuckAfterMs: number): void {
    const mine = [...this.pending].filter(([, waiter]) => waiter.worker === worker);
    if (mine.length === 0) return;
    this.options.log.error(
      { stuck_after_ms: stuckAfterMs, in_flight: mine.length },
      'detector thread stuck: replacing it',
    );
    if (this.worker === worker) this.worker = undefined;
    const error = new AppError('TRANSIENT', `detector thread did not answer within ${stuckAfterMs} ms`);
    for (const [id, waiter] of mine) {
      clearTimeout(waiter.timer);
      this.pending.delete(id);
      waiter.reject(error);
    }
    worker.postMessage({ type: 'close' } satisfies ToThread);
    worker.unref();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    if (worker === undefined) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ type: 'close' } satisfies ToThread);
    // A thread still inside a native call after 5 s is let go (unref'd), not terminated: see `abandon`.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.options.log.warn('detector thread did not close within 5 s; leaving it to the process exit');
        worker.unref();
        resolve();
      }, 5000);
    });
    await Promise.race([exited, late]);
    clearTimeout(timer);
  }

  private attach(worker: Worker): void {
    worker.on('message', (message: FromThread) => {
      if (message.type === 'log') return forwardLog(this.options.log, message.line);
      if (message.type !== 'result' && message.type !== 'error') return;
      const waiter = this.pending.get(message.id);
      if (waiter === undefined) return;
      this.pending.delete(message.id);
      clearTimeout(waiter.timer);
      if (message.type === 'result') waiter.resolve(message.result);
      else waiter.reject(deserializeError(message.error));
    });
    worker.on('error', (error) => this.options.log.error({ err: error }, 'detector thread failed'));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      const error = new AppError('TRANSIENT', `detector thread exited (code ${code}) while detecting`);
      for (const [id, waiter] of this.pending) {
        if (waiter.worker !== worker) continue; // an abandoned thread closing does not concern the new one's images
        clearTimeout(waiter.timer);
        this.pending.delete(id);
        waiter.reject(error);
      }
    });
  }
}

function forwardLog(log: Logger, line: string): void {
  const record = parseThreadLogLine(line);
  if (record === undefined) log.info({ line }, 'detector thread output');
  else log[record.level](record.fields, record.msg);
}

/** Starts a thread and waits until its session is ready (or its error, rebuilt: MODEL_MISSING stays MODEL_MISSING). */
function spawn(options: ThreadedDetectorOptions): Promise<{ worker: Worker; info: DetectorInfo }> {
  const { log, stuckAfterMs: _stuckAfterMs, ...data } = options;
  const worker = startThread(data);
  return new Promise((resolve, reject) => {
    const onMessage = (message: FromThread) => {
      if (message.type === 'log') return forwardLog(log, message.line);
      if (message.type === 'ready') {
        off();
        resolve({ worker, info: message.info });
      } else if (message.type === 'failed') {
        off();
        void worker.terminate();
        reject(deserializeError(message.error));
      }
    };
    const onError = (error: Error) => {
      off();
      reject(new AppError('MODEL_INVALID', `detector thread failed to start: ${error.message}`, { cause: error }));
    };
    const onExit = (code: number) => {
      off();
      reject(new AppError('MODEL_INVALID', `detector thread exited (code ${code}) before it was ready`));
    };
    const off = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}
