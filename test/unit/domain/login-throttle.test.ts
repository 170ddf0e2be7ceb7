import { describe, expect, it } from 'vitest';
import { LoginThrottle, type LoginThrottlePolicy, LogRateGate, sourceKey } from '../../../src/domain/login-throttle.js';

const POLICY: LoginThrottlePolicy = {
  maxFailures: 5,
  windowMs: 60_000,
  lockoutMs: 30_000,
  maxLockoutMs: 120_000,
  maxTracked: 100,
};

/** Fails `count` logins of `key` at `now`, returning the outcome of the last. */
function fail(throttle: LoginThrottle, key: string, now: number, count: number) {
  let last = throttle.recordFailure(key, now);
  for (let i = 1; i < count; i += 1) last = throttle.recordFailure(key, now);
  return last;
}

describe('login throttle', () => {
  it('locks an address out after 5 failures within a minute, and only that address', () => {
    const throttle = new LoginThrottle(POLICY);
    for (let i = 0; i < 4; i += 1) {
      expect(throttle.check('10.0.0.1', 1000 + i)).toStrictEqual({ allowed: true });
      expect(throttle.recordFailure('10.0.0.1', 1000 + i)).toStrictEqual({ failures: i + 1, lockedForMs: undefined });
    }
    expect(throttle.recordFailure('10.0.0.1', 1004)).toStrictEqual({ failures: 5, lockedForMs: 30_000 });
    expect(throttle.check('10.0.0.1', 1005)).toStrictEqual({ allowed: false, retryAfterMs: 29_999 });
    expect(throttle.check('10.0.0.2', 1005)).toStrictEqual({ allowed: true });
    expect(throttle.check('10.0.0.1', 31_004)).toStrictEqual({ allowed: true });
  });

  it('does not lock out failures spread wider than the window', () => {
    const throttle = new LoginThrottle(POLICY);
    for (let i = 0; i < 20; i += 1) {
      expect(throttle.recordFailure('10.0.0.1', i * 15_001).lockedForMs).toBeUndefined();
      expect(throttle.check('10.0.0.1', i * 15_001 + 1)).toStrictEqual({ allowed: true });
    }
  });

  it('doubles each further lockout, capped, and forgets the escalation after a long quiet', () => {
    const throttle = new LoginThrottle(POLICY);
    let now = 0;
    const lockouts: (number | undefined)[] = [];
    for (let round = 0; round < 5; round += 1) {
      const outcome = fail(throttle, 'a', now, 5);
      lockouts.push(outcome.lockedForMs);
      now += outcome.lockedForMs ?? 0;
      expect(throttle.check('a', now - 1).allowed).toBe(false);
      expect(throttle.check('a', now).allowed).toBe(true);
    }
    expect(lockouts).toStrictEqual([30_000, 60_000, 120_000, 120_000, 120_000]);
    // Quiet for longer than the longest lockout: back to the first step.
    expect(fail(throttle, 'a', now + 120_001, 5).lockedForMs).toBe(30_000);
  });

  it('starts an address afresh after a successful login', () => {
    const throttle = new LoginThrottle(POLICY);
    expect(fail(throttle, 'a', 0, 5).lockedForMs).toBe(30_000);
    throttle.recordSuccess('a');
    expect(throttle.check('a', 1)).toStrictEqual({ allowed: true });
    expect(fail(throttle, 'a', 2, 4).lockedForMs).toBeUndefined();
    expect(fail(throttle, 'a', 3, 1).lockedForMs).toBe(30_000);
  });

  it('remembers at most maxTracked addresses, forgetting the least recently seen', () => {
    const throttle = new LoginThrottle({ ...POLICY, maxTracked: 3 });
    expect(fail(throttle, 'attacker', 0, 5).lockedForMs).toBe(30_000);
    fail(throttle, 'b', 1, 1);
    fail(throttle, 'c', 2, 1);
    expect(throttle.tracked()).toBe(3);
    expect(throttle.check('attacker', 3).allowed).toBe(false);
    fail(throttle, 'd', 4, 1);
    expect(throttle.tracked()).toBe(3);
    expect(throttle.check('attacker', 5).allowed).toBe(true);
  });
});

describe('log rate gate', () => {
  it('logs the first event of a key per interval and reports the rest once, per key', () => {
    const gate = new LogRateGate(60_000, 100);
    expect(gate.note('a', 0)).toBe(true);
    expect(gate.note('b', 10)).toBe(true);
    const counted = Array.from({ length: 49 }, (_, i) => gate.note('a', 100 + i));
    expect(counted.every((logged) => !logged)).toBe(true);
    expect(gate.due(59_999)).toStrictEqual([]);
    expect(gate.due(60_010)).toStrictEqual([{ key: 'a', suppressed: 49 }]);
    expect(gate.due(60_011)).toStrictEqual([]);
    expect(gate.note('a', 60_020)).toBe(true);
  });

  it('keeps at most maxTracked keys', () => {
    const gate = new LogRateGate(60_000, 2);
    for (const key of ['a', 'b', 'c']) gate.note(key, 0);
    expect(gate.note('a', 1)).toBe(true);
  });
});

describe('source key', () => {
  it('counts IPv4 by address, IPv4-mapped IPv6 as IPv4, and IPv6 by its /64 network', () => {
    expect(sourceKey('192.168.1.20')).toBe('192.168.1.20');
    expect(sourceKey('::ffff:192.168.1.20')).toBe('192.168.1.20');
    expect(sourceKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:0DB8:0001:0002:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(sourceKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(sourceKey('::1')).toBe('0:0:0:0::/64');
    expect(sourceKey('not an address')).toBe('not an address');
  });
});
