import { mkdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import type { FtpConnection } from 'ftp-srv';
import type { FtpConfig } from '../config/sections/ftp.js';
import { cameraIdFromFolder } from '../domain/camera-id.js';
import { LoginThrottle, type LoginThrottlePolicy, LogRateGate, sourceKey } from '../domain/login-throttle.js';
import type { Logger } from '../lib/logger.js';
import { ftpUserFolder, matchFtpUser } from './ftp-access.js';
import { ConfinedFileSystem } from './ftp-filesystem.js';
import type { FtpGuardReason } from './ftp-guard.js';
import { FtpRefusal, type UploadStream } from './ftp-upload.js';

/**
 * FTP logins: credentials checked in constant time, a file system confined to the camera folder, and brute force
 * throttled per source address (`LoginThrottle`): once an address is locked out its logins are refused (530)
 * without being evaluated. Failures are counted (`failedLogins`) and logged at most once per address a minute,
 * plus one summary line of what was counted, so a password-guessing flood cannot fill the log or the `logs` table.
 */

/**
 * 5 failures in a minute: a camera with a wrong password fails once per upload attempt, a person typing one fails
 * once or twice; a guesser is stopped after 5 tries (it got 814 a second before). The first lockout lasts a minute,
 * then 2, 4, 8 … capped at 15 minutes, so a guesser gets about 5 tries per 15 minutes while a camera whose
 * password was corrected is let in again within 15 minutes at worst (or at once after a restart: state is memory).
 * 10,000 addresses remembered at most: a few hundred kilobytes.
 */
export const FTP_LOGIN_THROTTLE: LoginThrottlePolicy = {
  maxFailures: 5,
  windowMs: 60_000,
  lockoutMs: 60_000,
  maxLockoutMs: 15 * 60_000,
  maxTracked: 10_000,
};

/** One warning per kind and address per minute; what else happened is summed up in one line after it. */
export const FTP_WARNING_INTERVAL_MS = 60_000;
const MAX_LOGGED_USERNAME = 64;

type WarningKind = 'login_refused' | 'connection_refused' | FtpGuardReason;

const SUMMARIES: Record<WarningKind, string> = {
  login_refused: 'FTP logins refused (bad username or password, or locked out)',
  connection_refused: 'FTP connections refused: ftp.max_connections_per_address reached',
  login_timeout: 'FTP connections closed: no login within ftp.login_timeout_s',
  command_timeout: 'FTP connections closed: command not completed within ftp.command_timeout_s',
  line_too_long: 'FTP connections closed: command line too long',
  replies_unread: 'FTP connections closed: commands sent without reading the replies',
};

/** Warnings about clients, rate-limited per kind and source address (see `LogRateGate`). */
export class FtpWarnings {
  private readonly gate = new LogRateGate(FTP_WARNING_INTERVAL_MS, FTP_LOGIN_THROTTLE.maxTracked);

  constructor(private readonly log: Logger) {}

  /** Logs `message` unless this kind of event from this address was logged within the minute (it is counted). */
  warn(kind: WarningKind, remoteAddress: string, fields: Record<string, unknown>, message: string, now: number): void {
    if (this.gate.note(`${kind} ${sourceKey(remoteAddress)}`, now)) {
      this.log.warn({ ...fields, remote_address: remoteAddress }, message);
    }
  }

  /** One line per kind and address whose minute is over with events counted; every one of them at `Infinity`. */
  flush(now: number): void {
    for (const { key, suppressed } of this.gate.due(now)) {
      const space = key.indexOf(' ');
      const kind = key.slice(0, space) as WarningKind;
      const address = key.slice(space + 1);
      this.log.warn(
        { remote_address: address, kind, count: suppressed },
        `${SUMMARIES[kind]}: ${suppressed} more from ${address} within a minute`,
      );
    }
  }
}

export interface FtpLoginDeps {
  config: FtpConfig;
  mediaRoot: string;
  maxFileBytes: number;
  log: Logger;
  warnings: FtpWarnings;
  now: () => number;
  onUpload(connection: FtpConnection, upload: UploadStream): void;
}

export class FtpLogins {
  private readonly throttle = new LoginThrottle(FTP_LOGIN_THROTTLE);
  private failed = 0;

  constructor(private readonly deps: FtpLoginDeps) {}

  /** Logins refused since start: wrong credentials and attempts from locked-out addresses (monotonic). */
  failedLogins(): number {
    return this.failed;
  }

  /** ftp-srv's `login` handler: the user's confined file system, or an `FtpRefusal` (530). */
  async login(connection: FtpConnection, username: string, password: string): Promise<{ fs: ConfinedFileSystem }> {
    const { config, log, warnings } = this.deps;
    const remote = connection.ip ?? '';
    const key = sourceKey(remote);
    const now = this.deps.now();
    const verdict = this.throttle.check(key, now);
    if (!verdict.allowed) {
      this.failed += 1;
      const retryAfterS = Math.ceil(verdict.retryAfterMs / 1000);
      warnings.warn(
        'login_refused',
        remote,
        { retry_after_s: retryAfterS },
        'FTP login refused: address locked out after repeated failed logins',
        now,
      );
      throw new FtpRefusal(`Too many failed logins; try again in ${retryAfterS} s`, 530);
    }
    const user = matchFtpUser(config.users, username, password);
    if (user === undefined) {
      this.failed += 1;
      const outcome = this.throttle.recordFailure(key, now);
      const logged = { username: username.slice(0, MAX_LOGGED_USERNAME) };
      warnings.warn('login_refused', remote, logged, 'FTP login refused: bad username or password', now);
      if (outcome.lockedForMs !== undefined) {
        log.warn(
          { remote_address: remote, failures: outcome.failures, locked_for_s: Math.ceil(outcome.lockedForMs / 1000) },
          'FTP logins from an address locked out after repeated failures',
        );
      }
      throw new FtpRefusal('Login incorrect', 530);
    }
    this.throttle.recordSuccess(key);
    return { fs: await this.fileSystem(connection, user, remote) };
  }

  private async fileSystem(
    connection: FtpConnection,
    user: FtpConfig['users'][number],
    remote: string,
  ): Promise<ConfinedFileSystem> {
    const { log } = this.deps;
    const cameraFolder = ftpUserFolder(user);
    const folder = path.join(this.deps.mediaRoot, cameraFolder);
    let root: string;
    try {
      await mkdir(folder, { recursive: true });
      root = await realpath(folder);
    } catch (error) {
      log.error({ err: error, folder }, 'FTP login: the camera folder cannot be created');
      throw new FtpRefusal('camera folder unavailable', 530);
    }
    const cameraId = cameraIdFromFolder(cameraFolder);
    log.debug({ username: user.username, camera_id: cameraId, remote_address: remote }, 'FTP login');
    return new ConfinedFileSystem(connection, {
      root,
      cameraFolder,
      maxFileBytes: this.deps.maxFileBytes,
      log: log.child({ camera_id: cameraId, remote_address: remote }),
      onUpload: (upload) => this.deps.onUpload(connection, upload),
    });
  }
}
