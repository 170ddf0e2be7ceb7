import { readFile, rm } from 'node:fs/promises';
import type { BBox } from '../domain/detection.js';
import type { Clock } from '../lib/clock.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { Db } from '../storage/database.js';
import { setThumbnailPaths } from '../storage/detection.repository.js';

/** Crops still to write for one committed image: its detections (ids and boxes, in order) and where they go. */
export interface ThumbnailTask {
  cameraId: string;
  /** Absolute path of the image. */
  file: string;
  /** Folder for the crops and their base name (`<dir>/<base>-<i>.jpg`). */
  dir: string;
  baseName: string;
  detections: readonly { id: number; box: BBox }[];
}

export interface ThumbnailBacklogDeps {
  db: Db;
  log: Logger;
  clock: Clock;
  write: (image: Buffer, boxes: readonly { box: BBox }[], dir: string, baseName: string) => Promise<string[]>;
  /** True while detection has nothing to do: crops are written only then. */
  idle: () => boolean;
  /** Tasks kept at most; beyond it the oldest are dropped (their detections keep no crop). Default 5000. */
  maxPending?: number;
  /** How often a busy detector is checked again, ms. Default 250. */
  pollMs?: number;
}

/**
 * Detection thumbnails, written off the hot path: a file's detections are committed (and announced to MQTT and the
 * API) first, and their crops are written when the detector is idle, one image at a time, then recorded on the
 * rows. A crop costs a second full decode of the image (~7 ms on the 2-core machine), about a fifth of the time
 * per image in a burst; people watching a burst want the detections and the alert, not the crops, first.
 *
 * Crops are a convenience: a task whose image is gone is skipped, one whose detections were replaced or removed
 * meanwhile (reprocess, retention) has its crops deleted again, and tasks pending at shutdown are not written.
 */
export class ThumbnailBacklog {
  private readonly tasks: ThumbnailTask[] = [];
  private running: Promise<void> | undefined;
  private stopped = false;
  private dropped = 0;

  constructor(private readonly deps: ThumbnailBacklogDeps) {}

  get pending(): number {
    return this.tasks.length;
  }

  add(task: ThumbnailTask): void {
    if (this.stopped || task.detections.length === 0) return;
    this.tasks.push(task);
    const max = this.deps.maxPending ?? 5000;
    if (this.tasks.length > max) {
      this.tasks.shift();
      if (this.dropped++ === 0) this.deps.log.warn({ max }, 'thumbnail backlog full: the oldest crops are skipped');
    }
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
  }

  /** Stops writing; the crop being written finishes, the rest are dropped. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.tasks.length = 0;
    await this.running;
  }

  private async drain(): Promise<void> {
    while (!this.stopped && this.tasks.length > 0) {
      if (!this.deps.idle()) {
        await new Promise<void>((resolve) => this.deps.clock.setTimeout(resolve, this.deps.pollMs ?? 250));
        continue;
      }
      const task = this.tasks.shift() as ThumbnailTask;
      await this.write(task).catch((error: unknown) =>
        this.deps.log.warn(
          { camera_id: task.cameraId, file: task.file, err: errorMessage(error) },
          'thumbnails not written',
        ),
      );
    }
    if (this.dropped > 1)
      this.deps.log.warn({ skipped: this.dropped }, 'thumbnails skipped while the backlog was full');
    this.dropped = 0;
  }

  private async write(task: ThumbnailTask): Promise<void> {
    let image: Buffer;
    try {
      image = await readFile(task.file);
    } catch {
      return; // removed or replaced since: nothing to crop
    }
    const paths = await this.deps.write(image, task.detections, task.dir, task.baseName);
    const thumbnails = task.detections.flatMap((detection, i) => {
      const file = paths[i];
      return file === undefined ? [] : [{ detectionId: detection.id, path: file }];
    });
    const orphans = await setThumbnailPaths(this.deps.db, thumbnails);
    // Detections replaced or removed meanwhile: their crops would belong to nobody.
    await Promise.all(orphans.map((file) => rm(file, { force: true })));
  }
}
