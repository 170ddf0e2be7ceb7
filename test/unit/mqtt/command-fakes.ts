import { Writable } from 'node:stream';
import type { HouseMode } from '../../../src/domain/arming.js';
import { FakeClock } from '../../../src/lib/clock.js';
import { AppError } from '../../../src/lib/errors.js';
import { createLogger } from '../../../src/lib/logger.js';
import type { AlertTarget } from '../../../src/mqtt/command-payloads.js';
import {
  type CommandServices,
  createCommandHandler,
  type MqttCommand,
  type StateUpdate,
} from '../../../src/mqtt/commands.js';
import type { AuditInput } from '../../../src/storage/audit.repository.js';

/** Fakes and expectations shared by the MQTT command handler's unit tests. */

export const NOW = Date.UTC(2026, 2, 1, 12);
export const A1 = '0b7c1c52-6a0e-4d3e-9a51-3f0c2d1e0a01';
export const A2 = '0b7c1c52-6a0e-4d3e-9a51-3f0c2d1e0a02';
export const A3 = '0b7c1c52-6a0e-4d3e-9a51-3f0c2d1e0a03';
export const MISSING = '0b7c1c52-6a0e-4d3e-9a51-3f0c2d1e0aff';
export const CODE = '4711';

export const ACK: MqttCommand = { kind: 'alerts', action: 'acknowledge' };
export const DISMISS: MqttCommand = { kind: 'alerts', action: 'dismiss' };
export const ALARM: MqttCommand = { kind: 'alarm_set' };
export const DETECT: MqttCommand = { kind: 'detect_set', cameraId: 'drive' };
export const ZONE: MqttCommand = { kind: 'zone_armed_set', zoneId: 'drive__gate' };
export const TOPIC = {
  ack: 'hsi/alerts/acknowledge',
  dismiss: 'hsi/alerts/dismiss',
  alarm: 'hsi/alarm/set',
  detect: 'hsi/cameras/drive/detect/set',
  zone: 'hsi/zones/drive__gate/armed/set',
};

/** Valid JSON (apart from the unknown field) of exactly 1 MiB. */
export const oneMebibyte = (head: string, tail: string) =>
  `${head}${'x'.repeat(1024 * 1024 - head.length - tail.length)}${tail}`;

type AlertStatus = 'pending' | 'delivered' | 'acknowledged' | 'dismissed';

/** In-memory services with the real ones' semantics (errors, return values); they record every change. */
export class FakeServices implements CommandServices {
  mode: HouseMode = 'disarmed';
  cameras = new Map([['drive', true]]);
  zones = new Map([['drive__gate', false]]);
  alerts = new Map<string, AlertStatus>([
    [A1, 'pending'],
    [A2, 'delivered'],
    [A3, 'acknowledged'],
  ]);
  audits: AuditInput[] = [];
  changes: string[] = [];
  failWith: Error | undefined;
  failAudit = false;

  private fail() {
    if (this.failWith !== undefined) throw this.failWith;
  }

  private async change(target: AlertTarget, to: 'acknowledged' | 'dismissed', actor: string) {
    this.fail();
    const active = (id: string) => ['pending', 'delivered'].includes(this.alerts.get(id) ?? '');
    if ('all' in target) {
      const ids = [...this.alerts.keys()].filter(active).reverse();
      for (const id of ids) this.alerts.set(id, to);
      this.changes.push(`${to} all by ${actor}: ${ids.length}`);
      return ids;
    }
    const status = this.alerts.get(target.id);
    if (status === undefined) throw new AppError('NOT_FOUND', `no alert with id ${target.id}`, { permanent: true });
    if (!active(target.id)) {
      throw new AppError('INVALID_TRANSITION', `cannot acknowledge an alert that is ${status} (${status} is final)`, {
        permanent: true,
      });
    }
    this.alerts.set(target.id, to);
    this.changes.push(`${to} ${target.id} by ${actor}`);
    return [target.id];
  }

  acknowledgeAlerts = (target: AlertTarget, actor: string) => this.change(target, 'acknowledged', actor);
  dismissAlerts = (target: AlertTarget, actor: string) => this.change(target, 'dismissed', actor);
  houseMode = async () => {
    this.fail();
    return this.mode;
  };
  setHouseMode = async (mode: HouseMode, actor: string) => {
    this.fail();
    const changed = this.mode !== mode;
    this.mode = mode;
    this.changes.push(`house ${mode} by ${actor}`);
    return { mode, changed };
  };
  zoneArmed = async (zoneId: string) => this.zones.get(zoneId);
  setZoneArmed = async (zoneId: string, armed: boolean, actor: string) => {
    this.fail();
    if (!this.zones.has(zoneId)) throw new AppError('NOT_FOUND', `no zone with id ${zoneId}`, { permanent: true });
    const changed = this.zones.get(zoneId) !== armed;
    this.zones.set(zoneId, armed);
    this.changes.push(`zone ${zoneId} ${armed} by ${actor}`);
    return { armed, changed };
  };
  detectionEnabled = async (cameraId: string) => this.cameras.get(cameraId);
  setDetectionEnabled = async (cameraId: string, enabled: boolean) => {
    this.fail();
    if (!this.cameras.has(cameraId)) return false;
    this.cameras.set(cameraId, enabled);
    this.changes.push(`detect ${cameraId} ${enabled}`);
    return true;
  };
  writeAudit = async (entry: AuditInput) => {
    if (this.failAudit) throw new Error('audit_logs insert failed: connection refused');
    this.audits.push(entry);
  };
}

/** A logger at info whose JSON lines are kept in `lines`. */
export function recordingLogger() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { log: createLogger('info', sink), lines };
}

export function setup(options: { alarmCode?: string; maxPayloadBytes?: number } = {}) {
  const services = new FakeServices();
  const { log, lines } = recordingLogger();
  const clock = new FakeClock(NOW);
  const handler = createCommandHandler({
    services,
    log,
    clock,
    maxPayloadBytes: options.maxPayloadBytes ?? 8192,
    ...(options.alarmCode === undefined ? {} : { alarmCode: options.alarmCode }),
  });
  const logs = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const send = (command: MqttCommand, payload: string | Buffer, topic: string) =>
    handler.handle(command, typeof payload === 'string' ? Buffer.from(payload) : payload, topic);
  return { services, send, logs, lines, clock, handler };
}

export const failure = (
  action: string,
  resourceType: string,
  resourceId: string | null,
  topic: string,
  reason: string,
) => ({
  action,
  resourceType,
  resourceId,
  actor: 'mqtt',
  details: { topic, reason },
  status: 'failure',
  timestamp: new Date(NOW),
});

export const refusedLog = (topic: string, reason: string) => [
  { level: 40, topic, reason, msg: 'mqtt command refused' },
];
export const pick = (logs: Record<string, unknown>[]) =>
  logs.map(({ level, topic, reason, msg, audit_error }) => ({
    level,
    topic,
    ...(reason === undefined ? {} : { reason }),
    ...(audit_error === undefined ? {} : { audit_error }),
    msg,
  }));

export const alarmState = (value: string): StateUpdate[] => [{ kind: 'alarm', value }];
