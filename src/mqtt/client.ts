import { connect, type MqttClient } from 'mqtt';
import { AppError, errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { buildClientOptions, type MqttConnectionOptions, redactUrl } from './client-options.js';
import { OfflineQueue, type QueuedMessage } from './offline-queue.js';
import { publishTopicProblem, topicFilterProblem, topicMatches } from './topic-filter.js';

export type { MqttConnectionOptions, MqttTlsFiles } from './client-options.js';
export { connectionOptionsFromConfig } from './client-options.js';

export interface PublishOptions {
  retain?: boolean;
  qos?: 0 | 1;
}

/** How long `publishConfirmed` waits for the broker's acknowledgement. */
const CONFIRM_TIMEOUT_MS = 10_000;

export type MessageHandler = (topic: string, payload: Buffer) => void | Promise<void>;
export type ConnectListener = () => void | Promise<void>;

/** What the rest of HSI needs from the broker: publishing never throws, handlers survive reconnects. */
export interface MqttPublisher {
  readonly connected: boolean;
  publish(topic: string, payload: string | Buffer, options?: PublishOptions): void;
  publishAsync(topic: string, payload: string | Buffer, options?: PublishOptions): Promise<void>;
  /**
   * QoS 1, only while connected, never queued: true once the broker acknowledged the message; false when not
   * connected, refused, or unacknowledged within 10 s (for what must be retried: alerts).
   */
  publishConfirmed(topic: string, payload: string | Buffer): Promise<boolean>;
  subscribe(filter: string, handler: MessageHandler): void;
  onConnect(listener: ConnectListener): void;
}

/** The broker connection (Zigbee2MQTT's lib/mqtt.ts is the model): last will, availability, offline queue. */
export class MqttConnection implements MqttPublisher {
  readonly availabilityTopic: string;
  private readonly log: Logger;
  private readonly queue: OfflineQueue;
  private readonly subscriptions = new Map<string, Set<MessageHandler>>();
  private readonly connectListeners: ConnectListener[] = [];
  private client: MqttClient | undefined;
  private isConnected = false;
  private started = false;
  private stopping = false;
  private everConnected = false;
  private attempts = 0;
  private connectedAt = 0;
  /** Connections in a row that the broker closed soon after they were made (a takeover by another client?). */
  private shortSessions = 0;
  private lastTakeoverReportAt = Number.NEGATIVE_INFINITY;
  private clientId = '';
  private outageSince: number | undefined;
  private lastError: string | undefined;
  private queueFullWarned = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private firstConnect: (() => void) | undefined;

  constructor(private readonly options: MqttConnectionOptions) {
    this.availabilityTopic = `${options.baseTopic}/availability`;
    this.log = options.log;
    this.queue = new OfflineQueue(options.offlineQueueMax);
  }

  get connected(): boolean {
    return this.isConnected;
  }

  /** Resolves on the first connection, or after `connectTimeoutMs` with a warning (retries go on). */
  async start(): Promise<void> {
    if (this.started || this.stopping) return;
    this.started = true;
    const clientOptions = await buildClientOptions(this.options, this.availabilityTopic);
    if (this.stopping) return;
    const url = redactUrl(this.options.url);
    const first = new Promise<void>((resolve) => {
      this.firstConnect = resolve;
    });
    try {
      this.client = connect(this.options.url, clientOptions);
    } catch (error) {
      throw new AppError('CONFIG_INVALID', `mqtt.url ${url} is not a usable broker URL: ${errorMessage(error)}`, {
        cause: error,
      });
    }
    this.clientId = clientOptions.clientId ?? '';
    this.log.info({ url, client_id: clientOptions.clientId }, 'connecting to MQTT broker');
    this.client.on('connect', () => this.handleConnect());
    this.client.on('close', () => this.handleClose());
    this.client.on('error', (error) => {
      this.lastError = error.message;
      this.log.debug({ error: error.message }, 'MQTT client error');
    });
    this.client.on('message', (topic, payload) => this.dispatch(topic, payload));
    // A will published late (the broker noticed only now that an earlier connection of ours died) must not leave
    // HSI shown offline while it runs.
    this.subscribe(this.availabilityTopic, (_topic, payload) => {
      if (!this.isConnected || this.stopping || payload.toString() !== 'offline') return;
      this.log.info('stale offline availability (an earlier last will) answered with online');
      this.send({ topic: this.availabilityTopic, payload: 'online', qos: 1, retain: true });
    });
    const timeoutMs = this.options.connectTimeoutMs ?? 5000;
    if (!(await withTimeout(first, timeoutMs)) && !this.stopping) {
      this.log.warn(
        { url, error: this.lastError },
        `MQTT broker not reachable within ${timeoutMs} ms; HSI keeps running and keeps retrying in the background`,
      );
    }
  }

  /** Publishes `offline` (retained), then disconnects cleanly; every wait is bounded. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearTimeout(this.reconnectTimer);
    this.firstConnect?.();
    const client = this.client;
    if (!client) return;
    const unsent = this.queue.drain().length;
    if (unsent > 0) this.log.warn({ unsent }, 'MQTT stopped with queued messages the broker never received');
    const limitMs = this.options.stopTimeoutMs ?? 2000;
    const end = (force: boolean) => withTimeout(new Promise((resolve) => client.end(force, {}, resolve)), limitMs);
    let clean = false;
    if (this.isConnected) {
      const offline: QueuedMessage = { topic: this.availabilityTopic, payload: 'offline', qos: 1, retain: true };
      clean =
        (await withTimeout(new Promise<void>((resolve) => this.send(offline, resolve)), limitMs)) && (await end(false));
    }
    if (!clean) {
      client.stream?.destroy();
      await end(true);
    }
    this.isConnected = false;
    this.log.info({ clean }, 'MQTT connection closed');
  }

  publish(topic: string, payload: string | Buffer, options: PublishOptions = {}): void {
    void this.publishAsync(topic, payload, options);
  }

  /** Resolves once the broker acknowledged (QoS 1), the message went to the socket (QoS 0), was queued or dropped. */
  publishAsync(topic: string, payload: string | Buffer, options: PublishOptions = {}): Promise<void> {
    return new Promise<void>((resolve) => {
      try {
        this.route(topic, payload, options, resolve);
      } catch (error) {
        this.log.warn({ topic, err: error }, 'MQTT publish failed');
        resolve();
      }
    });
  }

  publishConfirmed(topic: string, payload: string | Buffer): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const client = this.client;
      if (!this.isConnected || this.stopping || client === undefined || publishTopicProblem(topic) !== undefined) {
        resolve(false);
        return;
      }
      const timer = setTimeout(() => resolve(false), CONFIRM_TIMEOUT_MS);
      try {
        client.publish(topic, payload, { qos: 1, retain: false }, (error) => {
          clearTimeout(timer);
          if (error) this.log.debug({ topic, error: error.message }, 'MQTT publish not confirmed');
          resolve(!error);
        });
      } catch (error) {
        clearTimeout(timer);
        this.log.warn({ topic, err: error }, 'MQTT publish failed');
        resolve(false);
      }
    });
  }

  /** Dispatches messages whose topic matches `filter` (`+` and `#` wildcards) to `handler`, across reconnects. */
  subscribe(filter: string, handler: MessageHandler): void {
    const problem = topicFilterProblem(filter);
    if (problem) throw new AppError('INVALID_INPUT', `cannot subscribe to MQTT filter '${filter}': ${problem}`);
    let handlers = this.subscriptions.get(filter);
    if (!handlers) {
      handlers = new Set();
      this.subscriptions.set(filter, handlers);
      if (this.isConnected) this.subscribeAtBroker([filter]);
    }
    handlers.add(handler);
  }

  /** Called after every (re)connect, once `online` is published and subscriptions are renewed; at once if connected. */
  onConnect(listener: ConnectListener): void {
    this.connectListeners.push(listener);
    if (this.isConnected) void this.notify([listener]);
  }

  private route(topic: string, payload: string | Buffer, options: PublishOptions, done: () => void): void {
    const problem =
      publishTopicProblem(topic) ??
      (typeof payload === 'string' || Buffer.isBuffer(payload) ? undefined : 'the payload is not a string or Buffer');
    if (problem !== undefined) {
      this.log.warn({ topic: String(topic).slice(0, 200) }, `MQTT message dropped: ${problem}`);
      done();
      return;
    }
    if (this.stopping) {
      this.log.debug({ topic }, 'MQTT message dropped: the connection is stopped');
      done();
      return;
    }
    const message: QueuedMessage = { topic, payload, qos: options.qos === 1 ? 1 : 0, retain: options.retain === true };
    if (this.isConnected) {
      this.send(message, done);
      return;
    }
    const { dropped } = this.queue.push(message);
    if (dropped > 0) {
      const level = this.queueFullWarned ? 'debug' : 'warn';
      this.queueFullWarned = true;
      this.log[level](
        { max: this.options.offlineQueueMax, dropped },
        'MQTT offline queue full: oldest messages dropped',
      );
    }
    done();
  }

  private send(message: QueuedMessage, done?: () => void): void {
    const { topic, payload, qos, retain } = message;
    try {
      if (qos === 0) {
        // Handed to the socket: no callback, which would cost a 'drain' listener per message in a burst.
        this.client?.publish(topic, payload, { qos, retain });
        done?.();
        return;
      }
      this.client?.publish(topic, payload, { qos, retain }, (error) => {
        if (error) this.log.debug({ topic, error: error.message }, 'MQTT publish not confirmed');
        done?.();
      });
    } catch (error) {
      this.log.warn({ topic, err: error }, 'MQTT publish failed');
      done?.();
    }
  }

  private handleConnect(): void {
    this.isConnected = true;
    this.connectedAt = Date.now();
    this.queueFullWarned = false;
    const url = redactUrl(this.options.url);
    if (this.outageSince !== undefined) {
      const downS = Math.round((Date.now() - this.outageSince) / 100) / 10;
      this.log.info({ url, down_s: downS }, `MQTT connection restored after ${downS} s`);
    } else if (!this.everConnected) {
      this.log.info({ url }, 'connected to MQTT broker');
    }
    this.everConnected = true;
    this.outageSince = undefined;
    this.lastError = undefined;
    this.send({ topic: this.availabilityTopic, payload: 'online', qos: 1, retain: true });
    if (this.subscriptions.size > 0) this.subscribeAtBroker([...this.subscriptions.keys()]);
    for (const message of this.queue.drain()) this.send(message);
    this.firstConnect?.();
    void this.notify(this.connectListeners);
  }

  private handleClose(): void {
    const wasConnected = this.isConnected;
    this.isConnected = false;
    if (this.stopping) return;
    if (wasConnected) this.noteSessionEnd();
    if (wasConnected) {
      this.outageSince = Date.now();
      // A takeover fight is reported once a minute by noteSessionEnd, not once per lost connection.
      this.log[this.shortSessions >= 2 ? 'debug' : 'warn'](
        { url: redactUrl(this.options.url), error: this.lastError },
        'MQTT broker connection lost; messages are queued and the connection is retried with backoff',
      );
    }
    this.scheduleReconnect();
  }

  /**
   * A connection that lasted: the backoff starts over. One closed soon after it was made keeps the backoff growing
   * (exponential, capped), so two clients with the same client id (two HSI instances, or a client copying HSI's id)
   * do not knock each other off in a tight loop; from the second in a row it is reported, once a minute, as an
   * error.
   */
  private noteSessionEnd(): void {
    const livedMs = Date.now() - this.connectedAt;
    if (livedMs >= (this.options.stableAfterMs ?? 10_000)) {
      this.attempts = 0;
      this.shortSessions = 0;
      return;
    }
    this.shortSessions++;
    if (this.shortSessions < 2 || Date.now() - this.lastTakeoverReportAt < 60_000) return;
    this.lastTakeoverReportAt = Date.now();
    this.log.error(
      { client_id: this.clientId, short_sessions: this.shortSessions, lived_ms: livedMs, error: this.lastError },
      `the MQTT broker keeps closing HSI's connection right after it is made: another client probably uses the ` +
        `client id ${this.clientId} (a second HSI instance?) and takes the session over; give each a distinct ` +
        'mqtt.client_id. Reconnecting with a growing delay',
    );
  }

  private scheduleReconnect(): void {
    const client = this.client;
    if (this.reconnectTimer !== undefined || this.stopping || !client) return;
    const min = this.options.reconnectMinMs ?? 1000;
    const delayMs = Math.min(min * 2 ** Math.min(this.attempts, 20), this.options.reconnectMaxMs ?? 30_000);
    this.attempts++;
    this.log.debug({ delay_ms: delayMs, attempt: this.attempts }, 'MQTT reconnect scheduled');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.stopping) return;
      // Keep the stores so QoS 1 messages in flight when the connection dropped are sent again.
      client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore });
    }, delayMs);
  }

  private subscribeAtBroker(filters: string[]): void {
    this.client?.subscribe(filters, { qos: 1 }, (error, granted) => {
      if (error) {
        this.log.warn({ filters, error: error.message }, 'MQTT subscribe failed');
        return;
      }
      for (const grant of granted ?? []) {
        if (grant.qos === 128) this.log.warn({ filter: grant.topic }, 'MQTT broker refused the subscription');
      }
    });
  }

  /** Runs every handler whose filter matches, each handler once even when it is subscribed under overlapping filters. */
  private dispatch(topic: string, payload: Buffer): void {
    const called = new Set<MessageHandler>();
    for (const [filter, handlers] of this.subscriptions) {
      if (!topicMatches(filter, topic)) continue;
      for (const handler of handlers) {
        if (called.has(handler)) continue;
        called.add(handler);
        const fail = (error: unknown) => this.log.error({ topic, filter, err: error }, 'MQTT message handler failed');
        try {
          const result = handler(topic, payload);
          if (result instanceof Promise) result.catch(fail);
        } catch (error) {
          fail(error);
        }
      }
    }
  }

  private async notify(listeners: ConnectListener[]): Promise<void> {
    for (const listener of listeners) {
      try {
        await listener();
      } catch (error) {
        this.log.error({ err: error }, 'MQTT on-connect listener failed');
      }
    }
  }
}

function withTimeout(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  return Promise.race([promise.then(() => true), timeout]).finally(() => clearTimeout(timer));
}
