import { describe, expect, it } from 'vitest';
import type { AlertRecord } from '../../../src/domain/events.js';
import {
  activeAlertsPayload,
  alarmStatePayload,
  alertEventEntityPayload,
  alertStreamPayload,
  cameraStatus,
  commandResponsePayload,
  detectionPayload,
  eventPayload,
  eventUpdateChange,
  onOff,
  riskStatePayload,
  securityEventEntityPayload,
  systemHealthPayload,
} from '../../../src/mqtt/payloads.js';
import { alertRecord, detectionRecord, eventRecord } from '../../support/builders.js';

const detection = detectionRecord();

const event = eventRecord();

function alert(id: string, createdAt: string, status: AlertRecord['status'] = 'pending'): AlertRecord {
  return alertRecord({ id, createdAt: new Date(createdAt), status });
}

describe('stream payloads', () => {
  it('detection: id, confidence, bbox, file, detected_at and where it came from', () => {
    expect(detectionPayload(detection)).toStrictEqual({
      id: 41,
      camera_id: 'front_door',
      object_type: 'person',
      confidence: 0.93,
      bbox: { x: 120, y: 40.5, width: 88, height: 210 },
      file: '/media/Front Door/2026-11-24/snap_001.jpg',
      media_file_id: 7,
      frame_index: null,
      // The API path of the crop, not where the server keeps it.
      thumbnail: '/api/detections/41/thumbnail',
      detected_at: '2026-11-24T21:14:03.250Z',
    });
  });

  it('event: the change, every field in snake_case, times in ISO 8601, the analysis source', () => {
    expect(eventPayload('new', event)).toStrictEqual({
      type: 'new',
      id: 12,
      batch_id: 'front_door:1764018843250',
      camera_id: 'front_door',
      risk_score: 52,
      risk_level: 'medium',
      summary: 'Unknown person lingering at the front door',
      reasoning: 'Person stayed 60 s near the door at night',
      recommended_action: null,
      object_types: ['person'],
      detection_count: 6,
      started_at: '2026-11-24T21:14:03.250Z',
      ended_at: '2026-11-24T21:15:10.000Z',
      is_fast_path: true,
      analysis_source: 'rules_fallback',
      closed_at: null,
    });
  });

  it('event change: an update while the visit is open, the end once the event is closed', () => {
    const closed = { ...event, closedAt: new Date('2026-11-24T21:15:40.000Z') };
    expect(eventUpdateChange(event)).toBe('update');
    expect(eventUpdateChange(closed)).toBe('end');
    expect(eventPayload('end', closed)).toMatchObject({ type: 'end', id: 12, closed_at: '2026-11-24T21:15:40.000Z' });
    expect(eventPayload('update', event)).toMatchObject({ type: 'update', closed_at: null });
  });

  it('alert change: the type of change and the alert fields', () => {
    const acknowledged = { ...alert('a1', '2026-11-24T21:15:11.000Z', 'acknowledged'), acknowledgedBy: 'mqtt' };
    expect(alertStreamPayload('acknowledged', acknowledged)).toStrictEqual({
      type: 'acknowledged',
      id: 'a1',
      event_id: 12,
      rule_id: 'night-door',
      severity: 'high',
      status: 'acknowledged',
      camera_id: 'front_door',
      message: 'alert a1',
      dedup_key: 'front_door:night-door',
      created_at: '2026-11-24T21:15:11.000Z',
      acknowledged_by: 'mqtt',
      dismissed_by: null,
    });
    expect(alertStreamPayload('new', alert('a2', '2026-11-24T21:15:11.000Z'))).toMatchObject({
      acknowledged_by: null,
      dismissed_by: null,
    });
  });
});

describe('entity payloads', () => {
  it('security event entity: event_type is the risk level, the rest are attributes', () => {
    expect(securityEventEntityPayload(event)).toStrictEqual({
      event_type: 'medium',
      event_id: 12,
      risk_score: 52,
      summary: 'Unknown person lingering at the front door',
      object_types: ['person'],
      started_at: '2026-11-24T21:14:03.250Z',
    });
  });

  it('hub alert entity: event_type is the severity', () => {
    expect(alertEventEntityPayload(alert('a1', '2026-11-24T21:15:11.000Z'))).toStrictEqual({
      event_type: 'high',
      alert_id: 'a1',
      event_id: 12,
      rule_id: 'night-door',
      status: 'pending',
      camera_id: 'front_door',
      message: 'alert a1',
      dedup_key: 'front_door:night-door',
      created_at: '2026-11-24T21:15:11.000Z',
    });
  });

  it('risk state: score and level for the sensors, the event as attributes', () => {
    expect(riskStatePayload(event)).toStrictEqual({
      risk_score: 52,
      risk_level: 'medium',
      event_id: 12,
      summary: 'Unknown person lingering at the front door',
      reasoning: 'Person stayed 60 s near the door at night',
      object_types: ['person'],
      started_at: '2026-11-24T21:14:03.250Z',
    });
  });

  it('active alerts: counts pending and delivered, lists the newest ten, newest first', () => {
    const alerts = [
      ...Array.from({ length: 12 }, (_, i) => alert(`p${i}`, `2026-11-24T10:${String(i).padStart(2, '0')}:00.000Z`)),
      alert('d', '2026-11-24T11:00:00.000Z', 'delivered'),
      alert('ack', '2026-11-24T12:00:00.000Z', 'acknowledged'),
      alert('dis', '2026-11-24T12:30:00.000Z', 'dismissed'),
    ];
    const payload = activeAlertsPayload(alerts);
    expect(payload.count).toBe(13);
    expect(payload.alerts.map((a) => a.id)).toStrictEqual([
      'd',
      'p11',
      'p10',
      'p9',
      'p8',
      'p7',
      'p6',
      'p5',
      'p4',
      'p3',
    ]);
    expect(payload.alerts[0]).toStrictEqual({
      id: 'd',
      severity: 'high',
      camera: 'front_door',
      summary: 'alert d',
      created_at: '2026-11-24T11:00:00.000Z',
    });
    expect(activeAlertsPayload(alerts.slice(0, 2), 40).count).toBe(40);
    expect(activeAlertsPayload([])).toStrictEqual({ count: 0, alerts: [] });
  });

  it('plain states: ON/OFF, online/offline, the alarm mode or triggered', () => {
    expect([onOff(true), onOff(false), cameraStatus(true), cameraStatus(false)]).toStrictEqual([
      'ON',
      'OFF',
      'online',
      'offline',
    ]);
    expect([alarmStatePayload('armed_night'), alarmStatePayload('armed_away', true)]).toStrictEqual([
      'armed_night',
      'triggered',
    ]);
  });
});

describe('service payloads', () => {
  it('system health: snake_case, whole seconds, inference times to 0.1 ms, null when unknown', () => {
    expect(
      systemHealthPayload({
        version: '1.2.3',
        uptimeS: 3600.9,
        queues: { detection: 4, analysis: 1 },
        inferenceMs: { p50: 41.26, p95: null },
        deadLetters: 2,
        camerasOnline: 3,
        camerasTotal: 4,
        llmReachable: null,
        eventsToday: 17,
        failedLogins: 5,
        ingest: { ok: false, reason: 'media root /media is gone' },
      }),
    ).toStrictEqual({
      version: '1.2.3',
      uptime_s: 3600,
      queues: { detection: 4, analysis: 1 },
      inference_ms: { p50: 41.3, p95: null },
      dead_letters: 2,
      cameras_online: 3,
      cameras_total: 4,
      llm_reachable: null,
      events_today: 17,
      failed_logins: 5,
      ingest_ok: false,
      ingest_problem: 'media root /media is gone',
    });
  });

  it('command response: status, data, error and transaction always present', () => {
    expect(commandResponsePayload({ ok: true, data: { acknowledged: ['a1'] } }, 'tx-1')).toStrictEqual({
      status: 'ok',
      data: { acknowledged: ['a1'] },
      error: null,
      transaction: 'tx-1',
    });
    expect(commandResponsePayload({ ok: false, error: 'id: no alert with id "x"' })).toStrictEqual({
      status: 'error',
      data: null,
      error: 'id: no alert with id "x"',
      transaction: null,
    });
    expect(commandResponsePayload({ ok: true }, 7)).toStrictEqual({
      status: 'ok',
      data: null,
      error: null,
      transaction: 7,
    });
  });
});
