import { describe, expect, it } from 'vitest';
import { LatestEvents } from '../../../src/mqtt/latest-events.js';

const at = (iso: string) => new Date(`2026-11-24T${iso}Z`);

describe('LatestEvents', () => {
  it('accepts events in start order and refuses one that started earlier', () => {
    const latest = new LatestEvents();
    expect(latest.offer({ id: 1, cameraId: 'a', startedAt: at('10:00:00') })).toBe(true);
    expect(latest.offer({ id: 3, cameraId: 'a', startedAt: at('10:05:00') })).toBe(true);
    // Event 2 started before event 3 but its analysis finished later.
    expect(latest.offer({ id: 2, cameraId: 'a', startedAt: at('10:02:00') })).toBe(false);
  });

  it('keeps cameras apart', () => {
    const latest = new LatestEvents();
    expect(latest.offer({ id: 5, cameraId: 'a', startedAt: at('10:05:00') })).toBe(true);
    expect(latest.offer({ id: 6, cameraId: 'b', startedAt: at('09:00:00') })).toBe(true);
  });

  it('accepts the same event again (a republish) and breaks start-time ties by id', () => {
    const latest = new LatestEvents();
    expect(latest.offer({ id: 7, cameraId: 'a', startedAt: at('10:00:00') })).toBe(true);
    expect(latest.offer({ id: 7, cameraId: 'a', startedAt: at('10:00:00') })).toBe(true);
    expect(latest.offer({ id: 6, cameraId: 'a', startedAt: at('10:00:00') })).toBe(false);
    expect(latest.offer({ id: 8, cameraId: 'a', startedAt: at('10:00:00') })).toBe(true);
  });

  it('takes the shown event updated even when its visit now starts earlier, and keeps older events out', () => {
    const latest = new LatestEvents();
    // Opened at its fast-path frame; the batch's close moves its start to the burst's first detection.
    expect(latest.offer({ id: 10, cameraId: 'a', startedAt: at('10:00:30') })).toBe(true);
    expect(latest.offer({ id: 10, cameraId: 'a', startedAt: at('10:00:00') })).toBe(true);
    expect(latest.offer({ id: 9, cameraId: 'a', startedAt: at('09:59:00') })).toBe(false);
  });

  it('lets any event in after the camera is forgotten', () => {
    const latest = new LatestEvents();
    latest.offer({ id: 9, cameraId: 'a', startedAt: at('11:00:00') });
    latest.forget('a');
    expect(latest.offer({ id: 4, cameraId: 'a', startedAt: at('08:00:00') })).toBe(true);
  });
});
