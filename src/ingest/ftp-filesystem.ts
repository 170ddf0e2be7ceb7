import { constants, type Stats } from 'node:fs';
import { lstat, mkdir, open, readdir, realpath, stat } from 'node:fs/promises';
import type { Socket } from 'node:net';
import path from 'node:path';
import { FileSystem, type FtpConnection } from 'ftp-srv';
import type { Logger } from '../lib/logger.js';
import { ftpDiskPath, isWithin, resolveFtpPath } from './ftp-access.js';
import { FtpRefusal, ftpTempName, placeFile, UploadStream } from './ftp-upload.js';

/**
 * The file system one logged-in camera sees through ftp-srv: its camera folder as `/`, nothing above it. Every
 * name goes through `resolveFtpPath` (no `..` escape, no hidden or control-character names), then through
 * `realpath` so a symlink planted in the folder cannot lead outside it. Uploads are written by `UploadStream`
 * (temporary name, size limit, never replacing a picture); deleting, downloading and chmod are refused, and error
 * messages name client paths only.
 */

export interface ConfinedFileSystemOptions {
  /** The camera folder, symlinks resolved (`realpath`). */
  root: string;
  /** The folder's name under `media_root` (logged paths start with it, as the watcher will see them). */
  cameraFolder: string;
  maxFileBytes: number;
  /** Bound to the camera (`camera_id`) and the client (`remote_address`). */
  log: Logger;
  /** Told of each upload as it starts, so the receiver can cut uploads off when it closes. */
  onUpload(upload: UploadStream): void;
}

type NamedStats = Stats & { name: string };

function errnoOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

/** An `fs` error as an FTP reply that names the client path, never the server path. */
function fsRefusal(clientPath: string, error: unknown): FtpRefusal {
  if (error instanceof FtpRefusal) return error;
  switch (errnoOf(error)) {
    case 'ENOENT':
    case 'ENOTDIR':
      return new FtpRefusal(`${clientPath}: no such file or folder`);
    case 'EEXIST':
      return new FtpRefusal(`${clientPath}: already exists`, 553);
    case 'EACCES':
    case 'EPERM':
      return new FtpRefusal(`${clientPath}: permission denied`);
    case 'ENAMETOOLONG':
      return new FtpRefusal(`${clientPath}: name too long`, 553);
    case 'ENOSPC':
      return new FtpRefusal(`${clientPath}: no space left`, 552);
    default:
      return new FtpRefusal(`${clientPath}: cannot be used (${errnoOf(error) ?? 'error'})`);
  }
}

export class ConfinedFileSystem extends FileSystem {
  private dir = '/';

  constructor(
    connection: FtpConnection,
    private readonly options: ConfinedFileSystemOptions,
  ) {
    super(connection, { root: options.root, cwd: '/' });
  }

  override currentDirectory(): string {
    return this.dir;
  }

  override async get(fileName: string): Promise<NamedStats> {
    const { clientPath, fsPath } = this.resolve(fileName);
    const real = await this.existing(clientPath, fsPath);
    const stats = await stat(real).catch((error: unknown) => Promise.reject(fsRefusal(clientPath, error)));
    return Object.assign(stats, { name: path.posix.basename(clientPath) || '/' });
  }

  /** Files and folders only, hidden names (temporary uploads) and symlinks left out. */
  override async list(folder = '.'): Promise<NamedStats[]> {
    const { clientPath, fsPath } = this.resolve(folder);
    const real = await this.existing(clientPath, fsPath);
    try {
      const entries = await readdir(real, { withFileTypes: true });
      const visible = entries.filter((e) => !e.name.startsWith('.') && (e.isFile() || e.isDirectory()));
      const stats = await Promise.all(
        visible.map(async (e) => {
          const entryStats = await lstat(path.join(real, e.name)).catch(() => undefined);
          return entryStats === undefined ? undefined : Object.assign(entryStats, { name: e.name });
        }),
      );
      return stats.filter((s): s is NamedStats => s !== undefined);
    } catch (error) {
      throw fsRefusal(clientPath, error);
    }
  }

  override async chdir(folder = '.'): Promise<string> {
    const { clientPath, fsPath } = this.resolve(folder);
    await this.existingFolder(clientPath, fsPath);
    this.dir = clientPath;
    return clientPath;
  }

  override async mkdir(folder: string): Promise<string> {
    const { clientPath, fsPath } = this.resolve(folder);
    // The deepest part that exists must be a folder inside the root; the rest is created below it.
    let probe = fsPath;
    let real: string | undefined;
    while (real === undefined) {
      try {
        real = await realpath(probe);
      } catch (error) {
        if (errnoOf(error) !== 'ENOENT' || !isWithin(this.options.root, path.dirname(probe))) {
          throw fsRefusal(clientPath, error);
        }
        probe = path.dirname(probe);
      }
    }
    if (!isWithin(this.options.root, real)) throw new FtpRefusal(`${clientPath}: no such file or folder`);
    await mkdir(path.join(real, path.relative(probe, fsPath)), { recursive: true }).catch((error: unknown) =>
      Promise.reject(fsRefusal(clientPath, error)),
    );
    return clientPath;
  }

  override async write(
    fileName: string,
    options: { append?: boolean; start?: unknown } = {},
  ): Promise<{ stream: UploadStream; clientPath: string }> {
    if (options.append === true || (typeof options.start === 'number' && options.start > 0)) {
      throw new FtpRefusal('appending to and resuming uploads are not supported', 504);
    }
    const { clientPath, fsPath } = this.resolve(fileName);
    const { folder, name } = await this.placeIn(clientPath, fsPath);
    const finalPath = path.join(folder, name);
    const tempPath = path.join(folder, ftpTempName());
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
    const handle = await open(tempPath, flags, 0o666).catch((error: unknown) =>
      Promise.reject(fsRefusal(clientPath, error)),
    );
    const upload = new UploadStream({ handle, tempPath, finalPath, maxBytes: this.options.maxFileBytes });
    this.watchDataSocket(upload);
    this.options.onUpload(upload);
    upload.placed.then(
      ({ path: placedPath, bytes }) =>
        this.options.log.info({ path: this.relativeName(placedPath), bytes }, 'FTP upload received'),
      (error: unknown) =>
        this.options.log.warn(
          { path: this.relativeName(finalPath), reason: error instanceof Error ? error.message : String(error) },
          'FTP upload failed; its partial file was removed',
        ),
    );
    return { stream: upload, clientPath };
  }

  /** Renames a file inside the root (cameras that upload `x.tmp` then rename it `x.jpg`); never over a picture. */
  override async rename(from: string, to: string): Promise<void> {
    const source = this.resolve(from);
    const target = this.resolve(to);
    const sourceFolder = await this.existingFolder(source.clientPath, path.dirname(source.fsPath));
    const sourcePath = path.join(sourceFolder, path.basename(source.fsPath));
    const sourceStats = await lstat(sourcePath).catch((error: unknown) =>
      Promise.reject(fsRefusal(source.clientPath, error)),
    );
    if (!sourceStats.isFile()) throw new FtpRefusal(`${source.clientPath}: only files can be renamed`);
    const { folder, name } = await this.placeIn(target.clientPath, target.fsPath);
    const targetPath = path.join(folder, name);
    if (targetPath === sourcePath) return;
    const placed = await placeFile(sourcePath, targetPath).catch((error: unknown) =>
      Promise.reject(fsRefusal(target.clientPath, error)),
    );
    this.options.log.info(
      { path: this.relativeName(placed), from: this.relativeName(sourcePath), bytes: sourceStats.size },
      'FTP upload renamed',
    );
  }

  override read(): Promise<never> {
    return Promise.reject(new FtpRefusal('downloads are not allowed'));
  }

  override delete(): Promise<never> {
    return Promise.reject(new FtpRefusal('deleting is not allowed'));
  }

  override chmod(): Promise<never> {
    return Promise.reject(new FtpRefusal('changing permissions is not allowed'));
  }

  override getUniqueName(): string {
    return ftpTempName().slice(1);
  }

  private resolve(input: string | undefined): { clientPath: string; fsPath: string } {
    const result = resolveFtpPath(this.dir, input ?? '.');
    if (!result.ok) throw new FtpRefusal(result.reason, 553);
    return { clientPath: result.clientPath, fsPath: ftpDiskPath(this.options.root, result.clientPath) };
  }

  /** The real path of an existing entry; one that resolves outside the root is reported as missing. */
  private async existing(clientPath: string, fsPath: string): Promise<string> {
    const real = await realpath(fsPath).catch((error: unknown) => Promise.reject(fsRefusal(clientPath, error)));
    if (!isWithin(this.options.root, real)) throw new FtpRefusal(`${clientPath}: no such file or folder`);
    return real;
  }

  private async existingFolder(clientPath: string, fsPath: string): Promise<string> {
    const real = await this.existing(clientPath, fsPath);
    const stats = await stat(real).catch((error: unknown) => Promise.reject(fsRefusal(clientPath, error)));
    if (!stats.isDirectory()) throw new FtpRefusal(`${clientPath}: not a folder`);
    return real;
  }

  /** Where a file named by the client goes: its real folder (inside the root) and its name, not a folder. */
  private async placeIn(clientPath: string, fsPath: string): Promise<{ folder: string; name: string }> {
    if (clientPath === '/') throw new FtpRefusal('/: is a folder', 553);
    const folder = await this.existingFolder(path.posix.dirname(clientPath), path.dirname(fsPath));
    const name = path.basename(fsPath);
    const existing = await lstat(path.join(folder, name)).catch(() => undefined);
    if (existing?.isDirectory() === true) throw new FtpRefusal(`${clientPath}: is a folder`, 553);
    return { folder, name };
  }

  /**
   * ftp-srv ends an upload when the data connection ends cleanly; a connection that closes without that (reset,
   * or the control connection dropped mid-transfer) leaves the stream open, so it is cut off here.
   */
  private watchDataSocket(upload: UploadStream): void {
    // ftp-srv signals the end of the data by emitting `close` on the stream (like its own fs), which means "end".
    upload.on('close', () => {
      if (!upload.destroyed && !upload.writableEnded) upload.end();
    });
    const connector = (this.connection as unknown as { connector?: { socket?: Socket | null } }).connector;
    connector?.socket?.once('close', () => {
      if (!upload.destroyed && !upload.writableEnded) {
        upload.destroy(new FtpRefusal('data connection closed before the end of the upload', 426));
      }
    });
  }

  private relativeName(filePath: string): string {
    const below = path.relative(this.options.root, filePath).split(path.sep).join('/');
    return `${this.options.cameraFolder}/${below}`;
  }
}
