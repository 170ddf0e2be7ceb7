/**
 * When a picture was taken, as far as HSI can trust the camera's clock. An upload's capture time (today the file's
 * modification time, as the camera or its FTP client set it) is what events are judged by: a 02:00 picture
 * processed at noon after an outage is a night event. A camera clock can be wrong, though: a capture time later than
 * the upload's arrival (beyond a small tolerance for clocks running a little ahead) or before 2000 (a camera that
 * lost its clock and counts from 1970) is not believed: arrival time stands in, and the caller may flag it.
 */

/** A camera clock this far ahead of HSI's is still believed (NTP drift, a slow FTP upload). */
export const FUTURE_TOLERANCE_MS = 5 * 60_000;
/** Capture times before this are a camera that lost its clock. */
export const EARLIEST_CAPTURE_MS = Date.UTC(2000, 0, 1);

export interface CaptureTime {
  /** Epoch ms to judge the picture by. */
  at: number;
  /** The camera's time was not believed and arrival time stands in. */
  clamped: boolean;
}

/** The time to judge a picture by: its capture time when plausible, else its arrival. */
export function saneCaptureTime(capturedAt: number, arrivedAt: number): CaptureTime {
  if (!Number.isFinite(capturedAt)) return { at: arrivedAt, clamped: true };
  if (capturedAt > arrivedAt + FUTURE_TOLERANCE_MS || capturedAt < EARLIEST_CAPTURE_MS) {
    return { at: arrivedAt, clamped: true };
  }
  return { at: Math.min(capturedAt, arrivedAt), clamped: false };
}
