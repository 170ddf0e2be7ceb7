import type { AlertService } from '../alerts/alert.service.js';
import { alertToRecord } from '../alerts/alert.service.js';
import type { ArmingService } from '../alerts/arming.service.js';
import type { HomeAssistantConfig, MqttConfig } from '../config/schema.js';
import type { BusEvents, EventRecord } from '../domain/events.js';
import type { Clock } from '../lib/clock.js';
import type { EventBus } from '../lib/event-bus.js';
import type { Logger } from '../lib/logger.js';
import type { SystemStatus } from '../status/system-status.js';
import { countActiveAlerts } from '../storage/alert.repository.js';
import { listCameras } from '../storage/camera.repository.js';
import type { Db } from '../storage/database.js';
import { eventToRecord, latestEventOfCamera } from '../storage/event.repository.js';
import { listAlertsWithCamera } from '../storage/queries/alerts-with-camera.js';
import { getZone, listZones } from '../storage/zone.repository.js';
import { AlertDelivery } from './alert-delivery.js';
import type { MqttPublisher } from './client.js';
import type { CommandHandler } from './commands.js';
import { discoveryMessages, discoveryPlan, isOwnDiscoveryPayload } from './discovery.js';
import { loadEventPicture } from './event-snapshot.js';
import type { HaBusHandlers, HaComponentSource, HaUpdate } from './ha-components.js';
import { LatestEvents } from './latest-events.js';
import { LiveStates } from './live-states.js';
import { activeAlertsPayload, alarmStatePayload, riskStatePayload, systemHealthPayload } from './payloads.js';
import * as t from './topics.js';

export interface BridgeDeps {
  /** The broker the publisher is connected to (`mqtt.url`, or the embedded broker's URL). */
  brokerUrl: string;
  mqtt: MqttConfig;
  ha: HomeAssistantConfig;
  version: string;
  mediaRoot: string;
  /** Camera folders with an FTP login (enabled `ftp.users`): their devices say "FTP camera". */
  ftpFolders?: ReadonlySet<string>;
  /** Samples a clip into JPEG frames as the detection stage does: a clip event's snapshot is its best frame. */
  extractFrames: (file: string) => Promise<Buffer[]>;
  publisher: MqttPublisher;
  db: Db;
  bus: EventBus<BusEvents>;
  alerts: AlertService;
  arming: ArmingService;
  commands: CommandHandler;
  /** The system health sensor's reading: the shared system-status read model. */
  status: Pick<SystemStatus, 'health'>;
  /**
   * The Home Assistant entities the enabled features add: hub components, devices of their own, states, bus
   * listeners and security event attributes (ha-components.ts). The bridge is their only reader.
   */
  components?: readonly HaComponentSource[];
  log: Logger;
  clock: Clock;
  /** Random 0..1, for the 0-5 s delay after Home Assistant's birth message (tests pass a fixed one). */
  random?: () => number;
}

const RETAINED = { retain: true, qos: 1 } as const;
const SUPPORT_URL = 'https://github.com/hsi-project/hsi';

/**
 * Home Assistant over MQTT: discovery (on connect, and 0-5 s after HA's birth message, identical messages skipped,
 * removed devices cleared), every retained state, live states from the bus, commands with their responses, the
 * system health and the camera connectivity sensors.
 */
export class MqttBridge {
  private readonly published = new Map<string, string>();
  private readonly cameraOnline = new Map<string, boolean>();
  /** Cameras created by the configuration (a zone) before their first upload, still named after their id. */
  private readonly placeholders = new Set<string>();
  private readonly live: LiveStates;
  private readonly delivery: AlertDelivery;
  private readonly latest = new LatestEvents();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Unsubscribes the component sources' bus listeners. */
  private readonly busListeners: (() => void)[] = [];
  private collecting = false;
  /** Discovery topics the broker sent back retained while collecting. */
  private readonly retainedSeen = new Set<string>();
  private stopped = false;
  /** The last discovery run (never rejects): the next one starts after it. */
  private discoveryTail: Promise<void> = Promise.resolve();

  constructor(private readonly deps: BridgeDeps) {
    const onAlertsChanged = () => void this.publishActiveAlerts().catch((e: unknown) => this.warn('active alerts', e));
    this.delivery = new AlertDelivery({
      base: deps.mqtt.base_topic,
      publisher: deps.publisher,
      db: deps.db,
      alerts: deps.alerts,
      log: deps.log,
      onDelivered: onAlertsChanged,
    });
    this.live = new LiveStates({
      base: deps.mqtt.base_topic,
      publisher: deps.publisher,
      bus: deps.bus,
      deliverAlert: (alert) => this.delivery.deliver(alert),
      log: deps.log,
      clock: deps.clock,
      mediaRoot: deps.mediaRoot,
      motionOffDelayS: deps.ha.motion_off_delay_s,
      snapshotMaxPx: deps.ha.snapshot_max_px,
      latest: this.latest,
      onAlertsChanged,
      onCameraSeen: (id) => this.setCameraOnline(id, true),
      eventPicture: (event) =>
        loadEventPicture({ db: deps.db, mediaRoot: deps.mediaRoot, extractFrames: deps.extractFrames }, event.id),
      ...(this.sources.some((s) => s.securityEventAttributes !== undefined)
        ? { securityEventAttributes: (event: EventRecord) => this.securityEventAttributes(event) }
        : {}),
    });
  }

  /** The broker HSI publishes to: `mqtt.url`, or `mqtt://host:port` of the embedded broker. */
  /** Whether the broker connection is up (health, /metrics). */
  get connected(): boolean {
    return this.deps.publisher.connected;
  }

  get url(): string {
    return this.deps.brokerUrl;
  }

  /** Subscriptions and listeners; the connection calls `onConnect` on every (re)connect. */
  start(): void {
    const { publisher, mqtt, bus } = this.deps;
    const base = mqtt.base_topic;
    publisher.subscribe(t.homeAssistantStatusTopic(mqtt.discovery_prefix), (_topic, payload) => {
      if (payload.toString() !== 'online') return;
      const delay = Math.floor((this.deps.random ?? Math.random)() * 5000);
      this.later(delay, () => this.publishAll(true));
    });
    publisher.subscribe(`${mqtt.discovery_prefix}/device/+/config`, (topic, payload) => {
      // Retained configs from an earlier run: remembered so devices that no longer exist get cleared.
      const text = payload.toString();
      if (!this.collecting || text === '' || !isOwnDiscoveryPayload(base, text)) return;
      this.retainedSeen.add(topic);
      if (!this.published.has(topic)) this.published.set(topic, text);
    });
    // One handler for every filter: a topic matching two of them (`alerts/set`) is handled once.
    const onCommand = (topic: string, payload: Buffer) => this.onCommand(topic, payload);
    for (const filter of t.commandSubscriptions(base)) publisher.subscribe(filter, onCommand);
    publisher.onConnect(() => this.publishAll(false));
    // Alerts the broker never took (it was down) are still pending: published now, oldest first.
    publisher.onConnect(() => this.delivery.deliverPending());
    this.live.start();
    bus.on('camera.created', ({ cameraId }) => {
      this.publishDiscovery()
        .then(() => publisher.publish(t.detectStateTopic(base, cameraId), 'ON', RETAINED))
        .catch((e: unknown) => this.warn('discovery', e));
    });
    // Zones and cameras changed through the API (or another process): Home Assistant sees them at once.
    bus.on('zone.changed', ({ zoneId, action }) => {
      this.publishDiscovery()
        .then(() => this.publishZoneState(zoneId, action === 'deleted'))
        .catch((e: unknown) => this.warn('discovery', e));
    });
    bus.on('camera.updated', () => {
      this.publishDiscovery().catch((e: unknown) => this.warn('discovery', e));
    });
    bus.on('media.ingested', ({ cameraId }) => {
      this.setCameraOnline(cameraId, true);
      // The first upload names a placeholder camera after its folder: its device gets the new name.
      if (this.placeholders.delete(cameraId)) {
        this.publishDiscovery().catch((e: unknown) => this.warn('discovery', e));
      }
    });
    const every = (ms: number, fn: () => Promise<void>, what: string) => {
      const timer = setInterval(() => void fn().catch((e: unknown) => this.warn(what, e)), ms);
      timer.unref();
      this.timers.add(timer);
    };
    for (const source of this.sources) if (source.onBus !== undefined) this.listen(source.name, source.onBus);
    every(this.deps.ha.health_interval_s * 1000, () => this.publishHealth(), 'health');
    every(60_000, () => this.refreshCameraHealth(), 'camera health');
  }

  /** Stops listening and every timer; work in flight stops at its next step (the database may be closing). */
  stop(): void {
    this.stopped = true;
    this.live.stop();
    for (const off of this.busListeners.splice(0)) off();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  /** Discovery, then every state: on connect and after Home Assistant restarts. */
  async publishAll(force: boolean): Promise<void> {
    try {
      if (force) this.published.clear();
      else await this.collectRetainedConfigs();
      if (this.stopped) return;
      await this.publishDiscovery();
      if (this.stopped) return;
      await this.publishStates();
    } catch (error) {
      this.warn('publishing discovery and states', error);
    }
  }

  /**
   * Listens 300 ms for the retained discovery configs the broker holds. A config published earlier that did not come
   * back was lost (a broker restarted without persistence): it is forgotten, so discovery publishes it again.
   */
  private async collectRetainedConfigs(): Promise<void> {
    this.retainedSeen.clear();
    this.collecting = true;
    await new Promise((r) => setTimeout(r, 300));
    this.collecting = false;
    for (const topic of [...this.published.keys()]) {
      if (!this.retainedSeen.has(topic)) this.published.delete(topic);
    }
  }

  /**
   * Brings Home Assistant's discovery in line with the database. Calls run one after the other: two overlapping
   * runs could otherwise publish an older reading of the cameras and zones after a newer one.
   */
  publishDiscovery(): Promise<void> {
    const run = this.discoveryTail.then(() => this.discoverNow());
    this.discoveryTail = run.catch(() => undefined);
    return run;
  }

  /** A zone's retained arm state: its value, or cleared (empty retained payload) once the zone is gone. */
  private async publishZoneState(zoneId: string, deleted: boolean): Promise<void> {
    const { publisher, mqtt, db } = this.deps;
    const topic = t.zoneArmedStateTopic(mqtt.base_topic, zoneId);
    const zone = deleted ? undefined : await getZone(db, zoneId);
    publisher.publish(topic, zone === undefined ? '' : zone.armed ? 'ON' : 'OFF', RETAINED);
  }

  private async discoverNow(): Promise<void> {
    const { mqtt, ha, db, publisher } = this.deps;
    if (!mqtt.discovery) return;
    const cameras = await listCameras(db);
    const zones = await listZones(db);
    // A source that cannot read its devices fails the run: nothing is cleared on a failed read.
    const devices = (await Promise.all(this.sources.map((s) => s.devices?.(db) ?? Promise.resolve([])))).flat();
    this.placeholders.clear();
    for (const camera of cameras) if (camera.status === 'unknown') this.placeholders.add(camera.id);
    const messages = discoveryMessages({
      baseTopic: mqtt.base_topic,
      discoveryPrefix: mqtt.discovery_prefix,
      version: this.deps.version,
      supportUrl: SUPPORT_URL,
      cameras: cameras.map((c) => ({ id: c.id, name: c.name, ftp: this.deps.ftpFolders?.has(c.folder_path) === true })),
      zones: zones.map((z) => ({ id: z.id, cameraId: z.cameraId, name: z.name })),
      alarmCodeRequired: ha.alarm_code !== '',
      alarmCodeFormat: /^\d+$/.test(ha.alarm_code) || ha.alarm_code === '' ? 'number' : 'text',
      motionOffDelayS: ha.motion_off_delay_s,
      sources: this.sources,
      devices,
    });
    const plan = discoveryPlan(this.published, messages);
    for (const topic of plan.clear) {
      publisher.publish(topic, '', RETAINED);
      this.published.delete(topic);
    }
    for (const m of plan.publish) {
      publisher.publish(m.topic, m.payload, RETAINED);
      this.published.set(m.topic, m.payload);
    }
    if (plan.followUp) this.later(3000, () => this.publishDiscovery().catch((e: unknown) => this.warn('discovery', e)));
  }

  private async publishStates(): Promise<void> {
    const { mqtt, db, publisher, arming } = this.deps;
    const base = mqtt.base_topic;
    publisher.publish(t.alarmStateTopic(base), alarmStatePayload(await arming.houseMode()), RETAINED);
    for (const camera of await listCameras(db)) {
      publisher.publish(t.detectStateTopic(base, camera.id), camera.detection_enabled ? 'ON' : 'OFF', RETAINED);
      const event = await latestEventOfCamera(db, camera.id);
      if (event === undefined) {
        this.latest.forget(camera.id);
        continue;
      }
      const record = eventToRecord(event);
      if (this.latest.offer(record)) {
        publisher.publish(t.riskStateTopic(base, camera.id), JSON.stringify(riskStatePayload(record)), RETAINED);
      }
    }
    for (const zone of await listZones(db)) {
      publisher.publish(t.zoneArmedStateTopic(base, zone.id), zone.armed ? 'ON' : 'OFF', RETAINED);
    }
    this.cameraOnline.clear();
    await this.refreshCameraHealth();
    await this.publishActiveAlerts();
    await this.publishHealth();
  }

  private setCameraOnline(cameraId: string, online: boolean): void {
    if (this.cameraOnline.get(cameraId) === online) return;
    this.cameraOnline.set(cameraId, online);
    this.deps.publisher.publish(
      t.cameraHealthTopic(this.deps.mqtt.base_topic, cameraId),
      online ? 'online' : 'offline',
      RETAINED,
    );
  }

  /** A camera is online while it uploaded within `camera_offline_after_s`. */
  private async refreshCameraHealth(): Promise<void> {
    const cutoff = this.deps.clock.now() - this.deps.ha.camera_offline_after_s * 1000;
    for (const camera of await listCameras(this.deps.db)) {
      this.setCameraOnline(camera.id, camera.last_seen_at !== null && camera.last_seen_at.getTime() >= cutoff);
    }
  }

  private async publishActiveAlerts(): Promise<void> {
    const { db, publisher, mqtt } = this.deps;
    const active = await listAlertsWithCamera(db, { statuses: ['pending', 'delivered'], limit: 10 });
    const total = await countActiveAlerts(db);
    const records = active.map((a) => alertToRecord(a.alert, a.cameraId ?? ''));
    publisher.publish(
      t.activeAlertsTopic(mqtt.base_topic),
      JSON.stringify(activeAlertsPayload(records, total)),
      RETAINED,
    );
  }

  private async publishHealth(): Promise<void> {
    const health = await this.deps.status.health();
    this.deps.publisher.publish(
      t.systemHealthTopic(this.deps.mqtt.base_topic),
      JSON.stringify(systemHealthPayload(health)),
      RETAINED,
    );
    await this.refreshComponents();
  }

  private get sources(): readonly HaComponentSource[] {
    return this.deps.components ?? [];
  }

  /** What the features' Home Assistant entities publish now; their discovery again when their entities changed. */
  private async refreshComponents(): Promise<void> {
    let rediscover = false;
    for (const source of this.sources) {
      if (source.refresh === undefined) continue;
      rediscover = this.apply(await source.refresh(this.deps.db, new Date(this.deps.clock.now()))) || rediscover;
    }
    if (rediscover) await this.publishDiscovery();
  }

  /** Publishes a source's messages; true when it asks for discovery again. */
  private apply(update: HaUpdate): boolean {
    for (const m of update.messages) this.deps.publisher.publish(m.topic, m.payload, m.retain ? RETAINED : { qos: 1 });
    return update.rediscover;
  }

  /** Subscribes one source's bus listeners; what each returns is published (failures logged, never thrown). */
  private listen(name: string, handlers: HaBusHandlers): void {
    const on = <K extends keyof BusEvents>(event: K) => {
      const handler = handlers[event];
      if (handler === undefined) return;
      const off = this.deps.bus.on(event, async (payload) => {
        try {
          const update = await handler(this.deps.db, payload, new Date(this.deps.clock.now()));
          if (!this.stopped && this.apply(update)) await this.publishDiscovery();
        } catch (error) {
          this.warn(`${name} on ${event}`, error);
        }
      });
      this.busListeners.push(off);
    };
    for (const event of Object.keys(handlers) as (keyof BusEvents)[]) on(event);
  }

  /** Every source's extra attributes of a new security event, in source order; a failing source adds none. */
  private async securityEventAttributes(event: EventRecord): Promise<Record<string, unknown>> {
    const merged: Record<string, unknown> = {};
    for (const source of this.sources) {
      if (source.securityEventAttributes === undefined) continue;
      try {
        Object.assign(merged, await source.securityEventAttributes(this.deps.db, event));
      } catch (error) {
        this.warn(`${source.name} security event attributes`, error);
      }
    }
    return merged;
  }

  private async onCommand(topic: string, payload: Buffer): Promise<void> {
    const { mqtt, publisher, commands } = this.deps;
    const base = mqtt.base_topic;
    const parsed = t.parseCommandTopic(base, topic);
    if (parsed.kind === 'unknown' && !t.isCommandAttempt(base, topic)) return; // HSI's own alert streams
    const command = parsed.kind === 'unknown' ? ({ kind: 'unknown_command' } as const) : parsed;
    const outcome = await commands.handle(command, payload, topic);
    if (outcome.response !== undefined) {
      publisher.publish(`${base}/response/${outcome.response.path}`, JSON.stringify(outcome.response.body), { qos: 1 });
    }
    for (const state of outcome.states) {
      const stateTopic =
        state.kind === 'alarm'
          ? t.alarmStateTopic(base)
          : state.kind === 'detect'
            ? t.detectStateTopic(base, state.id ?? '')
            : t.zoneArmedStateTopic(base, state.id ?? '');
      publisher.publish(stateTopic, state.value, RETAINED);
    }
  }

  /** Runs `fn` after `ms` unless the bridge stopped first. */
  private later(ms: number, fn: () => Promise<void>): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.stopped) void fn();
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  private warn(what: string, error: unknown): void {
    this.deps.log.warn({ err: error }, `MQTT bridge: ${what} failed`);
  }
}
