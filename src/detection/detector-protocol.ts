import { AppError, type ErrorCode } from '../lib/errors.js';
import type { DetectionResult, DetectorInfo } from './object-detector.js';
import type { OnnxDetectorOptions } from './onnx-detector.js';
import type { PreparedImage } from './preprocess.js';

/**
 * Messages between the detector thread and the main thread. Everything here crosses `postMessage` (structured
 * clone): plain data only, errors flattened and rebuilt so a corrupt image stays a permanent `MEDIA_CORRUPT` on the
 * main thread and the queue still does not retry it.
 */

/** The detector options that cross to the thread (the logger stays here; the thread forwards its lines). */
export type ThreadDetectorOptions = Omit<OnnxDetectorOptions, 'log'>;

export interface SerializedError {
  code: ErrorCode | undefined;
  message: string;
  permanent: boolean;
}

/** `detect` carries an image the main thread already decoded (`prepareImage`); its tensor buffer is transferred. */
export type ToThread = { type: 'detect'; id: number; prepared: PreparedImage } | { type: 'close' };

export type FromThread =
  | { type: 'ready'; info: DetectorInfo }
  | { type: 'failed'; error: SerializedError }
  | { type: 'result'; id: number; result: DetectionResult }
  | { type: 'error'; id: number; error: SerializedError }
  | { type: 'log'; line: string }
  | { type: 'closed' };

export function serializeError(error: unknown): SerializedError {
  if (error instanceof AppError) return { code: error.code, message: error.message, permanent: error.permanent };
  return { code: undefined, message: error instanceof Error ? error.message : String(error), permanent: false };
}

/** The error as the main thread throws it: an AppError with the same code and permanence, or a plain Error. */
export function deserializeError(error: SerializedError): Error {
  if (error.code === undefined) return new Error(error.message);
  return new AppError(error.code, error.message, { permanent: error.permanent });
}

const PINO_LEVELS: Readonly<Record<number, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'>> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

/**
 * A pino JSON line from the thread, split into what the main logger needs: level name, fields, message. Undefined
 * for a line that is not a pino record (never thrown away silently: the caller logs it as it is).
 */
export function parseThreadLogLine(
  line: string,
): { level: (typeof PINO_LEVELS)[number]; fields: Record<string, unknown>; msg: string } | undefined {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof record !== 'object' || record === null) return undefined;
  const {
    level,
    msg,
    time: _time,
    pid: _pid,
    hostname: _hostname,
    app: _app,
    ...fields
  } = record as Record<string, unknown>;
  const name = typeof level === 'number' ? PINO_LEVELS[level] : undefined;
  if (name === undefined) return undefined;
  return { level: name, fields, msg: typeof msg === 'string' ? msg : '' };
}
