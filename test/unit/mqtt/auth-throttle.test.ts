import { describe, expect, it } from 'vitest';
import { AuthThrottle, RateLimitedReport } from '../../../src/mqtt/auth-throttle.js';

const OPTIONS = { freeFailures: 3, baseDelayMs: 1000, maxDelayMs: 5000, forgetAfterMs: 60_000, maxKeys: 2 };

describe('AuthThrottle', () => {
  it('locks a key after the free failures, doubling per failure up to the cap; a success resets', () => {
    let now = 0;
    const throttle = new AuthThrottle(OPTIONS, () => now);
    expect([throttle.fail('a'), throttle.fail('a'), throttle.fail('a')]).toStrictEqual([0, 0, 1000]);
    expect(throttle.lockedForMs('a')).toBe(1000);
    expect(throttle.lockedForMs('b')).toBe(0);
    now += 400;
    expect(throttle.lockedForMs('a')).toBe(600);
    throttle.refused();
    now += 600;
    expect(throttle.lockedForMs('a')).toBe(0);
    expect([throttle.fail('a'), throttle.fail('a'), throttle.fail('a'), throttle.fail('a')]).toStrictEqual([
      2000, 4000, 5000, 5000,
    ]);
    expect(throttle.failures).toBe(8);
    throttle.succeed('a');
    expect(throttle.lockedForMs('a')).toBe(0);
    expect(throttle.fail('a')).toBe(0);
  });

  it('forgets quiet keys and keeps at most maxKeys, the least recently failed going first', () => {
    let now = 0;
    const throttle = new AuthThrottle(OPTIONS, () => now);
    for (let i = 0; i < 3; i++) throttle.fail('a');
    now += 61_000;
    throttle.fail('b');
    // 'a' was quiet for over a minute and is no longer locked: forgotten, it starts over.
    expect([throttle.fail('a'), throttle.fail('a'), throttle.fail('a')]).toStrictEqual([0, 0, 1000]);
    for (let i = 0; i < 3; i++) throttle.fail('c');
    // Room for two: 'b' (failed least recently) went.
    expect([throttle.fail('b'), throttle.fail('b')]).toStrictEqual([0, 0]);
  });
});

describe('RateLimitedReport', () => {
  it('reports the first event of a key, holds the rest back for the interval, then sums them up', () => {
    let now = 0;
    const report = new RateLimitedReport(60_000, () => now);
    expect(report.note('x')).toStrictEqual({ report: true, count: 1 });
    expect(report.note('x')).toStrictEqual({ report: false, count: 0 });
    expect(report.note('y')).toStrictEqual({ report: true, count: 1 });
    now += 59_999;
    expect(report.note('x')).toStrictEqual({ report: false, count: 0 });
    now += 1;
    expect(report.note('x')).toStrictEqual({ report: true, count: 3 });
  });
});
