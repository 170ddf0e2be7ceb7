/**
 * A progress bar for long CLI commands (`hsi reprocess`, `hsi import`): `[#####.....] 120/400 files, 12/s, ETA 25 s`
 * redrawn in place on a terminal, or, when stdout is not a terminal (a log file, a pipe), one line every N percent.
 */

export interface ProgressFormat {
  /** Characters inside the brackets (default 10). */
  width?: number;
  /** What is counted (default 'files'). */
  label?: string;
}

/** `3 s`, `1 min 5 s`, `2 h 7 min`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

function formatRate(perSecond: number): string {
  return perSecond >= 10 ? `${Math.round(perSecond)}/s` : `${Number(perSecond.toFixed(1))}/s`;
}

/** One progress line; pure. `elapsedMs` since the first item, used for the rate and the time left. */
export function formatProgress(done: number, total: number, elapsedMs: number, format: ProgressFormat = {}): string {
  const width = format.width ?? 10;
  const label = format.label ?? 'files';
  const fraction = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.floor(fraction * width);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
  const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
  const remaining = Math.max(0, total - done);
  const eta = remaining === 0 ? 'done' : rate > 0 ? `ETA ${formatDuration(remaining / rate)}` : 'ETA --';
  return `${bar} ${done}/${total} ${label}, ${formatRate(rate)}, ${eta}`;
}

export interface ProgressBarOptions extends ProgressFormat {
  out: { write(text: string): unknown; isTTY?: boolean };
  /** Milliseconds clock (default Date.now). */
  now?: () => number;
  /** Without a terminal: a line each time progress crosses a multiple of this percentage (default 10). */
  everyPercent?: number;
  /** On a terminal: redraw at most this often (default 100 ms); the last item always redraws. */
  redrawMs?: number;
}

export interface ProgressBar {
  /** Reports progress; pass it as the `onProgress` callback. */
  update: (done: number, total: number) => void;
  /** Prints the final line (once) and ends it with a newline. */
  finish: () => void;
}

export function createProgressBar(options: ProgressBarOptions): ProgressBar {
  const now = options.now ?? Date.now;
  const tty = options.out.isTTY === true;
  const every = options.everyPercent ?? 10;
  const redrawMs = options.redrawMs ?? 100;
  let started: number | undefined;
  let last = { done: 0, total: 0 };
  let lastDrawn = Number.NEGATIVE_INFINITY;
  let lastStep = -1;
  let finished = false;
  let printedFinal = false;

  const line = () => formatProgress(last.done, last.total, now() - (started ?? now()), options);
  const update = (done: number, total: number) => {
    if (finished) return;
    started ??= now();
    last = { done, total };
    const complete = total === 0 || done >= total;
    if (tty) {
      if (!complete && now() - lastDrawn < redrawMs) return;
      lastDrawn = now();
      options.out.write(`\r${line()}\x1b[K`);
      printedFinal = complete;
      return;
    }
    const step = total > 0 ? Math.floor((100 * Math.min(done, total)) / total / every) : 0;
    if (step === lastStep && !complete) return;
    if (complete && printedFinal) return;
    lastStep = step;
    options.out.write(`${line()}\n`);
    printedFinal = complete;
  };
  return {
    update,
    finish: () => {
      if (finished) return;
      if (!printedFinal) {
        started ??= now();
        options.out.write(tty ? `\r${line()}\x1b[K` : `${line()}\n`);
      }
      if (tty) options.out.write('\n');
      finished = true;
    },
  };
}
