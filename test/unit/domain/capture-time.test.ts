import { describe, expect, it } from 'vitest';
import { EARLIEST_CAPTURE_MS, FUTURE_TOLERANCE_MS, saneCaptureTime } from '../../../src/domain/capture-time.js';

const arrived = Date.UTC(2026, 11, 5, 12, 0, 0);

describe('saneCaptureTime', () => {
  it('believes a capture time in the past, however old (a backlog, an import)', () => {
    const lastWeek = arrived - 7 * 86_400_000;
    expect(saneCaptureTime(lastWeek, arrived)).toStrictEqual({ at: lastWeek, clamped: false });
    expect(saneCaptureTime(EARLIEST_CAPTURE_MS, arrived)).toStrictEqual({ at: EARLIEST_CAPTURE_MS, clamped: false });
  });

  it('takes arrival for a clock a little ahead, and flags one far ahead or from before 2000', () => {
    expect(saneCaptureTime(arrived + 60_000, arrived)).toStrictEqual({ at: arrived, clamped: false });
    expect(saneCaptureTime(arrived + FUTURE_TOLERANCE_MS + 1, arrived)).toStrictEqual({ at: arrived, clamped: true });
    expect(saneCaptureTime(Date.UTC(2099, 0, 1), arrived)).toStrictEqual({ at: arrived, clamped: true });
    expect(saneCaptureTime(5_000, arrived)).toStrictEqual({ at: arrived, clamped: true });
    expect(saneCaptureTime(Number.NaN, arrived)).toStrictEqual({ at: arrived, clamped: true });
  });
});
