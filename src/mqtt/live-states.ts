import type { AlertRecord, BusEvents, DetectionRecord, EventRecord } from '../domain/events.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { EventBus } from '../lib/event-bus.js';
import type { Logger } from '../lib/logger.js';
import { readVerifiedMedia } from '../lib/verified-media.js';
import { annotateSnapshot } from '../media/snapshot.js';
import type { MqttPublisher } from './client.js';
import type { EventPicture } from './event-snapshot.js';
import type { LatestEvents } from './latest-events.js';
import {
  alarmStatePayload,
  alertStreamPayload,
  detectionPayload,
  type EventChange,
  eventPayload,
  eventUpdateChange,
  riskStatePayload,
  securityEventEntityPayload,
} from './payloads.js';
import * as t from './topics.js';

export interface LiveStatesDeps {
  base: string;
  publisher: MqttPublisher;
  bus: EventBus<BusEvents>;
  /** Publishes a new alert and marks it delivered, or leaves it pending for the next connect (alert-delivery.ts). */
  deliverAlert: (alert: AlertRecord) => Promise<boolean>;
  log: Logger;
  clock: Clock;
  mediaRoot: string;
  motionOffDelayS: number;
  snapshotMaxPx: number;
  /** Shared with the full state republish: the risk sensor only moves to a newer event. */
  latest: LatestEvents;
  /** Called when something the hub's active-alerts sensor shows has changed. */
  onAlertsChanged: () => void;
  /** Called when a camera uploads (it is online). */
  onCameraSeen: (cameraId: string) => void;
  /** The source picture of an event's best frame (event-snapshot.ts); absent: events publish no picture. */
  eventPicture?: (event: EventRecord) => Promise<EventPicture | undefined>;
  /**
   * Extra attributes of a new event's `security_event` entity (the features' `securityEventAttributes`: who was
   * seen); never throws. The core keys win over them.
   */
  securityEventAttributes?: (event: EventRecord) => Promise<Record<string, unknown>>;
}

const RETAINED = { retain: true, qos: 1 } as const;

/** A photo's detections and the file they were found in, as recorded. */
interface Shot {
  detections: DetectionRecord[];
  media: BusEvents['detection.created']['media'];
}

/** At most one snapshot per camera in this window; the latest detections win (drawing costs ~10-70 ms of CPU). */
const SNAPSHOT_INTERVAL_MS = 2000;
const EVENT = { retain: false, qos: 1 } as const;
/** The longest an event's messages wait for its picture (a clip is sampled with ffmpeg first). */
const EVENT_PICTURE_WAIT_MS = 5000;
const ALERT_CHANGE = { acknowledge: 'acknowledged', dismiss: 'dismissed', escalate: 'escalated' } as const;

/**
 * Turns bus events into MQTT messages: detection, event and alert streams, motion/person with their off delay, the
 * camera's risk sensors and event entity, the hub alert entity, arming states and the annotated snapshot. A camera's
 * snapshots and event messages are published in order, one after the other: an event's picture (its best frame)
 * always reaches the broker before the event's own messages.
 */
export class LiveStates {
  private readonly offTimers = new Map<string, TimerHandle>();
  private readonly snapshots = new Map<string, { lastAt: number; pending?: Shot; timer?: TimerHandle }>();
  private readonly unsubscribe: (() => void)[] = [];
  /** Per camera, the tail of its ordered snapshot and event publishing. */
  private readonly chains = new Map<string, Promise<void>>();
  /** Per camera, the detection whose event picture is the retained snapshot now. */
  private readonly eventPictures = new Map<string, number>();

  constructor(private readonly deps: LiveStatesDeps) {}

  start(): void {
    const { bus } = this.deps;
    this.unsubscribe.push(
      bus.on('detection.created', (e) => this.onDetections(e.cameraId, { detections: e.detections, media: e.media })),
      // A camera's snapshot and event messages go out in bus order, each event's picture before its messages.
      bus.on('event.created', ({ event }) =>
        this.serial(event.cameraId, async () => {
          await this.publishEventPicture(event);
          const extra = (await this.deps.securityEventAttributes?.(event)) ?? {};
          this.publishEvent('new', event);
          // Fires once per visit: updates and the end of the visit change the sensors only.
          const core = securityEventEntityPayload(event);
          const added = Object.fromEntries(Object.entries(extra).filter(([key]) => !(key in core)));
          this.deps.publisher.publish(
            t.securityEventTopic(this.deps.base, event.cameraId),
            JSON.stringify({ ...core, ...added }),
            EVENT,
          );
          // Created already final (no fast path): its visit ends with it (the risk sensors already show it).
          if (event.closedAt !== null) this.publishEvent('end', event, false);
        }),
      ),
      bus.on('event.updated', ({ event }) =>
        this.serial(event.cameraId, async () => {
          await this.publishEventPicture(event);
          this.publishEvent(eventUpdateChange(event), event);
        }),
      ),
      bus.on('alert.created', async ({ alert }) => {
        // Delivered: the delivery published the active alerts already; pending, they are published here.
        if (!(await this.deps.deliverAlert(alert))) this.deps.onAlertsChanged();
      }),
      bus.on('alert.updated', ({ alert, action }) => {
        if (action === 'deliver') return;
        const { base, publisher } = this.deps;
        const type = ALERT_CHANGE[action];
        publisher.publish(
          t.alertsStreamTopic(base, alert.severity),
          JSON.stringify(alertStreamPayload(type, alert)),
          EVENT,
        );
        this.deps.onAlertsChanged();
      }),
      bus.on('camera.detection_changed', ({ cameraId, enabled }) => {
        const { base, publisher } = this.deps;
        publisher.publish(t.detectStateTopic(base, cameraId), enabled ? 'ON' : 'OFF', RETAINED);
      }),
      bus.on('arming.changed', (change) => {
        const { base, publisher } = this.deps;
        if (change.scope === 'house')
          publisher.publish(t.alarmStateTopic(base), alarmStatePayload(change.mode), RETAINED);
        else publisher.publish(t.zoneArmedStateTopic(base, change.zoneId), change.armed ? 'ON' : 'OFF', RETAINED);
      }),
    );
  }

  /** `hsi/events/<camera>` with the change, and the risk sensors when this is the camera's newest event. */
  private publishEvent(type: EventChange, event: EventRecord, risk = true): void {
    const { base, publisher } = this.deps;
    publisher.publish(t.eventsTopic(base, event.cameraId), JSON.stringify(eventPayload(type, event)), EVENT);
    if (risk && this.deps.latest.offer(event)) {
      publisher.publish(t.riskStateTopic(base, event.cameraId), JSON.stringify(riskStatePayload(event)), RETAINED);
    }
  }

  /**
   * The event's best frame, drawn, on the snapshot topic; skipped when that frame is the one published last for the
   * camera (an update that found no better detection). Bounded in time: a slow clip never holds the event back
   * more than EVENT_PICTURE_WAIT_MS (the picture is then left out).
   */
  private async publishEventPicture(event: EventRecord): Promise<void> {
    const { eventPicture, log } = this.deps;
    if (eventPicture === undefined) return;
    let timer: TimerHandle | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = this.deps.clock.setTimeout(() => resolve('timeout'), EVENT_PICTURE_WAIT_MS);
    });
    try {
      const work = (async () => {
        const picture = await eventPicture(event);
        if (picture === undefined || this.eventPictures.get(event.cameraId) === picture.detectionId) return undefined;
        return { id: picture.detectionId, jpeg: await annotateSnapshot(picture.image, picture.boxes, this.maxPx) };
      })();
      const drawn = await Promise.race([work, timeout]);
      if (drawn === 'timeout') {
        work.catch(() => undefined);
        log.warn({ camera_id: event.cameraId, event_id: event.id }, 'event snapshot too slow: event sent without it');
        return;
      }
      if (drawn === undefined) return;
      this.eventPictures.set(event.cameraId, drawn.id);
      this.deps.publisher.publish(t.snapshotTopic(this.deps.base, event.cameraId), drawn.jpeg, RETAINED);
    } catch (error) {
      log.warn({ err: error, camera_id: event.cameraId, event_id: event.id }, 'event snapshot not published');
    } finally {
      if (timer !== undefined) this.deps.clock.clearTimeout(timer);
    }
  }

  /** Runs `fn` after every earlier task of the camera; errors are logged, never passed on. */
  private serial(cameraId: string, fn: () => Promise<void>): Promise<void> {
    const previous = this.chains.get(cameraId) ?? Promise.resolve();
    const next = previous.then(fn).catch((error: unknown) => {
      this.deps.log.warn({ err: error, camera_id: cameraId }, 'MQTT live state not published');
    });
    this.chains.set(cameraId, next);
    void next.then(() => {
      if (this.chains.get(cameraId) === next) this.chains.delete(cameraId);
    });
    return next;
  }

  private get maxPx(): number {
    return this.deps.snapshotMaxPx;
  }

  stop(): void {
    for (const off of this.unsubscribe.splice(0)) off();
    for (const timer of this.offTimers.values()) this.deps.clock.clearTimeout(timer);
    this.offTimers.clear();
    for (const s of this.snapshots.values()) if (s.timer !== undefined) this.deps.clock.clearTimeout(s.timer);
    this.snapshots.clear();
    this.eventPictures.clear();
  }

  private async onDetections(cameraId: string, shot: Shot): Promise<void> {
    const { base, publisher } = this.deps;
    const { detections } = shot;
    this.deps.onCameraSeen(cameraId);
    for (const d of detections) {
      publisher.publish(t.detectionsTopic(base, cameraId, d.objectType), JSON.stringify(detectionPayload(d)), EVENT);
    }
    this.pulse(t.motionStateTopic(base, cameraId));
    if (detections.some((d) => d.objectType === 'person')) this.pulse(t.personStateTopic(base, cameraId));
    this.scheduleSnapshot(cameraId, shot);
  }

  /** The first snapshot of a burst at once, then at most one per interval with the latest detections. */
  private scheduleSnapshot(cameraId: string, shot: Shot): void {
    const { clock } = this.deps;
    const state = this.snapshots.get(cameraId) ?? { lastAt: Number.NEGATIVE_INFINITY };
    this.snapshots.set(cameraId, state);
    const wait = state.lastAt + SNAPSHOT_INTERVAL_MS - clock.now();
    if (wait <= 0 && state.timer === undefined) {
      state.lastAt = clock.now();
      void this.publishSnapshot(cameraId, shot);
      return;
    }
    state.pending = shot;
    state.timer ??= clock.setTimeout(
      () => {
        state.timer = undefined;
        const latest = state.pending;
        state.pending = undefined;
        state.lastAt = clock.now();
        if (latest !== undefined) void this.publishSnapshot(cameraId, latest);
      },
      Math.max(0, wait),
    );
  }

  /** ON now, OFF once no detection came for the off delay. */
  private pulse(topic: string): void {
    const { publisher, clock } = this.deps;
    const previous = this.offTimers.get(topic);
    if (previous === undefined) publisher.publish(topic, 'ON', RETAINED);
    else clock.clearTimeout(previous);
    this.offTimers.set(
      topic,
      clock.setTimeout(() => {
        this.offTimers.delete(topic);
        publisher.publish(topic, 'OFF', RETAINED);
      }, this.deps.motionOffDelayS * 1000),
    );
  }

  /**
   * The live snapshot of a photo's detections, in the camera's order with its events. Clips get theirs with their
   * event (the best frame, `publishEventPicture`): sampling a clip per detection batch would cost a decode each.
   */
  private publishSnapshot(cameraId: string, { detections, media }: Shot): Promise<void> {
    const first = detections[0];
    if (first === undefined || first.frameIndex !== null) return Promise.resolve();
    if (media === undefined) return Promise.resolve(); // from an older process: its event brings the picture
    return this.serial(cameraId, async () => {
      try {
        // Only the bytes that were processed, never through a link: the same check as the event picture's.
        const image = await readVerifiedMedia(this.deps.mediaRoot, media.path, media.sha256, media.size);
        const boxes = detections.map((d) => ({ label: d.objectType, confidence: d.confidence, box: d.bbox }));
        const jpeg = await annotateSnapshot(image, boxes, this.maxPx);
        this.eventPictures.delete(cameraId);
        this.deps.publisher.publish(t.snapshotTopic(this.deps.base, cameraId), jpeg, RETAINED);
      } catch (error) {
        this.deps.log.warn({ err: error, camera_id: cameraId }, 'snapshot not published');
      }
    });
  }
}
