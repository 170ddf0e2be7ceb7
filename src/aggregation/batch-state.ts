import { AppError } from '../lib/errors.js';

/**
 * Per-camera batching of detections into security events, as a pure state machine: `stepBatch(state, input,
 * config)` returns the next state and the actions an adapter must carry out. No clock, no timers, no I/O: the
 * adapter stores the state (memory or Redis), passes `at`/`now` from its clock, and calls `tick` at
 * `nextDeadline(state)`. State is plain JSON; cameras never affect each other, so an adapter may also keep one
 * camera per key and step a state that holds only that camera.
 *
 * Rules (times in epoch ms; `at` is when the aggregator received the detection):
 * - A camera's batch opens with its first detection. It closes at `startedAt + windowSeconds` ('window'), at
 *   `lastActivityAt + idleSeconds` ('idle'), whichever comes first, or as soon as it holds `maxDetections`
 *   ('max'). A detection first closes its camera's batch if that is already due at `at`, so a late tick never
 *   lets a detection join a batch that should have closed.
 * - A batch is one visit: every detection of the burst joins it. Detections arrive a frame at a time (all detections
 *   of one image, or of one frame of a clip: `detectionsAdded`), so a frame is never split between batches.
 * - Fast path: the first frame of a batch holding a detection whose type is in `fastPathTypes` with confidence >=
 *   `fastPathConfidence` opens the visit's event at once (an `openEvent` action with EVERY detection of that
 *   frame, so two people in one snapshot are one event that counts two people). Those detections stay in the
 *   batch: later detections of the burst join the same batch, and when it closes the `closeBatch` action (with
 *   `isFastPath: true`) carries every detection, so the event is re-analysed once and closed. Only one event is
 *   opened per batch; a batch without a qualifying detection opens its event when it closes.
 * - Capture time: batches follow arrival (`at`), and a visit is also cut where the pictures' capture times say
 *   so: a frame captured more than `idleSeconds` after the batch's last capture, or before its first, or more than
 *   `windowSeconds` after its first, closes the batch first. Live, capture and arrival agree; a backlog (files
 *   processed hours later, an import) arrives in a rush but is still cut into the visits that happened.
 * - Batch ids are derived from the inputs: `<camera>:<first detection id>` for a regular batch and
 *   `<camera>:fp:<detection id>` for a fast path, so a replay after a crash reproduces the same ids
 *   (events.batch_id is UNIQUE). A detection id already in the open batch is ignored (a retried job).
 */

export interface BatchConfig {
  windowSeconds: number;
  idleSeconds: number;
  maxDetections: number;
  fastPathTypes: readonly string[];
  fastPathConfidence: number;
}

export const DEFAULT_BATCH_CONFIG: BatchConfig = {
  windowSeconds: 90,
  idleSeconds: 30,
  maxDetections: 50,
  fastPathTypes: ['person'],
  fastPathConfidence: 0.9,
};

export interface BatchDetection {
  detectionId: number;
  objectType: string;
  confidence: number;
  at: number;
  /** The frame it was seen in (media file, and frame index for a clip); absent: its own frame. */
  frame?: string;
  /** When its picture was taken (epoch ms, already sanity-checked); absent: `at`. */
  capturedAt?: number;
}

export interface OpenBatch {
  cameraId: string;
  /** `<camera>:<first detection id>`; null only in batches stored by an older version before any joined. */
  batchId: string | null;
  startedAt: number;
  lastActivityAt: number;
  detections: readonly BatchDetection[];
  /** The fast path has opened this batch's event (named so for the batches stored before visits had events). */
  fastPathTaken: boolean;
}

export interface BatchState {
  readonly cameras: Readonly<Record<string, OpenBatch>>;
}

export const EMPTY_BATCH_STATE: BatchState = { cameras: {} };

export type BatchInput =
  | { type: 'detectionsAdded'; cameraId: string; at: number; detections: readonly Omit<BatchDetection, 'at'>[] }
  | { type: 'tick'; now: number };

export type CloseReason = 'window' | 'idle' | 'max' | 'fast_path';

export interface ClosedBatch {
  batchId: string;
  cameraId: string;
  isFastPath: boolean;
  reason: CloseReason;
  detections: BatchDetection[];
  detectionIds: number[];
  /** Earliest and latest detection `at` in the batch. */
  startedAt: number;
  endedAt: number;
  /** Earliest and latest capture time (`capturedAt`, else `at`). */
  capturedFrom: number;
  capturedTo: number;
  closedAt: number;
}

/** The fast path: open the visit's event now with these detections (one frame's); the batch stays open. */
export interface OpenedEvent {
  batchId: string;
  cameraId: string;
  detections: BatchDetection[];
  detectionIds: number[];
  at: number;
  /** When the frame was taken. */
  capturedAt: number;
}

export type BatchAction = { type: 'closeBatch'; batch: ClosedBatch } | { type: 'openEvent'; event: OpenedEvent };

export interface BatchStep {
  state: BatchState;
  actions: BatchAction[];
}

/** One detection alone in its frame (a frame of one detection). */
export function detectionAdded(detection: { cameraId: string } & BatchDetection): BatchInput {
  const { cameraId, at, ...rest } = detection;
  return { type: 'detectionsAdded', cameraId, at, detections: [rest] };
}

/** Every detection of one frame, seen at `at`. */
export function detectionsAdded(
  cameraId: string,
  at: number,
  detections: readonly Omit<BatchDetection, 'at'>[],
): BatchInput {
  return { type: 'detectionsAdded', cameraId, at, detections };
}

export function tick(now: number): BatchInput {
  return { type: 'tick', now };
}

/** Every problem with a batch configuration, each naming its field; empty when valid. */
export function validateBatchConfig(config: BatchConfig): string[] {
  const errors: string[] = [];
  if (!(config.windowSeconds > 0)) errors.push(`window_seconds must be > 0, got ${config.windowSeconds}`);
  if (!(config.idleSeconds > 0)) errors.push(`idle_seconds must be > 0, got ${config.idleSeconds}`);
  if (!(Number.isInteger(config.maxDetections) && config.maxDetections >= 1)) {
    errors.push(`max_detections must be a whole number >= 1, got ${config.maxDetections}`);
  }
  if (!(config.fastPathConfidence >= 0 && config.fastPathConfidence <= 1)) {
    errors.push(`fast_path_confidence must be between 0 and 1, got ${config.fastPathConfidence}`);
  }
  return errors;
}

/** When an open batch is due to close, and why. */
export function batchDeadline(batch: OpenBatch, config: BatchConfig): { at: number; reason: 'window' | 'idle' } {
  const windowAt = batch.startedAt + config.windowSeconds * 1000;
  const idleAt = batch.lastActivityAt + config.idleSeconds * 1000;
  return windowAt <= idleAt ? { at: windowAt, reason: 'window' } : { at: idleAt, reason: 'idle' };
}

/** The earliest time any open batch closes: when the adapter should call `tick`. Null when nothing is open. */
export function nextDeadline(state: BatchState, config: BatchConfig): number | null {
  let next: number | null = null;
  for (const batch of Object.values(state.cameras)) {
    const { at } = batchDeadline(batch, config);
    if (next === null || at < next) next = at;
  }
  return next;
}

export function stepBatch(state: BatchState, input: BatchInput, config: BatchConfig): BatchStep {
  const time = input.type === 'tick' ? input.now : input.at;
  if (!Number.isFinite(time)) {
    throw new AppError('INVALID_INPUT', `batch ${input.type} needs a finite epoch-ms time, got ${String(time)}`, {
      permanent: true,
    });
  }
  if (input.type === 'tick') return tickAll(state, input.now, config);
  return addDetection(state, input, config);
}

function withCamera(state: BatchState, cameraId: string, batch: OpenBatch | undefined): BatchState {
  const cameras = { ...state.cameras };
  if (batch === undefined) delete cameras[cameraId];
  else cameras[cameraId] = batch;
  return { cameras };
}

function closeAction(batch: OpenBatch, reason: CloseReason, closedAt: number): BatchAction[] {
  if (batch.detections.length === 0 || batch.batchId === null) return [];
  const { batchId, cameraId, detections, fastPathTaken } = batch;
  return [{ type: 'closeBatch', batch: closed(batchId, cameraId, detections, reason, closedAt, fastPathTaken) }];
}

function closed(
  batchId: string,
  cameraId: string,
  detections: readonly BatchDetection[],
  reason: CloseReason,
  closedAt: number,
  isFastPath: boolean,
): ClosedBatch {
  const times = detections.map((d) => d.at);
  const captured = detections.map(captureOf);
  return {
    batchId,
    cameraId,
    isFastPath,
    reason,
    detections: [...detections],
    detectionIds: detections.map((d) => d.detectionId),
    startedAt: Math.min(...times),
    endedAt: Math.max(...times),
    capturedFrom: Math.min(...captured),
    capturedTo: Math.max(...captured),
    closedAt,
  };
}

function tickAll(state: BatchState, now: number, config: BatchConfig): BatchStep {
  let next = state;
  const actions: BatchAction[] = [];
  for (const cameraId of Object.keys(state.cameras).sort()) {
    const batch = state.cameras[cameraId]!;
    const deadline = batchDeadline(batch, config);
    if (now < deadline.at) continue;
    actions.push(...closeAction(batch, deadline.reason, now));
    next = withCamera(next, cameraId, undefined);
  }
  return { state: next, actions };
}

const captureOf = (d: BatchDetection) => d.capturedAt ?? d.at;

/** Whether a frame captured at `capturedAt` belongs to another visit than the open batch, by capture time. */
function captureBreak(batch: OpenBatch, capturedAt: number, config: BatchConfig): CloseReason | undefined {
  if (batch.detections.length === 0) return undefined;
  const captured = batch.detections.map(captureOf);
  const first = Math.min(...captured);
  const last = Math.max(...captured);
  if (capturedAt - last >= config.idleSeconds * 1000 || first - capturedAt >= config.idleSeconds * 1000) return 'idle';
  if (capturedAt - first >= config.windowSeconds * 1000) return 'window';
  return undefined;
}

function isFastPath(input: BatchDetection, config: BatchConfig): boolean {
  return config.fastPathTypes.includes(input.objectType) && input.confidence >= config.fastPathConfidence;
}

function addDetection(
  state: BatchState,
  input: Extract<BatchInput, { type: 'detectionsAdded' }>,
  config: BatchConfig,
): BatchStep {
  const { cameraId, at } = input;
  const actions: BatchAction[] = [];
  let open = state.cameras[cameraId];
  if (open !== undefined) {
    const deadline = batchDeadline(open, config);
    if (at >= deadline.at) {
      actions.push(...closeAction(open, deadline.reason, at));
      open = undefined;
    }
  }
  const frameCaptured = input.detections[0]?.capturedAt ?? at;
  if (
    open !== undefined &&
    !open.detections.some((d) => input.detections.some((x) => x.detectionId === d.detectionId))
  ) {
    const reason = captureBreak(open, frameCaptured, config);
    if (reason !== undefined) {
      actions.push(...closeAction(open, reason, at));
      open = undefined;
    }
  }
  const known = new Set(open?.detections.map((d) => d.detectionId));
  const fresh: BatchDetection[] = [];
  for (const d of input.detections) {
    if (known.has(d.detectionId)) continue; // a retried job
    known.add(d.detectionId);
    fresh.push({ ...d, at });
  }
  if (fresh.length === 0)
    return { state: open === state.cameras[cameraId] ? state : withCamera(state, cameraId, open), actions };
  const base: OpenBatch = open ?? {
    cameraId,
    batchId: null,
    startedAt: at,
    lastActivityAt: at,
    detections: [],
    fastPathTaken: false,
  };
  const batchId = base.batchId ?? `${cameraId}:${fresh[0]!.detectionId}`;
  let joined: OpenBatch = {
    ...base,
    batchId,
    lastActivityAt: Math.max(base.lastActivityAt, at),
    detections: [...base.detections, ...fresh],
  };
  if (!joined.fastPathTaken && fresh.some((d) => isFastPath(d, config))) {
    const event: OpenedEvent = {
      batchId,
      cameraId,
      detections: fresh,
      detectionIds: fresh.map((d) => d.detectionId),
      at,
      capturedAt: Math.min(...fresh.map(captureOf)),
    };
    actions.push({ type: 'openEvent', event });
    joined = { ...joined, fastPathTaken: true };
  }
  if (joined.detections.length >= config.maxDetections) {
    actions.push(...closeAction(joined, 'max', at));
    return { state: withCamera(state, cameraId, undefined), actions };
  }
  return { state: withCamera(state, cameraId, joined), actions };
}
