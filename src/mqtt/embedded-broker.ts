import { timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import { Aedes, type AuthErrorCode, type AuthenticateError, type Client } from 'aedes';
import { AppError, errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';

export interface EmbeddedBrokerOptions {
  host: string;
  /** 0 picks a free port (tests); `start()` returns the URL with the real one. */
  port: number;
  /** '' = anonymous clients are accepted. */
  username: string;
  password: string;
  log: Logger;
}

/** CONNACK return code 4 (MQTT 3.1.1): bad user name or password. */
const BAD_USERNAME_OR_PASSWORD = 4 as AuthErrorCode;

/** Longer client ids than the protocol's guaranteed 23 characters are fine here (users configure their own). */
const MAX_CLIENT_ID_LENGTH = 256;

/**
 * The broker HSI starts when `mqtt.url` is empty: aedes with in-memory persistence (retained messages and last
 * wills work, nothing survives a restart), listening on TCP. Optional user name and password.
 */
export class EmbeddedBroker {
  private broker: Aedes | undefined;
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly options: EmbeddedBrokerOptions) {}

  /** Resolves with `mqtt://host:port` (loopback for a wildcard host) once the broker listens. */
  async start(): Promise<string> {
    const { host, log } = this.options;
    const broker = await Aedes.createBroker({
      maxClientsIdLength: MAX_CLIENT_ID_LENGTH,
      ...(this.authRequired() ? { authenticate: (...args) => this.authenticate(...args) } : {}),
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
    const ok = sameSecret(username ?? '', this.options.username) && sameSecret(password ?? '', this.options.password);
    if (ok) {
      done(null, true);
      return;
    }
    this.options.log.warn(
      { client_id: client.id, username: username ?? '' },
      'embedded MQTT broker refused a client: bad username or password',
    );
    const error = Object.assign(new Error('bad username or password'), { returnCode: BAD_USERNAME_OR_PASSWORD });
    done(error, false);
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

/** Constant-time comparison, so the password cannot be guessed from response times. */
function sameSecret(given: string | Buffer, expected: string): boolean {
  const a = Buffer.isBuffer(given) ? given : Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
