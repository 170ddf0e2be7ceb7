import type { InferenceSession } from 'onnxruntime-node';
import type { Config } from '../config/schema.js';
import { loadLabels } from '../detection/coco-labels.js';
import { createSession, type DeviceSetting } from '../detection/execution-provider.js';
import type { ExecutionProvider, ObjectDetector } from '../detection/object-detector.js';
import { OnnxObjectDetector } from '../detection/onnx-detector.js';
import { ThreadedDetector } from '../detection/threaded-detector.js';
import type { Logger } from '../lib/logger.js';

/** An onnxruntime session opened by the runtime, with the provider it actually runs on. */
export interface ModelSession {
  readonly modelPath: string;
  readonly session: InferenceSession;
  readonly provider: ExecutionProvider;
}

/**
 * The one model runtime of a process: the object detector and every frame processor's model (faces,
 * re-identification) open their onnxruntime sessions through it, so the device choice (`detector.device`: auto,
 * cpu, cuda), the CUDA fallback and the session options are made once and the same for all. A model asked for twice
 * gets the same session.
 */
export interface ModelRuntime {
  /** The device the configuration asks for; after a CUDA start failure on `auto`, later sessions go to the CPU. */
  readonly device: DeviceSetting;
  /**
   * The configured object detector (`detector.*`), in its own thread when `detector.worker_thread` is on; made once.
   * The runtime closes it: after the queues stopped, so no job is left running on a closed detector.
   */
  detector(): Promise<ObjectDetector>;
  /** A session for `modelPath` on the runtime's device, opened once and shared. */
  session(modelPath: string, options?: { threads?: number }): Promise<ModelSession>;
  /** Closes the detector and releases every session it opened. */
  close(): Promise<void>;
}

export interface OnnxModelRuntimeOptions {
  config: Config;
  log: Logger;
  /** A detector to hand out instead of the configured one (benchmarks and tests of the plumbing). */
  detector?: ObjectDetector;
}

export class OnnxModelRuntime implements ModelRuntime {
  private readonly sessions = new Map<string, Promise<ModelSession>>();
  private made: Promise<ObjectDetector> | undefined;
  private resolved: DeviceSetting;

  constructor(private readonly options: OnnxModelRuntimeOptions) {
    this.resolved = options.config.detector.device;
  }

  get device(): DeviceSetting {
    return this.resolved;
  }

  detector(): Promise<ObjectDetector> {
    this.made ??= this.makeDetector();
    this.made.catch(() => {
      this.made = undefined;
    });
    return this.made;
  }

  private async makeDetector(): Promise<ObjectDetector> {
    if (this.options.detector !== undefined) return this.options.detector;
    const { config, log } = this.options;
    const d = config.detector;
    const create = d.worker_thread ? ThreadedDetector.create : OnnxObjectDetector.create;
    const detector = await create({
      modelPath: d.model,
      modelType: d.model_type,
      device: this.resolved,
      labels: d.labels === '' ? undefined : await loadLabels(d.labels),
      // Decode a little below the lowest configured threshold; the class filter decides what is kept.
      scoreThreshold: Math.min(d.confidence, ...Object.values(d.class_confidence), 0.25),
      nmsIou: d.nms_iou,
      maxPixels: config.ingest.max_pixels,
      threads: d.threads === 0 ? undefined : d.threads,
      log,
    });
    this.settle(detector.info.provider);
    return detector;
  }

  session(modelPath: string, options: { threads?: number } = {}): Promise<ModelSession> {
    const known = this.sessions.get(modelPath);
    if (known !== undefined) return known;
    const opened = createSession({ modelPath, device: this.resolved, log: this.options.log, ...options }).then(
      ({ session, provider }) => {
        this.settle(provider);
        return { modelPath, session, provider };
      },
    );
    this.sessions.set(modelPath, opened);
    opened.catch(() => this.sessions.delete(modelPath));
    return opened;
  }

  async close(): Promise<void> {
    const detector = await this.made?.catch(() => undefined);
    this.made = undefined;
    await detector?.close();
    const open = [...this.sessions.values()];
    this.sessions.clear();
    for (const pending of open) {
      const opened = await pending.catch(() => undefined);
      await opened?.session.release();
    }
  }

  /** `auto` that ended on the CPU (no CUDA files, or CUDA failed to start) stays on the CPU: one warning, not one per model. */
  private settle(provider: ExecutionProvider): void {
    if (this.resolved === 'auto' && provider === 'cpu') this.resolved = 'cpu';
  }
}
