/**
 * One error type for the whole service. `code` is a string literal callers can switch on; `permanent` tells
 * queue workers not to retry (bad input), while anything else is treated as transient and retried with backoff.
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_FILE'
  | 'MODEL_MISSING'
  | 'MODEL_INVALID'
  | 'DEVICE_UNAVAILABLE'
  | 'MEDIA_UNSUPPORTED'
  | 'MEDIA_CORRUPT'
  | 'MEDIA_TOO_LARGE'
  | 'MEDIA_OUTSIDE_ROOT'
  | 'MEDIA_UNREADABLE'
  | 'MEDIA_GONE'
  | 'FFMPEG_MISSING'
  | 'DB_LOCKED'
  | 'BACKENDS_EMBEDDED'
  | 'NOT_FOUND'
  | 'INVALID_INPUT'
  | 'INVALID_TRANSITION'
  | 'LLM_FAILED'
  | 'TRANSIENT';

export interface AppErrorOptions {
  cause?: unknown;
  permanent?: boolean;
  details?: Record<string, unknown>;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly permanent: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.permanent = options.permanent ?? false;
    this.details = options.details;
  }
}

/** A failure that retrying cannot fix: the input itself is bad. */
export function permanentError(code: ErrorCode, message: string, cause?: unknown): AppError {
  return new AppError(code, message, { cause, permanent: true });
}

export function isPermanent(error: unknown): boolean {
  return error instanceof AppError && error.permanent;
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
