import type { Dir, Stats } from 'node:fs';
import { lstat, opendir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { type FSWatcher, watch } from 'chokidar';
import { isSupportedMediaPath } from '../domain/media-kind.js';
import { type Clock, systemClock, type TimerHandle } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';

/**
 * Watches the media root for camera uploads and reports each file once it is READY: its size, mtime and inode
 * unchanged for `stableMs`. Stability is checked here with a per-file timer re-reading `lstat` (not chokidar's
 * awaitWriteFinish), so a slow FTP upload fires once, complete, and a file deleted before it is stable never fires.
 * Files already present at start are not reported (`scanMediaFiles` feeds the reconciliation scan); folders created
 * later (a new camera) are watched recursively. Symlinks are reported as paths, never followed: `inspectMediaFile`
 * decides whether their target may be used.
 *
 * Run the reconciliation scan AFTER `start()` resolves: files that arrive during the initial scan are only found by
 * it, and with `polling` Node takes each folder's first sample on the thread pool just after start, so a file
 * created in that instant is part of the baseline and never reported as new.
 */

export const DEFAULT_STABLE_MS = 2000;
export const DEFAULT_POLL_INTERVAL_MS = 1000;

export interface MediaWatcherOptions {
  root: string;
  /** How long size and mtime must stay unchanged before a file is ready (default 2000). */
  stableMs?: number;
  /** Poll instead of inotify (network shares, some Docker volumes). */
  polling?: boolean;
  pollIntervalMs?: number;
  log: Logger;
  clock?: Clock;
  /**
   * How often the media root itself is checked (ms, default 5000): deleted, replaced by a new folder, or back.
   * 0 turns the check off.
   */
  rootCheckMs?: number;
}

/** Whether uploads are being watched: false while the media root is gone. */
export interface RootHealth {
  ok: boolean;
  /** What is wrong, for readiness and the health sensor; null when ok. */
  reason: string | null;
}

export const DEFAULT_ROOT_CHECK_MS = 5000;

export type ReadyListener = (filePath: string) => void | Promise<void>;

interface PendingFile {
  /** `size:mtimeMs:ino` last seen; undefined until the first sample. */
  signature: string | undefined;
  timer: TimerHandle | undefined;
  /** Bumped on every filesystem event, so a check that raced with a newer event stands down. */
  version: number;
}

function signatureOf(stats: Stats): string {
  return `${stats.size}:${stats.mtimeMs}:${stats.ino}`;
}

function errnoOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

function isHiddenBelow(root: string, filePath: string): boolean {
  const relative = path.relative(root, filePath);
  return relative !== '' && relative.split(path.sep).some((segment) => segment.startsWith('.'));
}

function mediaRootError(root: string, error: unknown): AppError {
  return new AppError(
    'CONFIG_INVALID',
    `media root ${root} cannot be read (${errnoOf(error) ?? String(error)}); create it or fix the media_root setting`,
    { cause: error },
  );
}

export class MediaWatcher {
  private watcher: FSWatcher | undefined;
  private readonly pending = new Map<string, PendingFile>();
  /** Files reported in the last minute, by path: a new folder's re-listings must not report them again. */
  private readonly reported = new Map<string, number>();
  private readonly relists = new Set<TimerHandle>();
  private readonly listeners = new Set<ReadyListener>();
  private stopped = false;
  private root = '';
  private watchedRoot = '';
  private cancelStart: (() => void) | undefined;
  /** `dev:ino` of the folder being watched: a media root deleted and created again is another folder. */
  private rootId = '';
  private rootState: RootHealth = { ok: true, reason: null };
  private readonly rootListeners = new Set<(health: RootHealth) => void>();
  private guard: NodeJS.Timeout | undefined;
  private checkingRoot = false;

  constructor(private readonly options: MediaWatcherOptions) {}

  /** Whether the media root is being watched now. */
  health(): RootHealth {
    return this.rootState;
  }

  /**
   * Called when the media root goes away (ok false) or is watched again after it came back or was replaced (ok
   * true): files written meanwhile were seen by no watch, so the caller should reconcile then.
   */
  onRootChange(listener: (health: RootHealth) => void): () => void {
    this.rootListeners.add(listener);
    return () => this.rootListeners.delete(listener);
  }

  /** Registers a listener for ready files; returns a function that removes it. Listener errors are logged. */
  onReady(listener: ReadyListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Files seen but not yet stable. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Starts watching; resolves once chokidar's initial scan is done. Throws when the media root is unusable. */
  async start(): Promise<void> {
    if (this.watcher !== undefined) throw new Error('MediaWatcher.start() called twice');
    this.stopped = false;
    this.root = path.resolve(this.options.root);
    let rootStats: Stats;
    try {
      // A symlinked media root is watched at its target; paths are reported under the configured root.
      this.watchedRoot = await realpath(this.root);
      rootStats = await stat(this.watchedRoot);
    } catch (error) {
      throw mediaRootError(this.root, error);
    }
    if (!rootStats.isDirectory()) throw mediaRootError(this.root, 'not a directory');
    this.rootId = `${rootStats.dev}:${rootStats.ino}`;
    await this.watchRoot();
    if (this.stopped) return;
    this.options.log.info({ root: this.root, polling: this.options.polling ?? false }, 'media watcher ready');
    const every = this.options.rootCheckMs ?? DEFAULT_ROOT_CHECK_MS;
    if (every > 0) {
      this.guard = setInterval(() => void this.checkRoot(), every);
      this.guard.unref();
    }
  }

  private async watchRoot(): Promise<void> {
    const interval = this.options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    const watcher = watch(this.watchedRoot, {
      ignoreInitial: true,
      followSymlinks: false,
      usePolling: this.options.polling ?? false,
      interval,
      binaryInterval: interval,
      ignored: (p: string, stats?: Stats) =>
        isHiddenBelow(this.watchedRoot, p) || (stats?.isFile() === true && !isSupportedMediaPath(p)),
    });
    this.watcher = watcher;
    watcher.on('add', (p, stats) => this.track(p, stats));
    watcher.on('change', (p, stats) => this.track(p, stats));
    watcher.on('unlink', (p) => this.forget(this.toPublic(p)));
    watcher.on('unlinkDir', (p) => this.forgetUnder(this.toPublic(p)));
    watcher.on('addDir', (p) => this.sweepNewFolder(p));
    watcher.on('error', (error) => this.options.log.error({ err: error, root: this.root }, 'media watcher error'));
    await new Promise<void>((resolve) => {
      this.cancelStart = resolve;
      watcher.once('ready', resolve);
    });
    this.cancelStart = undefined;
  }

  /**
   * The media root deleted (a mount gone, a folder removed by hand) leaves the watch on a folder that no longer
   * exists: nothing new is ever reported, silently. Checked every `rootCheckMs`: gone is reported as unhealthy;
   * back, or replaced by a new folder of the same name, is watched again and reported healthy.
   */
  private async checkRoot(): Promise<void> {
    if (this.stopped || this.checkingRoot) return;
    this.checkingRoot = true;
    try {
      let real: string | undefined;
      let id: string | undefined;
      try {
        real = await realpath(this.root);
        const stats = await stat(real);
        if (stats.isDirectory()) id = `${stats.dev}:${stats.ino}`;
      } catch {
        id = undefined;
      }
      if (id === undefined || real === undefined) {
        if (!this.rootState.ok) return;
        await this.unwatch();
        this.setRoot({
          ok: false,
          reason: `media root ${this.root} is gone: uploads are not ingested until it is back`,
        });
        this.options.log.error({ root: this.root }, 'media root is gone; ingest stops until it is back');
        return;
      }
      if (this.rootState.ok && id === this.rootId) return;
      const replaced = this.rootState.ok;
      await this.unwatch();
      this.watchedRoot = real;
      this.rootId = id;
      await this.watchRoot();
      if (this.stopped) return;
      this.options.log.warn(
        { root: this.root },
        replaced
          ? 'media root was replaced by a new folder; watching it again'
          : 'media root is back; watching it again',
      );
      this.setRoot({ ok: true, reason: null });
    } finally {
      this.checkingRoot = false;
    }
  }

  private setRoot(health: RootHealth): void {
    this.rootState = health;
    for (const listener of this.rootListeners) {
      try {
        listener(health);
      } catch (error) {
        this.options.log.error({ err: error }, 'media root listener failed');
      }
    }
  }

  private async unwatch(): Promise<void> {
    for (const entry of this.pending.values()) this.clearTimer(entry);
    this.pending.clear();
    const watcher = this.watcher;
    this.watcher = undefined;
    await watcher?.close();
  }

  /** Stops watching; pending files are dropped (reconciliation finds them on the next start). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.guard !== undefined) clearInterval(this.guard);
    this.guard = undefined;
    this.cancelStart?.();
    for (const entry of this.pending.values()) this.clearTimer(entry);
    this.pending.clear();
    for (const timer of this.relists) this.clock.clearTimeout(timer);
    this.relists.clear();
    const watcher = this.watcher;
    this.watcher = undefined;
    await watcher?.close();
  }

  private get stableMs(): number {
    return this.options.stableMs ?? DEFAULT_STABLE_MS;
  }

  private get clock(): Clock {
    return this.options.clock ?? systemClock;
  }

  private toPublic(watchedPath: string): string {
    return this.watchedRoot === this.root
      ? watchedPath
      : path.join(this.root, path.relative(this.watchedRoot, watchedPath));
  }

  /**
   * A folder created after start (a new camera, a dated sub-folder): its files are tracked from listings too, not
   * only from chokidar's events. A camera or FTP server that creates a folder and writes into it at once races the
   * watch being set up on it: a bench round writing 100 files into a new folder lost 37 of them to chokidar, and the
   * periodic sweep only re-queues known rows, so a missed file waited for the next restart. The folder is listed at
   * once, after 1 s and after the stability window, by when its watch is certainly in place; files pending or
   * reported in the last minute are skipped.
   */
  private sweepNewFolder(watchedDir: string): void {
    if (this.stopped || isHiddenBelow(this.watchedRoot, watchedDir)) return;
    const list = async () => {
      for await (const file of scanMediaFiles(watchedDir, { onError: () => undefined })) {
        if (this.stopped) return;
        const publicPath = this.toPublic(file);
        if (!this.pending.has(publicPath) && !this.reported.has(publicPath)) this.track(file, undefined);
      }
    };
    const run = () =>
      void list().catch((error: unknown) =>
        this.options.log.debug({ err: error, dir: watchedDir }, 'new folder listing failed; chokidar events remain'),
      );
    run();
    for (const delay of [1000, this.stableMs + 1000]) {
      const timer = this.clock.setTimeout(() => {
        this.relists.delete(timer);
        run();
      }, delay);
      this.relists.add(timer);
    }
  }

  /** A file was added or written: (re)start its stability window. */
  private track(watchedPath: string, stats: Stats | undefined): void {
    if (this.stopped || !isSupportedMediaPath(watchedPath)) return;
    const filePath = this.toPublic(watchedPath);
    let entry = this.pending.get(filePath);
    if (entry === undefined) {
      entry = { signature: undefined, timer: undefined, version: 0 };
      this.pending.set(filePath, entry);
    }
    entry.version += 1;
    if (stats !== undefined) entry.signature = signatureOf(stats);
    this.schedule(filePath, entry);
  }

  private schedule(filePath: string, entry: PendingFile): void {
    this.clearTimer(entry);
    entry.timer = this.clock.setTimeout(() => {
      entry.timer = undefined;
      this.check(filePath, entry).catch((error: unknown) =>
        this.options.log.error({ err: error, path: filePath }, 'media stability check failed'),
      );
    }, this.stableMs);
  }

  private async check(filePath: string, entry: PendingFile): Promise<void> {
    const version = entry.version;
    let signature: string;
    try {
      signature = signatureOf(await lstat(filePath));
    } catch (error) {
      if (this.stopped || this.pending.get(filePath) !== entry) return;
      this.pending.delete(filePath);
      if (errnoOf(error) === 'ENOENT') {
        this.options.log.debug({ path: filePath }, 'media file vanished before it was stable');
        return;
      }
      // Let inspection record why the file cannot be used, rather than dropping it silently.
      this.options.log.warn({ err: error, path: filePath }, 'cannot stat media file; reporting it for inspection');
      this.emitReady(filePath);
      return;
    }
    if (this.stopped || this.pending.get(filePath) !== entry || entry.version !== version) return;
    if (signature !== entry.signature) {
      entry.signature = signature;
      this.schedule(filePath, entry);
      return;
    }
    this.pending.delete(filePath);
    this.emitReady(filePath);
  }

  private forget(filePath: string): void {
    const entry = this.pending.get(filePath);
    if (entry === undefined) return;
    this.clearTimer(entry);
    this.pending.delete(filePath);
  }

  private forgetUnder(dirPath: string): void {
    const prefix = dirPath + path.sep;
    for (const filePath of [...this.pending.keys()]) {
      if (filePath.startsWith(prefix)) this.forget(filePath);
    }
  }

  private clearTimer(entry: PendingFile): void {
    if (entry.timer !== undefined) this.clock.clearTimeout(entry.timer);
    entry.timer = undefined;
  }

  private emitReady(filePath: string): void {
    if (this.stopped) return;
    const now = this.clock.now();
    this.reported.set(filePath, now);
    if (this.reported.size > 1000) {
      for (const [file, at] of this.reported) if (now - at > 60_000) this.reported.delete(file);
    }
    for (const listener of this.listeners) {
      try {
        const result = listener(filePath);
        if (result instanceof Promise) {
          result.catch((error: unknown) => this.reportListenerError(filePath, error));
        }
      } catch (error) {
        this.reportListenerError(filePath, error);
      }
    }
  }

  private reportListenerError(filePath: string, error: unknown): void {
    this.options.log.error({ err: error, path: filePath }, 'media ready listener failed');
  }
}

export interface ScanOptions {
  /** Called for a sub-folder that cannot be listed (it is skipped); the scan goes on. */
  onError?: (dirPath: string, error: unknown) => void;
}

/**
 * Every supported media file under `root` (for reconciliation), depth first, in directory order. Skips dot-entries
 * and does not descend into symlinked folders; a symlink with a media extension is yielded for inspection to judge.
 * Throws (CONFIG_INVALID) only when the root itself cannot be listed.
 */
export async function* scanMediaFiles(root: string, options: ScanOptions = {}): AsyncGenerator<string> {
  const start = path.resolve(root);
  const stack = [start];
  for (let dir = stack.pop(); dir !== undefined; dir = stack.pop()) {
    let entries: Dir;
    try {
      entries = await opendir(dir, { bufferSize: 64 });
    } catch (error) {
      if (dir === start) throw mediaRootError(start, error);
      options.onError?.(dir, error);
      continue;
    }
    const subdirs: string[] = [];
    try {
      for await (const entry of entries) {
        if (entry.name.startsWith('.')) continue;
        const entryPath = path.join(dir, entry.name);
        if (entry.isDirectory()) subdirs.push(entryPath);
        else if ((entry.isFile() || entry.isSymbolicLink()) && isSupportedMediaPath(entry.name)) yield entryPath;
      }
    } catch (error) {
      // The folder vanished or became unreadable while being listed.
      options.onError?.(dir, error);
    }
    // Reversed so that popping visits sub-folders in directory order.
    stack.push(...subdirs.reverse());
  }
}
