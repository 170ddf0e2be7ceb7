import { describe, expect, it } from 'vitest';
import {
  type BatchAction,
  type BatchConfig,
  type BatchState,
  DEFAULT_BATCH_CONFIG,
  detectionAdded,
  detectionsAdded,
  EMPTY_BATCH_STATE,
  nextDeadline,
  stepBatch,
  tick,
  validateBatchConfig,
} from '../../../src/aggregation/batch-state.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const s = (seconds: number) => T0 + seconds * 1000;
const config = DEFAULT_BATCH_CONFIG;

interface Run {
  state: BatchState;
  actions: BatchAction[];
}

/** Feeds inputs in order, collecting every action. */
function feed(inputs: Parameters<typeof stepBatch>[1][], cfg: BatchConfig = config, start = EMPTY_BATCH_STATE): Run {
  let state = start;
  const actions: BatchAction[] = [];
  for (const input of inputs) {
    const step = stepBatch(state, input, cfg);
    state = step.state;
    actions.push(...step.actions);
  }
  return { state, actions };
}

const det = (cameraId: string, detectionId: number, at: number, objectType = 'car', confidence = 0.7) =>
  detectionAdded({ cameraId, detectionId, objectType, confidence, at });

const summary = (actions: BatchAction[]) =>
  actions.map((a) =>
    a.type === 'openEvent'
      ? ['open', a.event.batchId, a.event.detectionIds, a.event.at - T0]
      : [a.batch.batchId, a.batch.reason, a.batch.detectionIds, a.batch.closedAt - T0],
  );

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

describe('batch window', () => {
  it('closes 90 s after the batch started even while detections keep coming', () => {
    const run = feed([det('cam', 1, s(0)), det('cam', 2, s(20)), det('cam', 3, s(40)), det('cam', 4, s(60))]);
    expect(nextDeadline(run.state, config)).toBe(s(90));
    const early = feed([det('cam', 5, s(80)), tick(s(89.999))], config, run.state);
    expect(early.actions).toStrictEqual([]);
    const closed = feed([tick(s(90))], config, early.state);
    expect(closed.actions).toStrictEqual([
      {
        type: 'closeBatch',
        batch: {
          batchId: 'cam:1',
          cameraId: 'cam',
          isFastPath: false,
          reason: 'window',
          detections: [0, 20, 40, 60, 80].map((sec, i) => ({
            detectionId: i + 1,
            objectType: 'car',
            confidence: 0.7,
            at: s(sec),
          })),
          detectionIds: [1, 2, 3, 4, 5],
          startedAt: s(0),
          endedAt: s(80),
          capturedFrom: s(0),
          capturedTo: s(80),
          closedAt: s(90),
        },
      },
    ]);
    expect(closed.state).toStrictEqual(EMPTY_BATCH_STATE);
    expect(nextDeadline(closed.state, config)).toBeNull();
  });

  it('starts a fresh batch for the next detection', () => {
    const run = feed([det('cam', 1, s(0)), tick(s(30)), det('cam', 2, s(31))]);
    expect(summary(run.actions)).toStrictEqual([['cam:1', 'idle', [1], 30_000]]);
    expect(run.state.cameras.cam?.batchId).toBe('cam:2');
    expect(run.state.cameras.cam?.startedAt).toBe(s(31));
  });
});

describe('idle timeout', () => {
  it('closes 30 s after the last detection', () => {
    const run = feed([det('cam', 1, s(0)), det('cam', 2, s(10))]);
    expect(nextDeadline(run.state, config)).toBe(s(40));
    expect(feed([tick(s(39.999))], config, run.state).actions).toStrictEqual([]);
    expect(summary(feed([tick(s(40))], config, run.state).actions)).toStrictEqual([['cam:1', 'idle', [1, 2], 40_000]]);
  });

  it('closes an overdue batch before a late detection joins, even without a tick', () => {
    const run = feed([det('cam', 1, s(0)), det('cam', 2, s(50))]);
    expect(summary(run.actions)).toStrictEqual([['cam:1', 'idle', [1], 50_000]]);
    expect(run.state.cameras.cam?.detections.map((d) => d.detectionId)).toStrictEqual([2]);
  });

  it('reports the earlier of window and idle as the reason', () => {
    // Last detection at 75 s: idle would end at 105 s, the window ends first at 90 s.
    const run = feed([det('cam', 1, s(0)), det('cam', 2, s(25)), det('cam', 3, s(50)), det('cam', 4, s(75))]);
    expect(nextDeadline(run.state, config)).toBe(s(90));
    expect(summary(feed([tick(s(200))], config, run.state).actions)).toStrictEqual([
      ['cam:1', 'window', [1, 2, 3, 4], 200_000],
    ]);
  });
});

describe('max detections', () => {
  it('closes as soon as the batch holds maxDetections', () => {
    const small = { ...config, maxDetections: 3 };
    const run = feed([det('cam', 1, s(0)), det('cam', 2, s(1)), det('cam', 3, s(2)), det('cam', 4, s(3))], small);
    expect(summary(run.actions)).toStrictEqual([['cam:1', 'max', [1, 2, 3], 2_000]]);
    expect(run.state.cameras.cam?.batchId).toBe('cam:4');
  });

  it('closes at 50 with the default configuration', () => {
    const inputs = Array.from({ length: 51 }, (_, i) => det('cam', i + 1, s(i * 0.5)));
    const run = feed(inputs);
    expect(summary(run.actions).map(([, reason, ids]) => [reason, (ids as number[]).length])).toStrictEqual([
      ['max', 50],
    ]);
    expect(run.state.cameras.cam?.detections.map((d) => d.detectionId)).toStrictEqual([51]);
  });
});

describe('fast path: a visit opens its event at once and keeps it', () => {
  it('opens the event with a confident person, and the batch goes on to close the same visit', () => {
    const run = feed([det('cam', 7, s(0), 'person', 0.95)]);
    expect(run.actions).toStrictEqual([
      {
        type: 'openEvent',
        event: {
          batchId: 'cam:7',
          cameraId: 'cam',
          detections: [{ detectionId: 7, objectType: 'person', confidence: 0.95, at: s(0) }],
          detectionIds: [7],
          at: s(0),
          capturedAt: s(0),
        },
      },
    ]);
    expect(run.state.cameras.cam).toStrictEqual({
      cameraId: 'cam',
      batchId: 'cam:7',
      startedAt: s(0),
      lastActivityAt: s(0),
      detections: [{ detectionId: 7, objectType: 'person', confidence: 0.95, at: s(0) }],
      fastPathTaken: true,
    });
    const later = feed([tick(s(30))], config, run.state);
    expect(summary(later.actions)).toStrictEqual([['cam:7', 'idle', [7], 30_000]]);
    expect(later.actions[0]?.type === 'closeBatch' && later.actions[0].batch.isFastPath).toBe(true);
  });

  it('opens one event per burst; later detections of the burst join that visit', () => {
    const run = feed([
      det('cam', 1, s(0), 'person', 0.95),
      det('cam', 2, s(5), 'person', 0.97),
      det('cam', 3, s(10), 'car', 0.6),
      tick(s(40)),
    ]);
    expect(summary(run.actions)).toStrictEqual([
      ['open', 'cam:1', [1], 0],
      ['cam:1', 'idle', [1, 2, 3], 40_000],
    ]);
  });

  it('opens the event with every detection of the frame: two people in one snapshot are one event', () => {
    const frame = detectionsAdded('cam', s(0), [
      { detectionId: 1, objectType: 'person', confidence: 0.95, frame: '10/0' },
      { detectionId: 2, objectType: 'person', confidence: 0.6, frame: '10/0' },
      { detectionId: 3, objectType: 'dog', confidence: 0.8, frame: '10/0' },
    ]);
    const run = feed([frame, det('cam', 4, s(3), 'person', 0.99), tick(s(33))]);
    expect(summary(run.actions)).toStrictEqual([
      ['open', 'cam:1', [1, 2, 3], 0],
      ['cam:1', 'idle', [1, 2, 3, 4], 33_000],
    ]);
  });

  it('joins an open batch that started without a qualifying detection, keeping its id', () => {
    const run = feed([det('cam', 1, s(0), 'car'), det('cam', 2, s(20), 'person', 0.9)]);
    expect(summary(run.actions)).toStrictEqual([['open', 'cam:1', [2], 20_000]]);
    expect(run.state.cameras.cam?.detections.map((d) => d.detectionId)).toStrictEqual([1, 2]);
    expect(nextDeadline(run.state, config)).toBe(s(50));
    expect(summary(feed([tick(s(50))], config, run.state).actions)).toStrictEqual([['cam:1', 'idle', [1, 2], 50_000]]);
  });

  it('needs a fast-path type at or above the threshold', () => {
    const run = feed([
      det('a', 1, s(0), 'person', 0.89),
      det('b', 2, s(0), 'dog', 0.99),
      det('c', 3, s(0), 'person', 0.9),
    ]);
    expect(summary(run.actions)).toStrictEqual([['open', 'c:3', [3], 0]]);
    const custom = { ...config, fastPathTypes: ['dog'], fastPathConfidence: 0.5 };
    expect(summary(feed([det('b', 2, s(0), 'dog', 0.5)], custom).actions)).toStrictEqual([['open', 'b:2', [2], 0]]);
  });

  it('opens a new visit once the burst has closed', () => {
    const run = feed([det('cam', 1, s(0), 'person', 0.95), tick(s(30)), det('cam', 2, s(31), 'person', 0.95)]);
    expect(summary(run.actions)).toStrictEqual([
      ['open', 'cam:1', [1], 0],
      ['cam:1', 'idle', [1], 30_000],
      ['open', 'cam:2', [2], 31_000],
    ]);
  });

  it('ignores a frame whose detections are all in the batch already (a retried job)', () => {
    const first = feed([det('cam', 1, s(0), 'person', 0.95)]);
    const again = feed([det('cam', 1, s(2), 'person', 0.95)], config, first.state);
    expect(again).toStrictEqual({ state: first.state, actions: [] });
  });
});

describe('capture time cuts a backlog into the visits that happened', () => {
  const shot = (id: number, arrived: number, captured: number, type = 'person', confidence = 0.95) =>
    detectionAdded({
      cameraId: 'cam',
      detectionId: id,
      objectType: type,
      confidence,
      at: arrived,
      capturedAt: captured,
    });
  const hours = (h: number) => s(-h * 3600);

  it('splits files arriving within a second when they were taken hours apart', () => {
    // Three visits of last night processed after a restart: arrivals 200 ms apart.
    const run = feed([
      shot(1, s(0), hours(10)),
      shot(2, s(0.2), hours(10) + 5000),
      shot(3, s(0.4), hours(8)),
      shot(4, s(0.6), hours(6)),
      shot(5, s(0.8), hours(6) + 3000),
      tick(s(31)),
    ]);
    expect(
      run.actions.flatMap((a) =>
        a.type === 'closeBatch' ? [[a.batch.batchId, a.batch.detectionIds, a.batch.reason]] : [],
      ),
    ).toStrictEqual([
      ['cam:1', [1, 2], 'idle'],
      ['cam:3', [3], 'idle'],
      ['cam:4', [4, 5], 'idle'],
    ]);
    // Each visit opened its own event, at its own capture time.
    expect(
      run.actions.flatMap((a) => (a.type === 'openEvent' ? [[a.event.batchId, a.event.capturedAt]] : [])),
    ).toStrictEqual([
      ['cam:1', hours(10)],
      ['cam:3', hours(8)],
      ['cam:4', hours(6)],
    ]);
    const last = run.actions.at(-1);
    expect(last?.type === 'closeBatch' && [last.batch.capturedFrom, last.batch.capturedTo]).toStrictEqual([
      hours(6),
      hours(6) + 3000,
    ]);
  });

  it('cuts a visit longer than the window by capture time, and one going back in time', () => {
    const every20s = [0, 20, 40, 60, 80, 100].map((sec, i) => shot(i + 1, s(i), hours(2) + sec * 1000));
    const run = feed([...every20s, shot(7, s(7), hours(3)), tick(s(40))]);
    expect(
      run.actions.flatMap((a) => (a.type === 'closeBatch' ? [[a.batch.detectionIds, a.batch.reason]] : [])),
    ).toStrictEqual([
      [[1, 2, 3, 4, 5], 'window'],
      [[6], 'idle'],
      [[7], 'idle'],
    ]);
  });
});

describe('cameras are independent', () => {
  it('keeps separate batches and deadlines per camera', () => {
    const run = feed([det('garage', 1, s(0)), det('porch', 2, s(20)), det('garage', 3, s(25))]);
    expect(nextDeadline(run.state, config)).toBe(s(50));
    const first = feed([tick(s(50))], config, run.state);
    expect(summary(first.actions)).toStrictEqual([['porch:2', 'idle', [2], 50_000]]);
    expect(first.state.cameras.garage?.detections.map((d) => d.detectionId)).toStrictEqual([1, 3]);
    expect(nextDeadline(first.state, config)).toBe(s(55));
  });

  it('closes several due cameras on one tick in camera order, and a fast path on one leaves the other alone', () => {
    const run = feed([
      det('porch', 1, s(0)),
      det('garage', 2, s(0)),
      det('garage', 3, s(1), 'person', 0.99),
      tick(s(40)),
    ]);
    expect(summary(run.actions)).toStrictEqual([
      ['open', 'garage:2', [3], 1_000],
      ['garage:2', 'idle', [2, 3], 40_000],
      ['porch:1', 'idle', [1], 40_000],
    ]);
  });

  it('does not close another camera when a detection arrives late', () => {
    const run = feed([det('porch', 1, s(0)), det('garage', 2, s(100))]);
    expect(run.actions).toStrictEqual([]);
    expect(Object.keys(run.state.cameras).sort()).toStrictEqual(['garage', 'porch']);
  });
});

describe('every detection ends up in exactly one batch', () => {
  it('holds over a long pseudo-random run with ticks at arbitrary times', () => {
    let seed = 12345;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const types = ['person', 'person', 'car', 'dog'];
    let state = EMPTY_BATCH_STATE;
    const actions: BatchAction[] = [];
    let now = T0;
    for (let id = 1; id <= 2000; id++) {
      // Alternate bursts (sub-second gaps, so batches fill up) with sparse stretches (idle and window closes).
      const burst = Math.floor(id / 200) % 2 === 0;
      now += Math.floor(random() * (burst ? 600 : 40_000));
      const step = (input: Parameters<typeof stepBatch>[1]) => {
        const out = stepBatch(state, input, config);
        state = out.state;
        actions.push(...out.actions);
      };
      if (random() < 0.3) step(tick(now));
      const pick = random();
      const cameraId = pick < 0.6 ? 'a' : pick < 0.8 ? 'b' : 'c';
      step(det(cameraId, id, now, types[Math.floor(random() * types.length)]!, 0.5 + random() * 0.5));
    }
    const flush = stepBatch(state, tick(now + 1_000_000), config);
    actions.push(...flush.actions);
    expect(flush.state).toStrictEqual(EMPTY_BATCH_STATE);
    const closes = actions.flatMap((a) => (a.type === 'closeBatch' ? [a.batch] : []));
    const opens = actions.flatMap((a) => (a.type === 'openEvent' ? [a.event] : []));
    const ids = closes.flatMap((b) => b.detectionIds).sort((x, y) => x - y);
    expect(ids).toStrictEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
    const batchIds = closes.map((b) => b.batchId);
    expect(new Set(batchIds).size).toBe(batchIds.length);
    for (const batch of closes) {
      expect(batch.detections.length).toBeGreaterThan(0);
      expect(batch.detections.length).toBeLessThanOrEqual(config.maxDetections);
      expect(batch.endedAt - batch.startedAt).toBeLessThanOrEqual(config.windowSeconds * 1000);
      // A visit opened by the fast path is closed by its own batch, which holds the detections it opened with.
      const opened = opens.filter((o) => o.batchId === batch.batchId);
      expect(opened.length).toBe(batch.isFastPath ? 1 : 0);
      for (const o of opened) expect(batch.detectionIds).toEqual(expect.arrayContaining(o.detectionIds));
    }
    expect(opens.length).toBeGreaterThan(0);
    expect(new Set(opens.map((o) => o.batchId)).size).toBe(opens.length);
    const reasons = new Set(closes.map((b) => b.reason));
    expect([...reasons].sort()).toStrictEqual(['idle', 'max', 'window']);
  });
});

describe('purity and input checks', () => {
  it('never mutates the state it is given', () => {
    const start = deepFreeze(feed([det('cam', 1, s(0)), det('cam', 2, s(1), 'person', 0.95)]).state);
    const before = structuredClone(start);
    feed([det('cam', 3, s(2)), det('cam', 4, s(3), 'person', 0.99), tick(s(100))], config, start);
    expect(start).toStrictEqual(before);
  });

  it('ignores a detection id already in the open batch (a retried job)', () => {
    const run = feed([det('cam', 1, s(0)), det('cam', 1, s(5)), tick(s(30))]);
    expect(summary(run.actions)).toStrictEqual([['cam:1', 'idle', [1], 30_000]]);
  });

  it('rejects a non-finite time', () => {
    expect(() => stepBatch(EMPTY_BATCH_STATE, tick(Number.NaN), config)).toThrowError(
      'batch tick needs a finite epoch-ms time, got NaN',
    );
  });

  it('validates the configuration, naming fields', () => {
    expect(validateBatchConfig(config)).toStrictEqual([]);
    expect(
      validateBatchConfig({
        windowSeconds: 0,
        idleSeconds: -1,
        maxDetections: 2.5,
        fastPathTypes: [],
        fastPathConfidence: 2,
      }),
    ).toStrictEqual([
      'window_seconds must be > 0, got 0',
      'idle_seconds must be > 0, got -1',
      'max_detections must be a whole number >= 1, got 2.5',
      'fast_path_confidence must be between 0 and 1, got 2',
    ]);
  });
});
