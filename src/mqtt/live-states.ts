import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { AlertService } from '../alerts/alert.service.js';
import type { BusEvents, DetectionRecord } from '../domain/events.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { EventBus } from '../lib/event-bus.js';
import type { Logger } from '../lib/logger.js';
import type { MqttPublisher } from './client.js';
import type { LatestEvents } from './latest-events.js';
import {
  alarmStatePayload,
  alertEventEntityPayload,
  alertStreamPayload,
  detectionPayload,
  eventPayload,
  riskStatePayload,
  securityEventEntityPayload,
} from './payloads.js';
import { annotateSnapshot } from './snapshot.js';
import * as t from './topics.js';

export interface LiveStatesDeps {
  base: string;
  publisher: MqttPublisher;
  bus: EventBus<BusEvents>;
  alerts: AlertService;
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
}

const RETAINED = { retain: true, qos: 1 } as const;
/** At most one snapshot per camera in this window; the latest detections win (drawing costs ~10-70 ms of CPU). */
const SNAPSHOT_INTERVAL_MS = 2000;
const EVENT = { retain: false, qos: 1 } as const;

/**
 * Turns bus events into MQTT messages: detection, event and alert streams, motion/person with their off delay, the
 * camera's risk sensors and event entity, the hub alert entity, arming states and the annotated snapshot.
 */
export class LiveStates {
  private readonly offTimers = new Map<string, TimerHandle>();
  private readonly snapshots = new Map<string, { lastAt: number; pending?: DetectionRecord[]; timer?: TimerHandle }>();
  private readonly unsubscribe: (() => void)[] = [];

  constructor(private readonly deps: LiveStatesDeps) {}

  start(): void {
    const { bus } = this.deps;
    this.unsubscribe.push(
      bus.on('detection.created', (e) => this.onDetections(e.cameraId, e.detections)),
      bus.on('event.created', ({ event }) => {
        const { base, publisher } = this.deps;
        publisher.publish(t.eventsTopic(base, event.cameraId), JSON.stringify(eventPayload(event)), EVENT);
        if (this.deps.latest.offer(event)) {
          publisher.publish(t.riskStateTopic(base, event.cameraId), JSON.stringify(riskStatePayload(event)), RETAINED);
        }
        publisher.publish(
          t.securityEventTopic(base, event.cameraId),
          JSON.stringify(securityEventEntityPayload(event)),
          EVENT,
        );
      }),
      bus.on('alert.created', async ({ alert }) => {
        const { base, publisher, alerts } = this.deps;
        publisher.publish(
          t.alertsStreamTopic(base, alert.severity),
          JSON.stringify(alertStreamPayload('new', alert)),
          EVENT,
        );
        await publisher.publishAsync(t.hubAlertEventTopic(base), JSON.stringify(alertEventEntityPayload(alert)), EVENT);
        if (publisher.connected) await alerts.markDelivered(alert.id);
        this.deps.onAlertsChanged();
      }),
      bus.on('alert.updated', ({ alert, action }) => {
        if (action === 'deliver') return;
        const { base, publisher } = this.deps;
        const type = action === 'acknowledge' ? 'acknowledged' : 'dismissed';
        publisher.publish(
          t.alertsStreamTopic(base, alert.severity),
          JSON.stringify(alertStreamPayload(type, alert)),
          EVENT,
        );
        this.deps.onAlertsChanged();
      }),
      bus.on('arming.changed', (change) => {
        const { base, publisher } = this.deps;
        if (change.scope === 'house')
          publisher.publish(t.alarmStateTopic(base), alarmStatePayload(change.mode), RETAINED);
        else publisher.publish(t.zoneArmedStateTopic(base, change.zoneId), change.armed ? 'ON' : 'OFF', RETAINED);
      }),
    );
  }

  stop(): void {
    for (const off of this.unsubscribe.splice(0)) off();
    for (const timer of this.offTimers.values()) this.deps.clock.clearTimeout(timer);
    this.offTimers.clear();
    for (const s of this.snapshots.values()) if (s.timer !== undefined) this.deps.clock.clearTimeout(s.timer);
    this.snapshots.clear();
  }

  private async onDetections(cameraId: string, detections: DetectionRecord[]): Promise<void> {
    const { base, publisher } = this.deps;
    this.deps.onCameraSeen(cameraId);
    for (const d of detections) {
      publisher.publish(t.detectionsTopic(base, cameraId, d.objectType), JSON.stringify(detectionPayload(d)), EVENT);
    }
    this.pulse(t.motionStateTopic(base, cameraId));
    if (detections.some((d) => d.objectType === 'person')) this.pulse(t.personStateTopic(base, cameraId));
    this.scheduleSnapshot(cameraId, detections);
  }

  /** The first snapshot of a burst at once, then at most one per interval with the latest detections. */
  private scheduleSnapshot(cameraId: string, detections: DetectionRecord[]): void {
    const { clock } = this.deps;
    const state = this.snapshots.get(cameraId) ?? { lastAt: Number.NEGATIVE_INFINITY };
    this.snapshots.set(cameraId, state);
    const wait = state.lastAt + SNAPSHOT_INTERVAL_MS - clock.now();
    if (wait <= 0 && state.timer === undefined) {
      state.lastAt = clock.now();
      void this.publishSnapshot(cameraId, detections);
      return;
    }
    state.pending = detections;
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

  private async publishSnapshot(cameraId: string, detections: DetectionRecord[]): Promise<void> {
    const first = detections[0];
    if (first === undefined || first.frameIndex !== null) return; // clips: no single frame to draw on
    try {
      const image = await readFile(path.join(this.deps.mediaRoot, first.filePath));
      const boxes = detections.map((d) => ({ label: d.objectType, confidence: d.confidence, box: d.bbox }));
      const jpeg = await annotateSnapshot(image, boxes, this.deps.snapshotMaxPx);
      this.deps.publisher.publish(t.snapshotTopic(this.deps.base, cameraId), jpeg, RETAINED);
    } catch (error) {
      this.deps.log.warn({ err: error, camera_id: cameraId }, 'snapshot not published');
    }
  }
}
