import { describe, expect, it } from 'vitest';
import { createProgressBar, formatDuration, formatProgress } from '../../../src/ops/progress.js';

class Out {
  text = '';
  constructor(readonly isTTY: boolean) {}
  write(chunk: string) {
    this.text += chunk;
  }
}

describe('formatProgress', () => {
  it('draws the bar, count, rate and time left', () => {
    expect(formatProgress(120, 400, 10_000)).toBe('[###.......] 120/400 files, 12/s, ETA 24 s');
    expect(formatProgress(0, 400, 0)).toBe('[..........] 0/400 files, 0/s, ETA --');
    expect(formatProgress(3, 1000, 2000, { width: 20, label: 'images' })).toBe(
      '[....................] 3/1000 images, 1.5/s, ETA 11 min 5 s',
    );
    expect(formatProgress(400, 400, 8000)).toBe('[##########] 400/400 files, 50/s, done');
    expect(formatProgress(0, 0, 0)).toBe('[##########] 0/0 files, 0/s, done');
  });

  it('formats durations', () => {
    expect([0.2, 59, 60, 3599, 3600, 7322].map(formatDuration)).toStrictEqual([
      '1 s',
      '59 s',
      '1 min 0 s',
      '59 min 59 s',
      '1 h 0 min',
      '2 h 2 min',
    ]);
  });
});

describe('createProgressBar', () => {
  it('prints a line every 10 percent when stdout is not a terminal', () => {
    const out = new Out(false);
    let now = 0;
    const bar = createProgressBar({ out, now: () => now });
    for (let done = 0; done <= 40; done++) {
      bar.update(done, 40);
      now += 500;
    }
    bar.finish();
    const lines = out.text.trimEnd().split('\n');
    expect(lines.map((l) => l.split(' ')[1])).toStrictEqual([
      '0/40',
      '4/40',
      '8/40',
      '12/40',
      '16/40',
      '20/40',
      '24/40',
      '28/40',
      '32/40',
      '36/40',
      '40/40',
    ]);
    expect(lines[5]).toBe('[#####.....] 20/40 files, 2/s, ETA 10 s');
    expect(lines.at(-1)).toBe('[##########] 40/40 files, 2/s, done');
  });

  it('redraws in place on a terminal, at most every 100 ms, and ends the line on finish', () => {
    const out = new Out(true);
    let now = 1000;
    const bar = createProgressBar({ out, now: () => now });
    bar.update(1, 4);
    now += 50;
    bar.update(2, 4);
    now += 100;
    bar.update(3, 4);
    bar.update(4, 4);
    bar.finish();
    bar.finish();
    expect(out.text).toBe(
      '\r[##........] 1/4 files, 0/s, ETA --\x1b[K' +
        '\r[#######...] 3/4 files, 20/s, ETA 1 s\x1b[K' +
        '\r[##########] 4/4 files, 27/s, done\x1b[K\n',
    );
  });

  it('prints the last state when finished early', () => {
    const out = new Out(false);
    const bar = createProgressBar({ out, now: () => 0, everyPercent: 50 });
    bar.update(1, 10);
    bar.update(2, 10);
    bar.finish();
    expect(out.text).toBe('[#.........] 1/10 files, 0/s, ETA --\n[##........] 2/10 files, 0/s, ETA --\n');
  });
});
