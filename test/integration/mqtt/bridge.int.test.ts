import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertService, alertToRecord } from '../../../src/alerts/alert.service.js';
import { ArmingService } from '../../../src/alerts/arming.service.js';
import { loadConfig } from '../../../src/config/load.js';
import type { BusEvents } from '../../../src/domain/events.js';
import { FakeClock } from '../../../src/lib/clock.js';
import { EventBus } from '../../../src/lib/event-bus.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { MqttBridge } from '../../../src/mqtt/bridge.js';
import type { ConnectListener, MessageHandler, MqttPublisher, PublishOptions } from '../../../src/mqtt/client.js';
import { getAlert, insertAlert } from '../../../src/storage/alert.repository.js';
import { ensureCamera } from '../../../src/storage/camera.repository.js';
import { insertEventForBatch } from '../../../src/storage/event.repository.js';
import { eventRecord, newEvent, systemHealth } from '../../support/builders.js';
import { seedDetections } from '../../support/seed.js';
import { createTestStore, type TestStore } from '../../support/stores.js';

/** One message as the broker would get it. */
interface Sent {
  topic: string;
  payload: string;
  retain: boolean;
  /** Sent with `publishConfirmed` (QoS 1, acknowledged): alerts. */
  confirmed: boolean;
}

/** An in-memory broker connection that records what is published, in order; `connect()` runs the connect hooks. */
class RecordingPublisher implements MqttPublisher {
  connected = false;
  readonly sent: Sent[] = [];
  readonly subscriptions: string[] = [];
  private readonly connectListeners: ConnectListener[] = [];

  publish(topic: string, payload: string | Buffer, options: PublishOptions = {}): void {
    this.sent.push({ topic, payload: payload.toString(), retain: options.retain === true, confirmed: false });
  }

  async publishAsync(topic: string, payload: string | Buffer, options?: PublishOptions): Promise<void> {
    this.publish(topic, payload, options);
  }

  async publishConfirmed(topic: string, payload: string | Buffer): Promise<boolean> {
    if (!this.connected) return false;
    this.sent.push({ topic, payload: payload.toString(), retain: false, confirmed: true });
    return true;
  }

  subscribe(filter: string, _handler: MessageHandler): void {
    this.subscriptions.push(filter);
  }

  onConnect(listener: ConnectListener): void {
    this.connectListeners.push(listener);
  }

  async connect(): Promise<void> {
    this.connected = true;
    await Promise.all(this.connectListeners.map((listener) => listener()));
  }

  /** Everything sent since the last call. */
  take(): Sent[] {
    return this.sent.splice(0);
  }
}

const NOW = Date.parse('2026-11-24T21:16:00.000Z');

const HEALTH = systemHealth({
  uptimeS: 61,
  queues: { detection: 0, analysis: 1 },
  camerasOnline: 1,
  camerasTotal: 1,
  eventsToday: 1,
});

async function until(probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Waits until `n` messages were sent (the bus runs its listeners without waiting for them). */
async function sentCount(publisher: RecordingPublisher, n: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (publisher.sent.length < n) {
    if (Date.now() > deadline) throw new Error(`${publisher.sent.length} messages sent, expected ${n}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The message with its payload parsed when it is JSON (most are; states like `ON` are not). */
const parsed = (m: Sent) => ({ ...m, payload: /^[[{]/.test(m.payload) ? JSON.parse(m.payload) : m.payload });

describe('MQTT bridge with a recording publisher', () => {
  let t: TestStore;
  let mediaRoot: string;
  let bus: EventBus<BusEvents>;
  let publisher: RecordingPublisher;
  let bridge: MqttBridge;

  beforeAll(async () => {
    t = await createTestStore('pglite');
    mediaRoot = mkdtempSync(path.join(os.tmpdir(), 'hsi-bridge-'));
    const log = silentLogger();
    const clock = new FakeClock(NOW);
    bus = new EventBus<BusEvents>(log);
    const db = t.store.db;
    await ensureCamera(db, { id: 'front_door', name: 'Front Door', folderPath: 'Front Door' });
    const { config } = loadConfig({
      env: { HSI_MQTT_BASE_TOPIC: 'hsi', HSI_MQTT_DISCOVERY_PREFIX: 'homeassistant' },
      cwd: mediaRoot,
      optionsFile: path.join(mediaRoot, 'no-options.json'),
    });
    publisher = new RecordingPublisher();
    bridge = new MqttBridge({
      brokerUrl: 'mqtt://127.0.0.1:1883',
      mqtt: config.mqtt,
      ha: config.homeassistant,
      version: '9.9.9',
      mediaRoot,
      extractFrames: async () => [],
      publisher,
      db,
      bus,
      alerts: new AlertService({ db, bus, log, clock }),
      arming: new ArmingService({ db, bus, log, clock }),
      commands: { handle: async () => ({ states: [] }), failedCodes: 0 },
      status: { health: async () => HEALTH },
      log,
      clock,
      random: () => 0,
    });
  });

  afterAll(async () => {
    bridge?.stop();
    await t?.dispose();
    if (mediaRoot !== undefined) rmSync(mediaRoot, { recursive: true, force: true });
  });

  it('on connect: subscribes, publishes discovery for the hub and each camera, then every retained state', async () => {
    bridge.start();
    expect(publisher.subscriptions).toStrictEqual([
      'homeassistant/status',
      'homeassistant/device/+/config',
      'hsi/+/set',
      'hsi/+/+/set',
      'hsi/+/+/+/set',
      'hsi/alerts/+',
    ]);
    expect(publisher.sent).toStrictEqual([]); // nothing before the broker connection is up
    await publisher.connect();
    const sent = publisher.take().map(parsed);
    expect(sent.map((m) => [m.topic, m.retain, m.confirmed])).toStrictEqual([
      ['homeassistant/device/hsi_hub/config', true, false],
      ['homeassistant/device/hsi_front_door/config', true, false],
      ['hsi/alarm/state', true, false],
      ['hsi/cameras/front_door/detect/state', true, false],
      ['hsi/health/cameras/front_door', true, false],
      ['hsi/hub/active_alerts', true, false],
      ['hsi/health/system', true, false],
    ]);
    const [hub, camera] = sent;
    const origin = { name: 'HSI', sw_version: '9.9.9', support_url: 'https://github.com/hsi-project/hsi' };
    expect(hub?.payload).toMatchObject({
      dev: {
        identifiers: ['hsi_hub'],
        name: 'HSI',
        manufacturer: 'HSI',
        model: 'Home Security Intelligence hub',
        sw_version: '9.9.9',
      },
      o: origin,
      qos: 1,
    });
    expect(hub?.payload.cmps.alarm).toStrictEqual({
      p: 'alarm_control_panel',
      name: 'Alarm',
      unique_id: 'hsi_hub_alarm',
      default_entity_id: 'alarm_control_panel.hsi_hub_alarm',
      availability: [{ topic: 'hsi/availability' }],
      state_topic: 'hsi/alarm/state',
      command_topic: 'hsi/alarm/set',
      supported_features: ['arm_home', 'arm_away', 'arm_night'],
      code_arm_required: false,
      code_disarm_required: false,
    });
    expect(camera?.payload.dev).toStrictEqual({
      identifiers: ['hsi_front_door'],
      name: 'Front Door',
      manufacturer: 'HSI',
      model: 'Upload folder camera',
      sw_version: '9.9.9',
      via_device: 'hsi_hub',
    });
    expect(Object.keys(camera?.payload.cmps).sort()).toStrictEqual([
      'detection',
      'motion',
      'person',
      'risk_level',
      'risk_score',
      'security_event',
      'snapshot',
      'status',
    ]);
    expect(sent.slice(2).map((m) => m.payload)).toStrictEqual([
      'disarmed',
      'ON',
      // Never uploaded: offline.
      'offline',
      { count: 0, alerts: [] },
      {
        version: '9.9.9',
        uptime_s: 61,
        queues: { detection: 0, analysis: 1 },
        inference_ms: { p50: null, p95: null },
        dead_letters: 0,
        cameras_online: 1,
        cameras_total: 1,
        llm_reachable: null,
        events_today: 1,
        failed_logins: 0,
        ingest_ok: null,
        ingest_problem: null,
      },
    ]);
  });

  it('a new event: the event stream, the retained risk sensor, then the security event entity', async () => {
    bus.emit('event.created', { event: eventRecord(), latencyMs: 5 });
    await sentCount(publisher, 3);
    const summary = 'Unknown person lingering at the front door';
    const startedAt = '2026-11-24T21:14:03.250Z';
    expect(publisher.take().map(parsed)).toStrictEqual([
      {
        topic: 'hsi/events/front_door',
        payload: {
          type: 'new',
          id: 12,
          batch_id: 'front_door:1764018843250',
          camera_id: 'front_door',
          risk_score: 52,
          risk_level: 'medium',
          summary,
          reasoning: 'Person stayed 60 s near the door at night',
          recommended_action: null,
          object_types: ['person'],
          detection_count: 6,
          started_at: startedAt,
          ended_at: '2026-11-24T21:15:10.000Z',
          is_fast_path: true,
          analysis_source: 'rules_fallback',
          closed_at: null,
        },
        retain: false,
        confirmed: false,
      },
      {
        topic: 'hsi/cameras/front_door/risk',
        payload: {
          risk_score: 52,
          risk_level: 'medium',
          event_id: 12,
          summary,
          reasoning: 'Person stayed 60 s near the door at night',
          object_types: ['person'],
          started_at: startedAt,
        },
        retain: true,
        confirmed: false,
      },
      {
        topic: 'hsi/cameras/front_door/security_event',
        payload: {
          event_type: 'medium',
          event_id: 12,
          risk_score: 52,
          summary,
          object_types: ['person'],
          started_at: startedAt,
        },
        retain: false,
        confirmed: false,
      },
    ]);
  });

  it('a new alert: stream and hub entity confirmed by the broker, marked delivered, active alerts updated', async () => {
    const db = t.store.db;
    const ids = await seedDetections(db, 'front_door', [{ objectType: 'person', confidence: 0.9 }], new Date(NOW));
    const { event } = await insertEventForBatch(db, newEvent({ startedAt: new Date(NOW), riskScore: 80 }), ids);
    const { alert } = await insertAlert(db, {
      eventId: event.id,
      ruleId: null,
      severity: 'high',
      dedupKey: 'front_door:night',
      message: 'Person at the front door at night',
      createdAt: new Date(NOW),
    });
    bus.emit('alert.created', { alert: alertToRecord(alert, 'front_door') });
    await until(async () => publisher.sent.some((m) => m.topic === 'hsi/hub/active_alerts'));
    // A second copy of the sensor's state would follow at once: give it the time to show.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await getAlert(db, alert.id))?.status).toBe('delivered');
    const created = '2026-11-24T21:16:00.000Z';
    const sent = publisher.take().map(parsed);
    expect(sent.filter((m) => m.confirmed)).toStrictEqual([
      {
        topic: 'hsi/alerts/high',
        payload: {
          type: 'new',
          id: alert.id,
          event_id: event.id,
          rule_id: null,
          severity: 'high',
          status: 'pending',
          camera_id: 'front_door',
          message: 'Person at the front door at night',
          dedup_key: 'front_door:night',
          created_at: created,
          acknowledged_by: null,
          dismissed_by: null,
        },
        retain: false,
        confirmed: true,
      },
      {
        topic: 'hsi/hub/alert',
        payload: {
          event_type: 'high',
          alert_id: alert.id,
          event_id: event.id,
          rule_id: null,
          status: 'pending',
          camera_id: 'front_door',
          message: 'Person at the front door at night',
          dedup_key: 'front_door:night',
          created_at: created,
        },
        retain: false,
        confirmed: true,
      },
    ]);
    // The rest is the hub's retained active-alerts sensor, now showing the alert: published once.
    const rest = sent.filter((m) => !m.confirmed);
    expect(rest).toHaveLength(1);
    for (const m of rest) {
      expect(m).toStrictEqual({
        topic: 'hsi/hub/active_alerts',
        payload: {
          count: 1,
          alerts: [
            {
              id: alert.id,
              severity: 'high',
              camera: 'front_door',
              summary: 'Person at the front door at night',
              created_at: created,
            },
          ],
        },
        retain: true,
        confirmed: false,
      });
    }
  });
});
