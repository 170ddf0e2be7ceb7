import { randomBytes, timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import { Aedes, type AuthErrorCode, type AuthenticateError, type Client } from 'aedes';
import { AppError, errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { AuthThrottle, RateLimitedReport } from './auth-throttle.js';

export interface EmbeddedBrokerOptions {
  host: string;
  /** 0 picks a free port (tests); `start()` returns the URL with the real one. */
  port: number;
  /** '' = anonymous clients are accepted. */
  username: string;
  password: string;
  /**
   * HSI's own client id: only a client that also gives `ownCredentials()` may use it, so no other client can take
   * HSI's session over (a connection with a client id already connected replaces the older one). Absent: none is
   * reserved (a broker without HSI's client, in tests).
   */
  ownClientId?: string;
  log: Logger;
  /** For the login throttle (default Date.now). */
  now?: () => number;
}

/** CONNACK return code 5 (MQTT 3.1.1): not authorized. */
const NOT_AUTHORIZED = 5 as AuthErrorCode;
/** Failed logins per source address: 5 free, then 1 s doubled per failure up to 5 minutes. */
const LOGIN_THROTTLE = {
  freeFailures: 5,
  baseDelayMs: 1000,
  maxDelayMs: 300_000,
  forgetAfterMs: 3_600_000,
  maxKeys: 10_000,
};
/** One warning per source address per minute sums up its failed logins. */
const REPORT_INTERVAL_MS = 60_000;

/** CONNACK return code 4 (MQTT 3.1.1): bad user name or password. */
const BAD_USERNAME_OR_PASSWORD = 4 as AuthErrorCode;

/** Longer client ids than the protocol's guaranteed 23 characters are fine here (users configure their own). */
const MAX_CLIENT_ID_LENGTH = 256;

/**
 * The broker HSI starts when `mqtt.url` is empty: aedes with in-memory persistence (retained messages and last
 * wills work, nothing survives a restart), listening on TCP. Optional user name and password.
 *
 * HSI's own client id is reserved for HSI: its client authenticates with a password made at random for this process
 * (`ownCredentials()`), and any other connection with that id is refused. Failed logins are throttled per source
 * address (refused unchecked for a growing delay after 5 in a row), counted (`failedLogins`) and logged at most
 * once a minute per address.
 */
export class EmbeddedBroker {
  private broker: Aedes | undefined;
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly ownPassword = randomBytes(24).toString('base64url');
  private readonly throttle: AuthThrottle;
  private readonly report: RateLimitedReport;

  constructor(private readonly options: EmbeddedBrokerOptions) {
    const now = options.now ?? Date.now;
    this.throttle = new AuthThrottle(LOGIN_THROTTLE, now);
    this.report = new RateLimitedReport(REPORT_INTERVAL_MS, now);
  }

  /** What HSI's own client connects with: the configured user name (or `hsi`) and this process's own password. */
  ownCredentials(): { username: string; password: string } {
    return { username: this.options.username || 'hsi', password: this.ownPassword };
  }

  /** Connections refused for a wrong or missing password, a reserved client id, or a locked-out address. */
  get failedLogins(): number {
    return this.throttle.failures;
  }

  /** Resolves with `mqtt://host:port` (loopback for a wildcard host) once the broker listens. */
  async start(): Promise<string> {
    const { host, log } = this.options;
    const broker = await Aedes.createBroker({
      maxClientsIdLength: MAX_CLIENT_ID_LENGTH,
      authenticate: (...args) => this.authenticate(...args),
    });
    broker.on('clientError', (client, error) =>
      log.debug({ client_id: client.id, error: error.message }, 'embedded MQTT broker: client error'),
    );
    broker.on('connectionError', (client, error) =>
      log.debug({ client_id: client.id, error: error.message }, 'embedded MQTT broker: connection error'),
    );
    const server = net.createServer(broker.handle);
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    try {
      await listen(server, this.options.port, host);
    } catch (error) {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      throw this.listenError(error);
    }
    server.on('error', (error) => log.error({ err: error }, 'embedded MQTT broker: server error'));
    this.broker = broker;
    this.server = server;
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : this.options.port;
    log.info({ host, port, auth: this.authRequired() }, `embedded MQTT broker listening on ${host}:${port}`);
    // Listening on every interface: HSI itself connects over loopback.
    const connectHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
    return `mqtt://${connectHost.includes(':') ? `[${connectHost}]` : connectHost}:${port}`;
  }

  /** Disconnects every client and closes the listening socket. */
  async stop(): Promise<void> {
    const { broker, server } = this;
    this.broker = undefined;
    this.server = undefined;
    if (!server || !broker) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
    this.options.log.info('embedded MQTT broker stopped');
  }

  private authRequired(): boolean {
    return this.options.username !== '' || this.options.password !== '';
  }

  private authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    const own = this.options.ownClientId !== undefined && client.id === this.options.ownClientId;
    // HSI's own client first: a flood from the same (loopback) address must not lock HSI out of its broker.
    if (own && sameSecret(password ?? '', this.ownPassword)) {
      done(null, true);
      return;
    }
    if (!own && !this.authRequired()) {
      done(null, true);
      return;
    }
    // A TCP socket here (the broker listens on net only); other aedes transports have no address.
    const source = (client.conn as Partial<net.Socket> | undefined)?.remoteAddress ?? 'unknown';
    const lockedMs = this.throttle.lockedForMs(source);
    if (lockedMs > 0) {
      this.throttle.refused();
      this.refuse(client, source, `too many failed logins from ${source}: refused for ${Math.ceil(lockedMs / 1000)} s`);
      done(refusal('too many failed logins', NOT_AUTHORIZED), false);
      return;
    }
    const ok =
      !own && sameSecret(username ?? '', this.options.username) && sameSecret(password ?? '', this.options.password);
    if (ok) {
      this.throttle.succeed(source);
      done(null, true);
      return;
    }
    this.throttle.fail(source);
    if (own) {
      this.refuse(client, source, "another client tried to connect with HSI's own client id (session takeover)");
      done(refusal("client id reserved for HSI's own connection", NOT_AUTHORIZED), false);
      return;
    }
    this.refuse(client, source, 'bad username or password');
    done(refusal('bad username or password', BAD_USERNAME_OR_PASSWORD), false);
  }

  /** One warning per source address a minute, with how many logins it refused since the last one. */
  private refuse(client: Client, source: string, reason: string): void {
    const { report, count } = this.report.note(source);
    const fields = { client_id: client.id, source, reason };
    if (report) {
      this.options.log.warn(
        { ...fields, refused: count, failed_logins_total: this.throttle.failures },
        `embedded MQTT broker refused a client: ${reason} (${count} refused from ${source} since the last report)`,
      );
    } else {
      this.options.log.debug(fields, 'embedded MQTT broker refused a client');
    }
  }

  private listenError(error: unknown): AppError {
    const { host, port } = this.options;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      return new AppError(
        'CONFIG_INVALID',
        `mqtt.embedded.port ${port} on ${host} is in use: another MQTT broker (or another program) listens there; ` +
          'set mqtt.url to use that broker, or choose another mqtt.embedded.port',
        { cause: error },
      );
    }
    return new AppError(
      'CONFIG_INVALID',
      `mqtt.embedded: cannot listen on ${host}:${port} (${errorMessage(error)}); check mqtt.embedded.host and ` +
        'mqtt.embedded.port',
      { cause: error },
    );
  }
}

function listen(server: net.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function refusal(message: string, returnCode: AuthErrorCode): AuthenticateError {
  return Object.assign(new Error(message), { returnCode });
}

/** Constant-time comparison, so the password cannot be guessed from response times. */
function sameSecret(given: string | Buffer, expected: string): boolean {
  const a = Buffer.isBuffer(given) ? given : Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
