import type net from 'node:net';
import { sourceKey } from '../domain/login-throttle.js';

/**
 * What one FTP client may hold of the receiver, enforced on its raw control socket in front of ftp-srv (which
 * reads without bounds: it treats each TCP chunk as whole command lines, answers every one however fast they come,
 * and keeps a connection whose client trickles bytes). Connections per source address are capped before ftp-srv
 * sees them; each accepted connection then gets a guard that frames command lines itself and closes the clients
 * that only hold resources:
 * - no login within `loginTimeoutMs` of connecting (421);
 * - a command line started and not finished within `commandTimeoutMs` (421; a slowloris), never during an upload;
 * - a command line longer than `maxLineBytes` (500);
 * - commands sent faster than they are answered (`maxUnansweredBytes` of command lines not yet answered) or
 *   replies not read (`maxUnreadReplyBytes` waiting in the socket's buffer): the client is not waiting for its
 *   replies, so it is disconnected at once.
 * Each bound is far above what a camera needs (it sends one short line and waits for the reply) and caps what a
 * client costs: about `maxLineBytes + maxUnansweredBytes + maxUnreadReplyBytes` of memory per connection.
 */

export interface FtpConnectionLimits {
  loginTimeoutMs: number;
  commandTimeoutMs: number;
  maxLineBytes: number;
  maxUnansweredBytes: number;
  maxUnreadReplyBytes: number;
}

/** Why a guard closed a connection (for logs). */
export type FtpGuardReason = 'login_timeout' | 'command_timeout' | 'line_too_long' | 'replies_unread';

/** The warning logged (once a minute per address, see `FtpWarnings`) when a guard closes a connection. */
export const FTP_GUARD_MESSAGES: Record<FtpGuardReason, string> = {
  login_timeout: 'FTP connection closed: no login within ftp.login_timeout_s',
  command_timeout: 'FTP connection closed: command not completed within ftp.command_timeout_s',
  line_too_long: 'FTP connection closed: command line too long',
  replies_unread: 'FTP connection closed: the client sends commands without reading the replies',
};

/** The part of ftp-srv's connection the guard reads: set once the client has logged in. */
export interface FtpSession {
  readonly authenticated?: boolean;
}

/**
 * Limits of the bounds not in the configuration. A path is at most 4096 bytes (Linux PATH_MAX), so 8 KiB holds any
 * real command line (vsftpd allows 4 KiB). A camera has one command unanswered at a time, a few dozen bytes.
 */
export const FTP_CONNECTION_BOUNDS = {
  maxLineBytes: 8 * 1024,
  maxUnansweredBytes: 64 * 1024,
  maxUnreadReplyBytes: 64 * 1024,
} as const;

/** How long a connection being closed may take to read its last reply before it is destroyed. */
const CLOSE_GRACE_MS = 2000;
const CRLF = Buffer.from('\r\n');

type DataListener = (data: Buffer) => unknown;

export class FtpConnectionGuard {
  private pending = Buffer.alloc(0);
  private unanswered = 0;
  private transfers = 0;
  private closing = false;
  private loginTimer: NodeJS.Timeout | undefined;
  private commandTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: net.Socket,
    private readonly session: FtpSession,
    private readonly limits: FtpConnectionLimits,
    private readonly onClosed: (reason: FtpGuardReason) => void,
  ) {}

  /** Takes the socket's `data` listeners (ftp-srv's) over: they now get whole command lines only. */
  start(): void {
    const listeners = this.socket.listeners('data') as DataListener[];
    this.socket.removeAllListeners('data');
    this.socket.on('data', (chunk: Buffer) => this.receive(chunk, listeners));
    this.loginTimer = setTimeout(() => {
      if (this.session.authenticated !== true) this.shut(421, 'Login timed out', 'login_timeout');
    }, this.limits.loginTimeoutMs);
    // ftp-srv's idle close waits until its 421 is written, which never happens for a client that does not read.
    this.socket.on('timeout', () => this.destroyLater());
    this.socket.once('close', () => {
      this.closing = true;
      this.clearTimers();
      this.pending = Buffer.alloc(0);
    });
  }

  /** An upload of this connection started: the command timeout waits for it. */
  transferStarted(): void {
    this.transfers += 1;
  }

  transferEnded(): void {
    this.transfers = Math.max(0, this.transfers - 1);
  }

  private receive(chunk: Buffer, listeners: readonly DataListener[]): void {
    if (this.closing) return;
    if (this.socket.writableLength > this.limits.maxUnreadReplyBytes) {
      this.abort('replies_unread');
      return;
    }
    const data = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const end = data.lastIndexOf(CRLF);
    const complete = end < 0 ? undefined : data.subarray(0, end + CRLF.length);
    const rest = end < 0 ? data : data.subarray(end + CRLF.length);
    if (
      rest.length > this.limits.maxLineBytes ||
      (complete !== undefined && longestLine(complete) > this.limits.maxLineBytes)
    ) {
      this.shut(500, 'Command line too long', 'line_too_long');
      return;
    }
    // A copy, so a large chunk is not kept alive by the few bytes of its last, unfinished line.
    this.pending = Buffer.from(rest);
    if (complete !== undefined || rest.length === 0) this.clearCommandTimer();
    if (rest.length > 0 && this.commandTimer === undefined) {
      this.commandTimer = setTimeout(() => this.commandTimedOut(), this.limits.commandTimeoutMs);
    }
    if (complete === undefined) return;
    if (this.unanswered + complete.length > this.limits.maxUnansweredBytes) {
      this.abort('replies_unread');
      return;
    }
    this.unanswered += complete.length;
    const answered = (): void => {
      this.unanswered -= complete.length;
    };
    const handled = listeners.map((listener) => {
      try {
        return listener.call(this.socket, complete);
      } catch (error) {
        return Promise.reject(error);
      }
    });
    Promise.allSettled(handled).then(answered, answered);
  }

  private commandTimedOut(): void {
    this.commandTimer = undefined;
    if (this.transfers > 0) {
      this.commandTimer = setTimeout(() => this.commandTimedOut(), this.limits.commandTimeoutMs);
      return;
    }
    this.shut(421, 'Command not completed in time', 'command_timeout');
  }

  /** Answers `code message`, stops reading commands, and destroys the socket if the client does not close it. */
  private shut(code: number, message: string, reason: FtpGuardReason): void {
    if (this.closing) return;
    this.closing = true;
    this.clearTimers();
    this.pending = Buffer.alloc(0);
    this.onClosed(reason);
    if (this.socket.writable) this.socket.end(`${code} ${message}\r\n`);
    this.destroyLater();
  }

  private abort(reason: FtpGuardReason): void {
    if (this.closing) return;
    this.closing = true;
    this.clearTimers();
    this.pending = Buffer.alloc(0);
    this.onClosed(reason);
    this.socket.destroy();
  }

  private destroyLater(): void {
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  private clearCommandTimer(): void {
    if (this.commandTimer !== undefined) clearTimeout(this.commandTimer);
    this.commandTimer = undefined;
  }

  private clearTimers(): void {
    this.clearCommandTimer();
    if (this.loginTimer !== undefined) clearTimeout(this.loginTimer);
    this.loginTimer = undefined;
  }
}

/** The length of the longest CRLF-terminated line in `lines`. */
function longestLine(lines: Buffer): number {
  let longest = 0;
  let start = 0;
  for (let end = lines.indexOf(CRLF, start); end >= 0; end = lines.indexOf(CRLF, start)) {
    longest = Math.max(longest, end - start);
    start = end + CRLF.length;
  }
  return longest;
}

/**
 * Puts a per-source-address cap in front of the listener's `connection` handlers (ftp-srv's): a connection beyond
 * `max` open from one address (IPv6: one /64) is answered 421 and closed before ftp-srv sees it. `onRefused` is
 * told of each refusal.
 */
export function limitConnectionsPerAddress(
  listener: net.Server,
  max: number,
  onRefused: (remoteAddress: string) => void,
): void {
  const handlers = listener.listeners('connection') as ((socket: net.Socket) => void)[];
  listener.removeAllListeners('connection');
  const open = new Map<string, number>();
  listener.on('connection', (socket: net.Socket) => {
    const remote = socket.remoteAddress ?? '';
    const key = sourceKey(remote);
    const count = open.get(key) ?? 0;
    if (count >= max) {
      socket.on('error', () => undefined);
      // Destroyed as soon as the reply is handed to the system: a refused connection holds no slot of
      // `ftp.max_connections` while its client takes its time to close.
      socket.end('421 Too many connections from your address\r\n', () => socket.destroy());
      setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
      onRefused(remote);
      return;
    }
    open.set(key, count + 1);
    socket.once('close', () => {
      const left = (open.get(key) ?? 1) - 1;
      if (left <= 0) open.delete(key);
      else open.set(key, left);
    });
    for (const handler of handlers) handler.call(listener, socket);
  });
}
