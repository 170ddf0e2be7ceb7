import { describe, expect, it } from 'vitest';
import { createStopSignalHandler } from '../../../src/ops/stop-signals.js';

/** The decisions behind one Ctrl-C = one clean stop, on a fake clock. */
function handler() {
  let now = 1_000;
  const calls: string[] = [];
  const handle = createStopSignalHandler({
    stop: (s) => calls.push(`stop ${s}`),
    exitNow: (s) => calls.push(`exit ${s}`),
    ignored: (s) => calls.push(`ignored ${s}`),
    now: () => now,
    duplicateWindowMs: 2000,
  });
  return {
    calls,
    at(ms: number, signal: string) {
      now = 1_000 + ms;
      handle(signal);
    },
  };
}

describe('stop signals', () => {
  it('treats copies of the first signal within the window as the same request', () => {
    const h = handler();
    h.at(0, 'SIGINT');
    h.at(30, 'SIGINT');
    h.at(1999, 'SIGTERM');
    expect(h.calls).toStrictEqual(['stop SIGINT', 'ignored SIGINT', 'ignored SIGTERM']);
  });

  it('exits at once on a signal after the window', () => {
    const h = handler();
    h.at(0, 'SIGINT');
    h.at(10, 'SIGINT');
    h.at(2000, 'SIGINT');
    expect(h.calls).toStrictEqual(['stop SIGINT', 'ignored SIGINT', 'exit SIGINT']);
  });
});
