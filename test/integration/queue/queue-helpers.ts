import { randomUUID } from 'node:crypto';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { Queue } from 'bullmq';
import { createLogger, type Logger } from '../../../src/lib/logger.js';
import { QUEUE_NAMES } from '../../../src/queue/contracts.js';
import { services } from '../../support/env.js';

export const EMPTY = { waiting: 0, active: 0, delayed: 0, dead: 0 };
export const WAIT = { timeout: 10_000, interval: 10 };

/** Every test gets its own key prefix on the shared Redis. */
export function uniquePrefix(): string {
  return `hsi-test-q-${randomUUID().slice(0, 8)}`;
}

/** Removes everything a test's prefix left in Redis, through BullMQ's own `obliterate`. */
export async function obliterate(prefix: string): Promise<void> {
  for (const name of Object.values(QUEUE_NAMES)) {
    const queue = new Queue(name, { connection: { url: services.redisUrl }, prefix });
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** A debug-level pino logger whose lines are kept in memory, parsed, for assertions on what was logged. */
export function captureLogger(): { log: Logger; lines: () => { msg: string; level: number }[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString('utf8'));
      callback();
    },
  });
  const log = createLogger('debug', stream);
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as { msg: string; level: number });
  return { log, lines };
}

/**
 * A TCP forwarder in front of Redis that a test can stop and start again on the same port: a Redis outage and
 * recovery as the queue sees it, without touching the shared Redis server.
 */
export class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<number> {
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, this.targetHost);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this.port;
  }

  /** Refuses new connections and cuts the open ones. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
