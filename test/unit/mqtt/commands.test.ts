import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/lib/errors.js';
import {
  A1,
  A2,
  A3,
  ACK,
  ALARM,
  DETECT,
  DISMISS,
  failure,
  MISSING,
  NOW,
  oneMebibyte,
  pick,
  refusedLog,
  setup,
  TOPIC,
} from './command-fakes.js';

describe('alerts/acknowledge and alerts/dismiss', () => {
  it('acknowledges one alert, answers with its id and echoes the transaction; the service audits', async () => {
    const { services, send, logs } = setup();
    expect(await send(ACK, `{"id": "${A1}", "transaction": 42}`, TOPIC.ack)).toStrictEqual({
      response: { path: 'alerts/acknowledge', body: { status: 'ok', data: [A1], transaction: 42 } },
      states: [],
    });
    expect(await send(DISMISS, `{"id": "${A2.toUpperCase()}", "transaction": "t-7"}`, TOPIC.dismiss)).toStrictEqual({
      response: { path: 'alerts/dismiss', body: { status: 'ok', data: [A2], transaction: 't-7' } },
      states: [],
    });
    expect(services.changes).toStrictEqual([`acknowledged ${A1} by mqtt`, `dismissed ${A2} by mqtt`]);
    expect(services.audits).toStrictEqual([]);
    // Each acknowledgement is logged with its origin and the alerts it changed.
    expect(
      logs().map(({ level, msg, command, actor, resource_id, ids }) => ({
        level,
        msg,
        command,
        actor,
        resource_id,
        ids,
      })),
    ).toStrictEqual([
      {
        level: 30,
        msg: 'mqtt command applied',
        command: 'alerts/acknowledge',
        actor: 'mqtt',
        resource_id: A1,
        ids: [A1],
      },
      { level: 30, msg: 'mqtt command applied', command: 'alerts/dismiss', actor: 'mqtt', resource_id: A2, ids: [A2] },
    ]);
  });

  it('acknowledges all active alerts; with none left it still writes a success row itself', async () => {
    const { services, send } = setup();
    expect(await send(ACK, '{"all": true}', TOPIC.ack)).toStrictEqual({
      response: { path: 'alerts/acknowledge', body: { status: 'ok', data: [A2, A1] } },
      states: [],
    });
    expect(services.audits).toStrictEqual([]);
    expect(await send(DISMISS, '{"all": true, "transaction": 1}', TOPIC.dismiss)).toStrictEqual({
      response: { path: 'alerts/dismiss', body: { status: 'ok', data: [], transaction: 1 } },
      states: [],
    });
    expect(services.audits).toStrictEqual([
      {
        action: 'mqtt.alerts.dismiss',
        resourceType: 'alert',
        resourceId: null,
        actor: 'mqtt',
        details: { topic: TOPIC.dismiss, ids: [] },
        status: 'success',
        timestamp: new Date(NOW),
      },
    ]);
  });

  const refusals: [string, string | Buffer, string][] = [
    ['not JSON', '{"id": ', 'payload is not valid JSON; send {"id": "<alert uuid>"} or {"all": true}'],
    ['a JSON array', '[1, 2]', 'payload must be a JSON object'],
    ['a JSON string', '"all"', 'payload must be a JSON object'],
    ['an id of the wrong type', '{"id": 5}', 'id must be a string'],
    ['an id that is no uuid', '{"id": "alert-1"}', 'id must be an alert uuid'],
    ['all as a string', '{"all": "yes"}', 'all must be true'],
    ['all false', '{"all": false}', 'all must be true'],
    ['a transaction object', '{"all": true, "transaction": {}}', 'transaction must be a string or a number'],
    ['an unknown field', `{"id": "${A1}", "force": true}`, 'unknown field "force"'],
    [
      'neither id nor all',
      '{}',
      'payload needs exactly one of "id" or "all": send {"id": "<alert uuid>"} or {"all": true}',
    ],
    [
      'both id and all',
      `{"id": "${A1}", "all": true}`,
      'payload needs exactly one of "id" or "all": send {"id": "<alert uuid>"} or {"all": true}',
    ],
    ['an unknown id', `{"id": "${MISSING}"}`, `no alert with id ${MISSING}`],
    [
      'an alert already acknowledged',
      `{"id": "${A3}"}`,
      'cannot acknowledge an alert that is acknowledged (acknowledged is final)',
    ],
    ['an empty payload', '', 'payload is empty'],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'payload is not valid UTF-8'],
    [
      'deep nesting',
      `{"id": ${'['.repeat(2000)}${']'.repeat(2000)}}`,
      'payload nests deeper than 4 levels; send {"id": "<alert uuid>"} or {"all": true}',
    ],
    [
      'a 1 MiB payload (checked before parsing)',
      oneMebibyte(`{"id": "${A1}", "pad": "`, '"}'),
      'payload is 1048576 bytes; the limit is 8192 (mqtt.max_payload_bytes)',
    ],
  ];

  for (const [name, payload, reason] of refusals) {
    it(`refuses ${name}: nothing changed, error response, one warn line, one failure row`, async () => {
      const { services, send, logs } = setup();
      const before = new Map(services.alerts);
      expect(await send(ACK, payload, TOPIC.ack)).toStrictEqual({
        response: { path: 'alerts/acknowledge', body: { status: 'error', error: reason } },
        states: [],
      });
      expect(services.alerts).toStrictEqual(before);
      const id = name === 'an unknown id' ? MISSING : name === 'an alert already acknowledged' ? A3 : null;
      expect(services.audits).toStrictEqual([failure('mqtt.alerts.acknowledge', 'alert', id, TOPIC.ack, reason)]);
      expect(pick(logs())).toStrictEqual(refusedLog(TOPIC.ack, reason));
    });
  }

  it('echoes the transaction on a refusal whenever the payload carried a usable one', async () => {
    const { send } = setup();
    expect(await send(DISMISS, '{"id": "nope", "transaction": "abc"}', TOPIC.dismiss)).toStrictEqual({
      response: {
        path: 'alerts/dismiss',
        body: { status: 'error', error: 'id must be an alert uuid', transaction: 'abc' },
      },
      states: [],
    });
    expect((await send(DISMISS, `{"id": "${MISSING}", "transaction": 9}`, TOPIC.dismiss)).response).toStrictEqual({
      path: 'alerts/dismiss',
      body: { status: 'error', error: `no alert with id ${MISSING}`, transaction: 9 },
    });
  });
});

describe('unexpected failures', () => {
  it('turns a service crash into an error response, a failure row and one error line, without throwing', async () => {
    const { services, send, logs } = setup();
    services.failWith = new Error('connect ECONNREFUSED 127.0.0.1:5432');
    expect(await send(ACK, `{"id": "${A1}", "transaction": 3}`, TOPIC.ack)).toStrictEqual({
      response: {
        path: 'alerts/acknowledge',
        body: { status: 'error', error: 'internal error while handling the command; see the HSI log', transaction: 3 },
      },
      states: [],
    });
    const reason = 'internal error: connect ECONNREFUSED 127.0.0.1:5432';
    expect(services.audits).toStrictEqual([failure('mqtt.alerts.acknowledge', 'alert', A1, TOPIC.ack, reason)]);
    expect(pick(logs())).toStrictEqual([{ level: 50, topic: TOPIC.ack, msg: 'mqtt command failed' }]);
    expect(services.alerts.get(A1)).toBe('pending');
  });

  it('shows an AppError message, and republishes nothing when the current state cannot be read', async () => {
    const { services, send } = setup();
    services.failWith = new AppError('TRANSIENT', 'house_state kept changing; try again');
    expect(await send(ALARM, 'ARM_AWAY', TOPIC.alarm)).toStrictEqual({ states: [] });
    expect(services.audits).toStrictEqual([
      failure('mqtt.alarm.set', 'house', 'house', TOPIC.alarm, 'internal error: house_state kept changing; try again'),
    ]);
    expect((await send(ACK, '{"all": true}', TOPIC.ack)).response?.body).toStrictEqual({
      status: 'error',
      error: 'house_state kept changing; try again',
    });
  });

  it('reports a failed audit write in the one log line and still answers', async () => {
    const { services, send, logs } = setup();
    services.failAudit = true;
    expect(await send(DETECT, 'OFF', TOPIC.detect)).toStrictEqual({ states: [] });
    expect(await send(DETECT, 'BAD', TOPIC.detect)).toStrictEqual({
      states: [{ kind: 'detect', id: 'drive', value: 'OFF' }],
    });
    const auditError = 'audit_logs insert failed: connection refused';
    expect(pick(logs())).toStrictEqual([
      { level: 50, topic: TOPIC.detect, audit_error: auditError, msg: 'mqtt command applied but its audit row failed' },
      {
        level: 40,
        topic: TOPIC.detect,
        reason: 'payload must be ON or OFF, got "BAD"',
        audit_error: auditError,
        msg: 'mqtt command refused',
      },
    ]);
  });
});
