/**
 * Brute-force throttling for secrets checked over MQTT (the embedded broker's password, per source address; the
 * alarm panel's code, per panel). Pure: time comes from `now`, nothing is logged or stored here.
 *
 * After `freeFailures` failures in a row a key is locked out for `baseDelayMs`, doubled after each further failure,
 * capped at `maxDelayMs`. While locked out every attempt is refused unchecked (and does not lengthen the lockout,
 * so the owner of the secret can get in once it ends). A success resets the key.
 */

export interface ThrottleOptions {
  /** Failures in a row before the first lockout. */
  freeFailures: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A key whose last failure is older than this (and no longer locked) is forgotten. */
  forgetAfterMs: number;
  /** Most keys remembered; the least recently failed is forgotten first. */
  maxKeys: number;
}

interface Entry {
  failures: number;
  lastFailureAt: number;
  lockedUntil: number;
}

export class AuthThrottle {
  private readonly entries = new Map<string, Entry>();
  private failed = 0;

  constructor(
    private readonly options: ThrottleOptions,
    private readonly now: () => number,
  ) {}

  /** Every refused attempt so far (wrong secret, or refused while locked out). */
  get failures(): number {
    return this.failed;
  }

  /** Milliseconds the key is still locked out; 0 = the attempt may be checked. */
  lockedForMs(key: string): number {
    const entry = this.entries.get(key);
    if (entry === undefined) return 0;
    return Math.max(0, entry.lockedUntil - this.now());
  }

  /** An attempt refused unchecked because the key is locked out: counted, the lockout unchanged. */
  refused(): void {
    this.failed++;
  }

  /** A wrong secret: counted; returns the lockout now in force for the key (ms, 0 = none yet). */
  fail(key: string): number {
    this.failed++;
    const now = this.now();
    this.prune(now, key);
    const entry = this.entries.get(key) ?? { failures: 0, lastFailureAt: now, lockedUntil: 0 };
    entry.failures++;
    entry.lastFailureAt = now;
    const over = entry.failures - this.options.freeFailures;
    const delay = over < 0 ? 0 : Math.min(this.options.baseDelayMs * 2 ** Math.min(over, 30), this.options.maxDelayMs);
    entry.lockedUntil = now + delay;
    // Re-inserted: the map's order is the order of the last failure, oldest first.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return delay;
  }

  /** The right secret: the key starts over. */
  succeed(key: string): void {
    this.entries.delete(key);
  }

  /** Forgets stale keys, and the least recently failed ones while a new key would exceed `maxKeys`. */
  private prune(now: number, adding: string): void {
    for (const [key, entry] of this.entries) {
      const stale = entry.lockedUntil <= now && now - entry.lastFailureAt > this.options.forgetAfterMs;
      const full = !this.entries.has(adding) && this.entries.size >= this.options.maxKeys;
      if (!stale && !full) break;
      this.entries.delete(key);
    }
  }
}

/**
 * One log line per key per interval instead of one per event: `note` says whether to write a line now and how many
 * events it sums up (this one and those held back since the last line).
 */
export class RateLimitedReport {
  private readonly keys = new Map<string, { lastAt: number; held: number }>();

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number,
    private readonly maxKeys = 1000,
  ) {}

  note(key: string): { report: boolean; count: number } {
    const now = this.now();
    const state = this.keys.get(key);
    if (state !== undefined && now - state.lastAt < this.intervalMs) {
      state.held++;
      return { report: false, count: 0 };
    }
    const count = (state?.held ?? 0) + 1;
    this.keys.delete(key);
    if (this.keys.size >= this.maxKeys) {
      const oldest = this.keys.keys().next();
      if (oldest.done !== true) this.keys.delete(oldest.value);
    }
    this.keys.set(key, { lastAt: now, held: 0 });
    return { report: true, count };
  }
}
