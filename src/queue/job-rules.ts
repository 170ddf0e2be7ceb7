import { AppError } from '../lib/errors.js';
import type { RetryPolicy } from './contracts.js';

/**
 * Rules both queue implementations share, so a caller that works on the in-process queue also works on BullMQ.
 */

/** Dead letters kept per queue; older ones are dropped first. */
export const DEFAULT_DEAD_LETTER_LIMIT = 1000;

/** How many dead letters `deadLetters()` returns when no limit is given. */
export const DEFAULT_DEAD_LETTER_PAGE = 100;

/**
 * BullMQ refuses custom ids that are plain integers (they clash with its own generated ids) or that contain `:`
 * (its key separator). Both implementations enforce the same rule: pass ids like `media-42`.
 */
export function assertJobId(queue: string, jobId: string): void {
  const problem =
    jobId === ''
      ? 'is empty'
      : `${Number.parseInt(jobId, 10)}` === jobId
        ? 'is a plain integer'
        : jobId.includes(':')
          ? "contains ':'"
          : undefined;
  if (problem === undefined) return;
  throw new AppError('INVALID_INPUT', `queue "${queue}": jobId "${jobId}" ${problem}; use an id like "media-42"`, {
    permanent: true,
    details: { queue, jobId },
  });
}

export function assertRetryPolicy(queue: string, policy: RetryPolicy): void {
  if (!Number.isInteger(policy.attempts) || policy.attempts < 1) {
    throw new AppError('INVALID_INPUT', `queue "${queue}": policy.attempts must be an integer >= 1`, {
      permanent: true,
      details: { queue, attempts: policy.attempts },
    });
  }
  if (!Number.isFinite(policy.backoffMs) || policy.backoffMs < 0) {
    throw new AppError('INVALID_INPUT', `queue "${queue}": policy.backoffMs must be a number >= 0`, {
      permanent: true,
      details: { queue, backoffMs: policy.backoffMs },
    });
  }
}

export function assertConcurrency(queue: string, concurrency: number): void {
  if (Number.isInteger(concurrency) && concurrency >= 1) return;
  throw new AppError('INVALID_INPUT', `queue "${queue}": concurrency must be an integer >= 1`, {
    permanent: true,
    details: { queue, concurrency },
  });
}

/** Delay before the retry that follows failed attempt number `attempt` (1-based): `backoffMs * 2^(attempt-1)`. */
export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  return Math.round(policy.backoffMs * 2 ** (attempt - 1));
}

export function limitOrDefault(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_DEAD_LETTER_PAGE;
  return Number.isInteger(limit) && limit > 0 ? limit : 0;
}
