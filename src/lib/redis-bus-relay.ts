import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { BusEvents } from '../domain/events.js';
import type { EventBus } from './event-bus.js';
import type { Logger } from './logger.js';

/** Bus events that cross processes when roles are split, by the data model's channel. */
const CHANNELS: Record<string, readonly (keyof BusEvents)[]> = {
  security_events: [
    'detection.created',
    'detection.enriched',
    'event.created',
    'event.updated',
    'alert.created',
    'alert.updated',
  ],
  system_status: [
    'camera.created',
    'media.ingested',
    'media.processed',
    'media.rejected',
    'media.failed',
    'arming.changed',
    'zone.changed',
    'camera.updated',
    'camera.detection_changed',
    'household.changed',
  ],
};

const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;
const revive = (_key: string, value: unknown) =>
  typeof value === 'string' && ISO_DATE.test(value) ? new Date(value) : value;

interface Envelope {
  origin: string;
  name: keyof BusEvents;
  payload: unknown;
}

/**
 * The event bus across processes: every local event of the channels above is published on Redis
 * (`<prefix>:security_events`, `<prefix>:system_status`) and every one from another process is emitted locally, so
 * the process running the bridge and the API sees what the detect and analyze processes produce.
 */
export class RedisBusRelay {
  private readonly origin = randomUUID();
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly off: (() => void)[] = [];

  constructor(
    url: string,
    private readonly prefix: string,
    private readonly bus: EventBus<BusEvents>,
    private readonly log: Logger,
  ) {
    this.pub = new Redis(url, { maxRetriesPerRequest: null });
    this.sub = new Redis(url, { maxRetriesPerRequest: null });
    for (const c of [this.pub, this.sub]) c.on('error', (error) => log.debug({ err: error }, 'bus relay: Redis error'));
  }

  async start(): Promise<void> {
    const channels = Object.keys(CHANNELS).map((c) => `${this.prefix}:${c}`);
    this.sub.on('message', (_channel, message) => this.receive(message));
    await this.sub.subscribe(...channels);
    for (const [channel, names] of Object.entries(CHANNELS)) {
      for (const name of names) {
        this.off.push(
          this.bus.on(name, (payload, meta) => {
            if (meta.remote) return; // came from another process: it published it already
            const envelope: Envelope = { origin: this.origin, name, payload };
            this.pub.publish(`${this.prefix}:${channel}`, JSON.stringify(envelope)).catch((error: unknown) => {
              this.log.warn({ err: error, event: name }, 'bus relay: publish failed');
            });
          }),
        );
      }
    }
  }

  private receive(message: string): void {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(message, revive) as Envelope;
    } catch (error) {
      this.log.warn({ err: error }, 'bus relay: unreadable message ignored');
      return;
    }
    if (envelope.origin === this.origin) return;
    this.bus.emit(envelope.name, envelope.payload as never, { remote: true });
  }

  async stop(): Promise<void> {
    for (const off of this.off.splice(0)) off();
    await Promise.allSettled([this.sub.quit(), this.pub.quit()]);
  }
}
