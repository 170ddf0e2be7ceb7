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
 * - Fast path: a detection whose type is in `fastPathTypes` with confidence >= `fastPathConfidence` is closed at
 *   once, alone, as a batch with `isFastPath: true`, and does NOT join the regular batch. Only the first such
 *   detection of a camera's burst takes the fast path: it marks the camera's regular batch (opening an empty one
 *   when none is open) as `fastPathTaken`, and later qualifying detections join that batch as ordinary ones.
 *   The fast-path detection counts as activity (it extends the idle deadline). A batch that closes with no
 *   detections (only a fast path happened) closes silently. So every detection lands in exactly one closed
 *   batch, and a person standing at the door raises one immediate event, not one per frame.
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
}

export interface OpenBatch {
  cameraId: string;
  /** Set when the first regular detection joins. */
  batchId: string | null;
  startedAt: number;
  lastActivityAt: number;
  detections: readonly BatchDetection[];
  fastPathTaken: boolean;
}

export interface BatchState {
  readonly cameras: Readonly<Record<string, OpenBatch>>;
}

export const EMPTY_BATCH_STATE: BatchState = { cameras: {} };

export type BatchInput =
  | ({ type: 'detectionAdded'; cameraId: string } & BatchDetection)
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
  closedAt: number;
}

export type BatchAction = { type: 'closeBatch'; batch: ClosedBatch };

export interface BatchStep {
  state: BatchState;
  actions: BatchAction[];
}

export function detectionAdded(detection: { cameraId: string } & BatchDetection): BatchInput {
  return { type: 'detectionAdded', ...detection };
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
  return [{ type: 'closeBatch', batch: closed(batch.batchId, batch.cameraId, batch.detections, reason, closedAt) }];
}

function closed(
  batchId: string,
  cameraId: string,
  detections: readonly BatchDetection[],
  reason: CloseReason,
  closedAt: number,
): ClosedBatch {
  const times = detections.map((d) => d.at);
  return {
    batchId,
    cameraId,
    isFastPath: reason === 'fast_path',
    reason,
    detections: [...detections],
    detectionIds: detections.map((d) => d.detectionId),
    startedAt: Math.min(...times),
    endedAt: Math.max(...times),
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

function isFastPath(input: BatchDetection, config: BatchConfig): boolean {
  return config.fastPathTypes.includes(input.objectType) && input.confidence >= config.fastPathConfidence;
}

function addDetection(
  state: BatchState,
  input: Extract<BatchInput, { type: 'detectionAdded' }>,
  config: BatchConfig,
): BatchStep {
  const { cameraId, detectionId, objectType, confidence, at } = input;
  const actions: BatchAction[] = [];
  let open = state.cameras[cameraId];
  if (open !== undefined) {
    const deadline = batchDeadline(open, config);
    if (at >= deadline.at) {
      actions.push(...closeAction(open, deadline.reason, at));
      open = undefined;
    }
  }
  if (open?.detections.some((d) => d.detectionId === detectionId)) return { state, actions };
  const base: OpenBatch = open ?? {
    cameraId,
    batchId: null,
    startedAt: at,
    lastActivityAt: at,
    detections: [],
    fastPathTaken: false,
  };
  const lastActivityAt = Math.max(base.lastActivityAt, at);
  const detection: BatchDetection = { detectionId, objectType, confidence, at };
  if (!base.fastPathTaken && isFastPath(detection, config)) {
    const single = closed(`${cameraId}:fp:${detectionId}`, cameraId, [detection], 'fast_path', at);
    actions.push({ type: 'closeBatch', batch: single });
    return { state: withCamera(state, cameraId, { ...base, lastActivityAt, fastPathTaken: true }), actions };
  }
  const joined: OpenBatch = {
    ...base,
    batchId: base.batchId ?? `${cameraId}:${detectionId}`,
    lastActivityAt,
    detections: [...base.detections, detection],
  };
  if (joined.detections.length >= config.maxDetections) {
    actions.push(...closeAction(joined, 'max', at));
    return { state: withCamera(state, cameraId, undefined), actions };
  }
  return { state: withCamera(state, cameraId, joined), actions };
}
