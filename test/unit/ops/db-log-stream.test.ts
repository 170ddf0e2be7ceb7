import { describe, expect, it } from 'vitest';
import { logLineToEntry } from '../../../src/ops/db-log-stream.js';

const base = { cameraId: null, eventId: null, requestId: null, detectionId: null, durationMs: null, extra: null };

describe('logLineToEntry', () => {
  it('maps a pino line to a logs row, keeping unknown fields as extra', () => {
    const line = JSON.stringify({
      ...{ level: 50, time: 1767225600000, pid: 1, hostname: 'h', app: 'hsi', msg: 'upload failed' },
      ...{ reqId: 'req-7', duration_ms: 1500.6, event_id: 12, path: 'Drive/a.jpg' },
    });
    expect(logLineToEntry(line, 'api')).toStrictEqual({
      ...base,
      timestamp: new Date(1767225600000),
      level: 'error',
      component: 'api',
      message: 'upload failed',
      requestId: 'req-7',
      eventId: 12,
      durationMs: 1501,
      extra: { path: 'Drive/a.jpg' },
    });
  });

  it('drops lines below the minimum level and lines that are not JSON objects', () => {
    expect(logLineToEntry('{"level":30,"msg":"info"}', 'hsi')).toBeUndefined();
    expect(logLineToEntry('{"level":30,"msg":"info"}', 'hsi', 30)?.level).toBe('info');
    expect(logLineToEntry('not json', 'hsi')).toBeUndefined();
    expect(logLineToEntry('42', 'hsi')).toBeUndefined();
  });

  it('names custom levels by the next standard one below, reads ISO times, tolerates odd ids', () => {
    const entry = logLineToEntry(
      '{"level":55,"time":"2026-01-01T00:00:00.000Z","msg":"x","event_id":"abc","camera_id":5}',
      'hsi',
    );
    expect(entry).toStrictEqual({
      ...base,
      timestamp: new Date('2026-01-01T00:00:00.000Z'),
      level: 'error',
      component: 'hsi',
      message: 'x',
      cameraId: '5',
    });
  });
});
