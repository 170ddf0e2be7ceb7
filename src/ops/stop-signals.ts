/**
 * How `hsi run` answers SIGINT and SIGTERM. One Ctrl-C often arrives more than once: the terminal delivers it to the
 * whole foreground process group, and a parent in that group (npm, tsx) forwards it to its child as well. So a
 * signal within `duplicateWindowMs` of the first is the same request and is ignored; only one arriving later means
 * "exit now" (the user pressed Ctrl-C again because stopping takes too long).
 */

export interface StopSignalOptions {
  /** Starts the clean stop; called once. */
  stop(signal: string): void;
  /** Called for a signal after the window, while the clean stop is still running. */
  exitNow(signal: string): void;
  /** Told about each signal ignored as a duplicate. */
  ignored?(signal: string): void;
  /** Milliseconds clock (default Date.now). */
  now?: () => number;
  duplicateWindowMs?: number;
}

export const DUPLICATE_SIGNAL_WINDOW_MS = 2000;

/** The signal handler's decisions, apart from `process` so a test can feed it signals on a fake clock. */
export function createStopSignalHandler(options: StopSignalOptions): (signal: string) => void {
  const now = options.now ?? Date.now;
  const window = options.duplicateWindowMs ?? DUPLICATE_SIGNAL_WINDOW_MS;
  let firstAt: number | undefined;
  return (signal) => {
    const at = now();
    if (firstAt === undefined) {
      firstAt = at;
      options.stop(signal);
    } else if (at - firstAt < window) {
      options.ignored?.(signal);
    } else {
      options.exitNow(signal);
    }
  };
}

/** Installs the handler for SIGINT and SIGTERM; returns the function that removes it. */
export function onStopSignals(options: StopSignalOptions): () => void {
  const handle = createStopSignalHandler(options);
  const onInt = () => handle('SIGINT');
  const onTerm = () => handle('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return () => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  };
}
