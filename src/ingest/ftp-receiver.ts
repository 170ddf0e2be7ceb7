import { lookup } from 'node:dns/promises';
import type { EventEmitter } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import { type FtpServerOptions, FtpSrv } from 'ftp-srv';
import type { FtpConfig } from '../config/sections/ftp.js';
import { AppError, errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { duplicateFtpUsernames, FTP_ALLOWED_COMMANDS, ftpUserFolder } from './ftp-access.js';
import {
  FTP_CONNECTION_BOUNDS,
  FTP_GUARD_MESSAGES,
  FtpConnectionGuard,
  type FtpSession,
  limitConnectionsPerAddress,
} from './ftp-guard.js';
import { ftpSrvLogger } from './ftp-log.js';
import { FTP_WARNING_INTERVAL_MS, FtpLogins, FtpWarnings } from './ftp-login.js';
import { sweepAbandonedUploads } from './ftp-sweep.js';
import { FtpRefusal, type UploadStream } from './ftp-upload.js';

/**
 * The optional embedded FTP server (ftp-srv) for cameras that can only upload by FTP. Each configured user lands
 * in its own camera folder under `media_root` and can do nothing there but upload, create folders and rename its
 * files; the normal media watcher then ingests what arrives, exactly as for files copied there any other way.
 * No client can hold it: connections per address are capped, clients that do not log in, trickle bytes or do not
 * read their replies are closed (ftp-guard.ts), and password guessing is locked out per address (ftp-login.ts).
 */

export interface FtpReceiver {
  /** `ftp://host:port` (loopback for a wildcard host), with the real port. */
  url: string;
  port: number;
  /**
   * Logins refused since start (wrong credentials, and attempts from addresses locked out for repeated failures);
   * only grows. Meant for a `hsi_ftp_failed_logins_total` counter and an alarm on its rate.
   */
  failedLogins(): number;
  /** Cuts off uploads in progress (their partial files removed), disconnects clients and stops listening. */
  close(): Promise<void>;
}

export interface FtpReceiverDeps {
  mediaRoot: string;
  /** Larger uploads are aborted with an FTP error (`ingest.max_file_mb` in bytes). */
  maxFileBytes: number;
  log: Logger;
}

/** ftp-srv installs handlers for these that call `process.exit`; shutdown belongs to main.ts, so they are removed. */
const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const;
/** A temporary upload file untouched this long belongs to no live upload (see ftp-sweep.ts); swept at start, hourly. */
const ABANDONED_AFTER_MS = 10 * 60_000;
const SWEEP_EVERY_MS = 60 * 60_000;

interface Peer {
  remote: string;
  local: string;
}

/** ftp-srv internals used here and missing from its type declarations. */
interface ConnectionSockets {
  commandSocket?: net.Socket;
}

function configError(message: string, cause?: unknown): AppError {
  return new AppError('CONFIG_INVALID', message, { permanent: true, cause });
}

/** Refuses configurations that would give a server nobody can use safely. */
export function checkFtpConfig(config: FtpConfig, mediaRoot: string): void {
  if (config.users.length === 0) {
    throw configError(
      'ftp.users is empty: the FTP receiver needs at least one user (username, password, camera) to accept ' +
        'uploads; add one or set ftp.enabled to false',
    );
  }
  const duplicates = duplicateFtpUsernames(config.users);
  if (duplicates.length > 0) {
    throw configError(`ftp.users: username ${duplicates.map((d) => `'${d}'`).join(', ')} is configured twice`);
  }
  if (config.passive_min_port > config.passive_max_port) {
    throw configError(
      `ftp.passive_min_port (${config.passive_min_port}) is above ftp.passive_max_port (${config.passive_max_port})`,
    );
  }
  const root = path.resolve(mediaRoot);
  for (const user of config.users) {
    const folder = ftpUserFolder(user);
    if (path.dirname(path.resolve(root, folder)) !== root || folder.startsWith('.')) {
      throw configError(`ftp.users: camera folder '${folder}' of '${user.username}' is not a folder name`);
    }
  }
}

/**
 * Starts the receiver (callers start it only when `ftp.enabled`). Throws `CONFIG_INVALID` for a configuration
 * nobody could use (no users, duplicate usernames, an inverted passive range) and for a port that cannot be
 * bound, naming the setting to change.
 */
export async function startFtpReceiver(config: FtpConfig, deps: FtpReceiverDeps): Promise<FtpReceiver> {
  checkFtpConfig(config, deps.mediaRoot);
  const log = deps.log.child({ component: 'ftp' });
  const uploads = new Set<UploadStream>();
  const peers = new Map<string, Peer>();
  const guards = new WeakMap<object, FtpConnectionGuard>();
  const warnings = new FtpWarnings(log);
  const server = createServer(config, log, peers);
  const events = server as unknown as EventEmitter;
  const logins = new FtpLogins({
    config,
    mediaRoot: deps.mediaRoot,
    maxFileBytes: deps.maxFileBytes,
    log,
    warnings,
    now: Date.now,
    onUpload: (connection, upload) => {
      uploads.add(upload);
      // The control connection is silent while its upload streams: its idle timer waits for the upload's end.
      const control = (connection as unknown as ConnectionSockets).commandSocket;
      control?.setTimeout(0);
      const guard = guards.get(connection);
      guard?.transferStarted();
      upload.once('close', () => {
        uploads.delete(upload);
        guard?.transferEnded();
        if (control !== undefined && !control.destroyed) control.setTimeout(config.idle_timeout_s * 1000);
      });
    },
  });

  server.on('login', ({ connection, username, password }, resolve, reject) => {
    logins.login(connection, username, password).then(resolve, reject);
  });
  const limits = {
    ...FTP_CONNECTION_BOUNDS,
    loginTimeoutMs: config.login_timeout_s * 1000,
    commandTimeoutMs: config.command_timeout_s * 1000,
  };
  events.on('connect', ({ id, connection }: { id: string; connection: ConnectionSockets & FtpSession }) => {
    const socket = connection.commandSocket;
    peers.set(id, { remote: socket?.remoteAddress ?? '', local: socket?.localAddress ?? '' });
    if (socket === undefined) return;
    const remote = socket.remoteAddress ?? '';
    const guard = new FtpConnectionGuard(socket, connection, limits, (reason) =>
      warnings.warn(reason, remote, { reason }, FTP_GUARD_MESSAGES[reason], Date.now()),
    );
    guards.set(connection, guard);
    guard.start();
  });
  events.on('disconnect', ({ id }: { id: string }) => peers.delete(id));
  server.on('client-error', ({ context, error }) =>
    log.debug({ context, error: errorMessage(error) }, 'FTP client connection error'),
  );

  const listener = (server as unknown as { server: net.Server }).server;
  limitConnectionsPerAddress(listener, config.max_connections_per_address, (remote) =>
    warnings.warn(
      'connection_refused',
      remote,
      { max_connections_per_address: config.max_connections_per_address },
      'FTP connection refused: ftp.max_connections_per_address reached',
      Date.now(),
    ),
  );
  try {
    await server.listen();
  } catch (error) {
    await server.close().catch(() => undefined);
    throw listenError(config, error);
  }
  // Registered only now: a failed listen is reported once, by the AppError above.
  events.on('server-error', ({ error }: { error: unknown }) => log.error({ err: error }, 'FTP server error'));
  limitConnections(listener, config.max_connections, log);
  const address = listener.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  log.info(
    { host: config.host, port, passive_ports: `${config.passive_min_port}-${config.passive_max_port}` },
    `FTP receiver listening on ${config.host}:${port}`,
  );

  const folders = [...new Set(config.users.map((user) => path.join(deps.mediaRoot, ftpUserFolder(user))))];
  const sweep = () =>
    void sweepAbandonedUploads(folders, ABANDONED_AFTER_MS, Date.now(), log).catch((error: unknown) =>
      log.warn({ error: errorMessage(error) }, 'FTP upload sweep failed'),
    );
  sweep();
  const sweeper = setInterval(sweep, SWEEP_EVERY_MS).unref();
  const summaries = setInterval(() => warnings.flush(Date.now()), FTP_WARNING_INTERVAL_MS).unref();

  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    clearInterval(sweeper);
    clearInterval(summaries);
    const pending = [...uploads];
    for (const upload of pending) upload.destroy(new FtpRefusal('the FTP receiver is closing', 421));
    await Promise.all(pending.map((upload) => upload.placed.catch(() => undefined)));
    await server.close();
    warnings.flush(Number.POSITIVE_INFINITY);
    log.info('FTP receiver stopped');
  };
  return {
    url: `ftp://${urlHost(connectHost(config.host))}:${port}`,
    port,
    failedLogins: () => logins.failedLogins(),
    close: () => {
      closing ??= close();
      return closing;
    },
  };
}

function createServer(config: FtpConfig, log: Logger, peers: ReadonlyMap<string, Peer>): FtpSrv {
  const before = SIGNALS.map((signal) => new Set(process.listeners(signal)));
  const options: FtpServerOptions = {
    url: `ftp://${urlHost(config.host)}:${config.port}`,
    // ftp-srv calls a function with the client's address and waits for the address PASV announces.
    pasv_url: ((clientIp: string) => passiveAddress(config, log, peers, clientIp)) as unknown as string,
    pasv_min: config.passive_min_port,
    pasv_max: config.passive_max_port,
    anonymous: false,
    whitelist: [...FTP_ALLOWED_COMMANDS],
    greeting: 'HSI camera upload',
    log: ftpSrvLogger(log),
    // Idle control connections are closed; ftp-srv arms the timer on each command socket (see onUpload above).
    timeout: config.idle_timeout_s * 1000,
  };
  const server = new FtpSrv(options);
  SIGNALS.forEach((signal, index) => {
    for (const listener of process.listeners(signal)) {
      if (!before[index]?.has(listener)) process.off(signal, listener);
    }
  });
  return server;
}

/** Connections beyond `ftp.max_connections` are closed by Node before ftp-srv sees them; one warning a minute. */
function limitConnections(listener: net.Server, max: number, log: Logger): void {
  listener.maxConnections = max;
  let refused = 0;
  let warnedAt = Number.NEGATIVE_INFINITY;
  listener.on('drop', (data?: { remoteAddress?: string }) => {
    refused += 1;
    const now = Date.now();
    if (now - warnedAt < 60_000) return;
    warnedAt = now;
    log.warn(
      { max_connections: max, refused, remote_address: data?.remoteAddress },
      'FTP connection refused: ftp.max_connections reached (raise it if cameras need more)',
    );
    refused = 0;
  });
}

/** `ftp.passive_url` (resolved to IPv4), else the local address the client's control connection reached. */
async function passiveAddress(
  config: FtpConfig,
  log: Logger,
  peers: ReadonlyMap<string, Peer>,
  clientIp: string,
): Promise<string> {
  if (config.passive_url !== '') {
    if (net.isIPv4(config.passive_url)) return config.passive_url;
    try {
      return (await lookup(config.passive_url, { family: 4 })).address;
    } catch (error) {
      log.warn({ passive_url: config.passive_url, error: errorMessage(error) }, 'ftp.passive_url does not resolve');
      throw new FtpRefusal('passive mode unavailable: ftp.passive_url does not resolve', 425);
    }
  }
  const local = [...peers.values()].find((peer) => peer.remote === clientIp)?.local ?? '';
  const ipv4 = local.startsWith('::ffff:') ? local.slice('::ffff:'.length) : local;
  if (!net.isIPv4(ipv4)) throw new FtpRefusal('PASV needs an IPv4 address: use EPSV, or set ftp.passive_url', 425);
  return ipv4;
}

function connectHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function listenError(config: FtpConfig, error: unknown): AppError {
  const { host, port } = config;
  if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    return configError(
      `ftp.port ${port} on ${host} is in use: another FTP server (or another program) listens there; choose ` +
        'another ftp.port',
      error,
    );
  }
  return configError(
    `ftp: cannot listen on ${host}:${port} (${errorMessage(error)}); check ftp.host and ftp.port`,
    error,
  );
}
