import type { Clock, TimerHandle } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { type AnalysisJob, analysisJobId, type JobQueue } from '../queue/contracts.js';
import {
  type BatchAction,
  type BatchConfig,
  type BatchInput,
  detectionsAdded,
  nextDeadline,
  type OpenBatch,
  stepBatch,
  tick,
} from './batch-state.js';
import type { BatchStore } from './batch-store.js';

export interface AggregatedDetection {
  id: number;
  cameraId: string;
  objectType: string;
  confidence: number;
  /** With `frameIndex`, the frame the detection was seen in: a frame's detections enter a batch together. */
  mediaFileId: number;
  /** The frame of a clip; null for a photo. */
  frameIndex: number | null;
  /** When its picture was taken (epoch ms, sanity-checked: see domain/capture-time.ts); absent: when it arrived. */
  capturedAt?: number;
}

const frameOf = (d: AggregatedDetection) => `${d.mediaFileId}/${d.frameIndex ?? 0}`;

/** Consecutive detections of the same camera, frame and time, in order: each group is one step of the batch. */
function byFrame<T extends AggregatedDetection & { at: number }>(detections: readonly T[]): T[][] {
  const groups: T[][] = [];
  for (const d of detections) {
    const last = groups.at(-1)?.[0];
    if (last !== undefined && last.cameraId === d.cameraId && frameOf(last) === frameOf(d) && last.at === d.at) {
      groups.at(-1)!.push(d);
    } else {
      groups.push([d]);
    }
  }
  return groups;
}

export interface BatchAggregatorDeps {
  store: BatchStore;
  queue: JobQueue<AnalysisJob>;
  config: BatchConfig;
  clock: Clock;
  log: Logger;
  /** How often open batches are re-read from the store (batches other processes opened); ms. */
  pollMs?: number;
}

/**
 * Feeds detections through the pure batch state machine, a frame at a time, keeps open batches in the store, and
 * queues the analysis jobs of a visit: `open` when the fast path opens its event, `close` when its batch closes
 * (the store's close guard makes each exactly once across processes). Ticks run at the next
 * known deadline, and at least every `pollMs` for batches opened elsewhere.
 */
export class BatchAggregator {
  private timer: TimerHandle | undefined;
  private poller: NodeJS.Timeout | undefined;
  private stopped = false;
  /** While re-batching orphans: their batch ids may already carry a close guard from before the crash. */
  private recovering = false;

  constructor(private readonly deps: BatchAggregatorDeps) {}

  async start(): Promise<void> {
    this.stopped = false;
    await this.tick();
    const pollMs = this.deps.pollMs ?? 5000;
    this.poller = setInterval(() => void this.tick(), pollMs);
    this.poller.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.deps.clock.clearTimeout(this.timer);
    if (this.poller !== undefined) clearInterval(this.poller);
    this.timer = undefined;
    this.poller = undefined;
  }

  /** Adds fresh detections (at the clock's now), in order; detections of one frame should be adjacent. */
  async add(detections: readonly AggregatedDetection[]): Promise<void> {
    const at = this.deps.clock.now();
    await this.feed(detections.map((d) => ({ ...d, at })));
  }

  /**
   * Adds detections that belong to no event and no open batch (after a restart lost the batch state, or a job was
   * lost with Redis), at the time they were stored, then closes whatever is overdue.
   */
  async recover(detections: readonly (AggregatedDetection & { at: number })[]): Promise<void> {
    if (detections.length === 0) return;
    const open = new Set((await this.deps.store.openBatches()).flatMap((b) => b.detections.map((d) => d.detectionId)));
    const orphans = detections.filter((d) => !open.has(d.id));
    if (orphans.length === 0) return;
    this.deps.log.info({ detections: orphans.length }, 'rebuilding batches from detections not yet in an event');
    this.recovering = true;
    try {
      const ordered = [...orphans].sort((a, b) => a.at - b.at || a.mediaFileId - b.mediaFileId || a.id - b.id);
      await this.feed(ordered);
      await this.tick();
    } finally {
      this.recovering = false;
    }
  }

  /** Closes every batch that is due now. */
  async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      const now = this.deps.clock.now();
      const batches = await this.deps.store.openBatches();
      for (const batch of batches) await this.step(batch.cameraId, tick(now));
      await this.schedule();
    } catch (error) {
      this.deps.log.warn({ err: error }, 'batch tick failed; retrying at the next one');
    }
  }

  private async feed(detections: readonly (AggregatedDetection & { at: number })[]) {
    for (const frame of byFrame(detections)) {
      const { cameraId, at } = frame[0]!;
      const input = detectionsAdded(
        cameraId,
        at,
        frame.map((d) => ({
          detectionId: d.id,
          objectType: d.objectType,
          confidence: d.confidence,
          frame: frameOf(d),
          ...(d.capturedAt === undefined ? {} : { capturedAt: d.capturedAt }),
        })),
      );
      await this.step(cameraId, input);
    }
    await this.schedule();
  }

  private async step(cameraId: string, input: BatchInput): Promise<void> {
    const actions = await this.deps.store.update(cameraId, (batch) => {
      const out = stepBatch({ cameras: batch === undefined ? {} : { [cameraId]: batch } }, input, this.deps.config);
      return { batch: out.state.cameras[cameraId], result: out.actions };
    });
    for (const action of actions) await this.act(action);
  }

  private async act(action: BatchAction): Promise<void> {
    if (action.type === 'openEvent') {
      const { event } = action;
      await this.queueJob(`${event.batchId}:open`, {
        batchId: event.batchId,
        cameraId: event.cameraId,
        phase: 'open',
        detectionIds: event.detectionIds,
        isFastPath: true,
        reason: 'fast_path',
        startedAt: event.at,
        endedAt: event.at,
        capturedFrom: event.capturedAt,
        capturedTo: event.capturedAt,
        closedAt: event.at,
      });
      return;
    }
    const { batch } = action;
    await this.queueJob(batch.batchId, {
      batchId: batch.batchId,
      cameraId: batch.cameraId,
      phase: 'close',
      detectionIds: batch.detectionIds,
      isFastPath: batch.isFastPath,
      reason: batch.reason,
      startedAt: batch.startedAt,
      endedAt: batch.endedAt,
      capturedFrom: batch.capturedFrom,
      capturedTo: batch.capturedTo,
      closedAt: batch.closedAt,
    });
  }

  private async queueJob(guard: string, job: AnalysisJob): Promise<void> {
    // The guard keeps two processes from queuing one step; a recovered batch reuses its old id (and guard), and
    // the analysis stage is idempotent per batch id and phase, so recovery may pass it.
    if (!(await this.deps.store.claimClose(guard)) && !this.recovering) return;
    await this.deps.queue.add(job, { jobId: analysisJobId(job.batchId, job.phase) });
    this.deps.log.debug(
      {
        camera_id: job.cameraId,
        batch_id: job.batchId,
        phase: job.phase,
        detections: job.detectionIds.length,
        reason: job.reason,
      },
      job.phase === 'open' ? 'visit opened (fast path)' : 'batch closed',
    );
  }

  private async schedule(): Promise<void> {
    if (this.stopped) return;
    const batches = await this.deps.store.openBatches();
    const cameras: Record<string, OpenBatch> = {};
    for (const b of batches) cameras[b.cameraId] = b;
    const at = nextDeadline({ cameras }, this.deps.config);
    if (this.timer !== undefined) this.deps.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (at === null) return;
    const delay = Math.max(0, at - this.deps.clock.now());
    this.timer = this.deps.clock.setTimeout(() => void this.tick(), delay);
  }
}
