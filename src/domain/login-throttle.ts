/**
 * Brute-force throttling of logins by source address, as pure state and arithmetic (the clock is passed in, no
 * I/O), so the FTP receiver, the MQTT alarm code and the embedded broker can share it. After `maxFailures` failed
 * logins within `windowMs` an address is locked out: every login from it is refused without being evaluated, for
 * `lockoutMs`, doubled at each further lockout up to `maxLockoutMs`. A successful login resets the address.
 * At most `maxTracked` addresses are remembered (the least recently seen is forgotten first), so a flood of source
 * addresses cannot grow memory without bound.
 */

export interface LoginThrottlePolicy {
  /** Failed logins within `windowMs` that lock the address out. */
  maxFailures: number;
  windowMs: number;
  /** The first lockout; each further one of the same address doubles, up to `maxLockoutMs`. */
  lockoutMs: number;
  maxLockoutMs: number;
  /** Addresses remembered at most. */
  maxTracked: number;
}

export type LoginVerdict = { allowed: true } | { allowed: false; retryAfterMs: number };

export interface FailureOutcome {
  /** Failures of the address within the window, this one included. */
  failures: number;
  /** Set when this failure locked the address out: for how long. */
  lockedForMs: number | undefined;
}

interface AddressState {
  /** Times of the failures within the window (at most `maxFailures`). */
  failures: number[];
  lockedUntil: number;
  /** Lockouts so far: the next lasts `lockoutMs * 2^lockouts`, capped. */
  lockouts: number;
  lastSeen: number;
}

export class LoginThrottle {
  private readonly states = new Map<string, AddressState>();

  constructor(private readonly policy: LoginThrottlePolicy) {}

  /** Whether a login from `key` may be evaluated at `now`. */
  check(key: string, now: number): LoginVerdict {
    const state = this.states.get(key);
    if (state === undefined || now >= state.lockedUntil) return { allowed: true };
    return { allowed: false, retryAfterMs: state.lockedUntil - now };
  }

  /** Records a failed login (one that was evaluated: call `check` first). */
  recordFailure(key: string, now: number): FailureOutcome {
    const state = this.touch(key, now);
    state.failures = state.failures.filter((at) => now - at < this.policy.windowMs);
    state.failures.push(now);
    if (state.failures.length < this.policy.maxFailures)
      return { failures: state.failures.length, lockedForMs: undefined };
    const lockedForMs = Math.min(this.policy.lockoutMs * 2 ** state.lockouts, this.policy.maxLockoutMs);
    const failures = state.failures.length;
    state.lockouts += 1;
    state.lockedUntil = now + lockedForMs;
    state.failures = [];
    return { failures, lockedForMs };
  }

  /** A successful login: the address starts afresh. */
  recordSuccess(key: string): void {
    this.states.delete(key);
  }

  /** Addresses remembered now (bounded by `maxTracked`). */
  tracked(): number {
    return this.states.size;
  }

  private touch(key: string, now: number): AddressState {
    let state = this.states.get(key);
    // An address quiet for longer than the longest lockout starts afresh (its escalation is forgotten).
    if (state !== undefined && now - state.lastSeen > this.policy.maxLockoutMs && now >= state.lockedUntil) {
      state = undefined;
    }
    state ??= { failures: [], lockedUntil: Number.NEGATIVE_INFINITY, lockouts: 0, lastSeen: now };
    state.lastSeen = now;
    // Re-inserted so the map's order is least recently seen first.
    this.states.delete(key);
    this.states.set(key, state);
    while (this.states.size > this.policy.maxTracked) {
      const oldest = this.states.keys().next().value;
      if (oldest === undefined) break;
      this.states.delete(oldest);
    }
    return state;
  }
}

/**
 * Whether to log an event of `key` now, or count it into a summary: the first event of a key in `intervalMs` is
 * logged, later ones are counted and reported by `due` once the interval has passed. One line per key per interval
 * instead of one per event, so a flood cannot fill the log (or the `logs` table).
 */
export class LogRateGate {
  private readonly keys = new Map<string, { since: number; suppressed: number }>();

  constructor(
    private readonly intervalMs: number,
    private readonly maxTracked: number,
  ) {}

  /** True: log this event now. False: it was counted for the next summary. */
  note(key: string, now: number): boolean {
    const entry = this.keys.get(key);
    if (entry !== undefined && now - entry.since < this.intervalMs) {
      entry.suppressed += 1;
      return false;
    }
    this.keys.delete(key);
    this.keys.set(key, { since: now, suppressed: 0 });
    while (this.keys.size > this.maxTracked) {
      const oldest = this.keys.keys().next().value;
      if (oldest === undefined) break;
      this.keys.delete(oldest);
    }
    return true;
  }

  /** Keys whose interval has passed with events counted but not logged; they are forgotten. */
  due(now: number): { key: string; suppressed: number }[] {
    const out: { key: string; suppressed: number }[] = [];
    for (const [key, entry] of this.keys) {
      if (now - entry.since < this.intervalMs) continue;
      if (entry.suppressed > 0) out.push({ key, suppressed: entry.suppressed });
      this.keys.delete(key);
    }
    return out;
  }
}

const MAPPED_IPV4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/;

/**
 * The key a client address is counted under: an IPv4 address as itself (IPv4-mapped IPv6 included), an IPv6
 * address by its /64 network (one host usually holds a whole /64, so counting single addresses would let it
 * sidestep every limit). Anything unparsable is its own key.
 */
export function sourceKey(address: string): string {
  const bare = address.trim().toLowerCase().replace(/%.*$/, '');
  const mapped = MAPPED_IPV4.exec(bare);
  if (mapped?.[1] !== undefined) return mapped[1];
  if (!bare.includes(':')) return bare;
  const halves = bare.split('::');
  if (halves.length > 2) return bare;
  const groups = (part: string | undefined): string[] =>
    part === undefined || part === '' ? [] : part.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g]));
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return bare;
  const full = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  const prefix = full.slice(0, 4);
  if (prefix.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return bare;
  return `${prefix.map((g) => Number.parseInt(g, 16).toString(16)).join(':')}::/64`;
}
