import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createApi, startApi } from '../../../src/api/server.js';
import { getHouseMode } from '../../../src/storage/arming.repository.js';
import { listAudit } from '../../../src/storage/audit.repository.js';
import { ensureCamera } from '../../../src/storage/camera.repository.js';
import { ENGINES, engineUnavailable } from '../../support/stores.js';
import { type ApiHarness, apiConfig, createHarness, raiseAlert, seedEvent } from './harness.js';

const KEY = 'correct horse battery staple';

function connect(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers: { authorization: `Bearer ${KEY}`, 'user-agent': 'stream-test' } });
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Sends one frame and resolves with the next `response` frame (bus broadcasts in between are skipped). */
function command(socket: WebSocket, frame: string | Buffer): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no response in 5 s')), 5000);
    const onMessage = (data: WebSocket.RawData) => {
      const message = JSON.parse(String(data)) as Record<string, unknown>;
      if (message.type !== 'response') return;
      clearTimeout(timer);
      socket.off('message', onMessage);
      resolve(message);
    };
    socket.on('message', onMessage);
    socket.send(frame);
  });
}

for (const engine of ENGINES) {
  const skip = await engineUnavailable(engine);
  if (skip) console.warn(`skipping ${engine} WebSocket command tests: ${skip}`);

  describe.skipIf(skip !== undefined)(`commands over the WebSocket on ${engine}`, () => {
    let h: ApiHarness;
    let server: Awaited<ReturnType<typeof startApi>>;
    let socket: WebSocket;
    beforeAll(async () => {
      h = await createHarness(engine, { api_key: KEY });
      server = await startApi(apiConfig(h.mediaRoot, { api_key: KEY }), h.deps);
      socket = await connect(`${server.url.replace('http', 'ws')}/ws/events`);
    });
    afterAll(async () => {
      socket?.close();
      await server?.close();
      await h?.close();
    });

    it('runs the command table as the socket user: alerts, detection switch, house mode', async () => {
      const event = await seedEvent(h.db, { summary: 'Person', riskLevel: 'critical', startedAt: new Date() });
      const alert = await raiseAlert(
        h,
        event,
        { name: 'Any', severity: 'high', risk_threshold: 1 },
        { 'x-api-key': KEY },
      );
      const ack = JSON.stringify({ command: 'alerts.acknowledge', input: { id: alert.id }, transaction: 't-1' });
      expect(await command(socket, ack)).toStrictEqual({
        type: 'response',
        command: 'alerts.acknowledge',
        status: 'ok',
        data: [alert.id],
        transaction: 't-1',
      });

      // Nothing left to dismiss: no service audits that, so the channel's trail does.
      const none = JSON.stringify({ command: 'alerts.dismiss', input: { all: true }, transaction: 2 });
      expect(await command(socket, none)).toStrictEqual({
        type: 'response',
        command: 'alerts.dismiss',
        status: 'ok',
        data: [],
        transaction: 2,
      });

      const arm = JSON.stringify({ command: 'alarm.set', input: { mode: 'armed_away' } });
      expect(await command(socket, arm)).toStrictEqual({
        type: 'response',
        command: 'alarm.set',
        status: 'ok',
        data: { mode: 'armed_away', changed: true },
      });
      expect(await getHouseMode(h.db)).toBe('armed_away');

      // The detection switch is announced on the bus too (Home Assistant's switch follows from there).
      const changes: unknown[] = [];
      const off = h.bus.on('camera.detection_changed', (change) => void changes.push(change));
      await ensureCamera(h.db, { id: 'porch', name: 'Porch', folderPath: 'Porch' });
      const detect = JSON.stringify({ command: 'cameras.detect.set', input: { camera_id: 'porch', on: false } });
      expect(await command(socket, detect)).toStrictEqual({
        type: 'response',
        command: 'cameras.detect.set',
        status: 'ok',
        data: { enabled: false, previous: true },
      });
      off();
      expect(changes).toStrictEqual([{ cameraId: 'porch', enabled: false, actor: 'api' }]);

      // The services audit their changes as the socket's user; `all` with nothing to change is the channel's row.
      const actions = (await listAudit(h.db, { limit: 10 })).map((a) => [a.action, a.actor, a.status]);
      expect(actions.slice(0, 4)).toStrictEqual([
        ['ws.cameras.detect.set', 'api', 'success'],
        ['house_mode.set', 'api', 'success'],
        ['ws.alerts.dismiss', 'api', 'success'],
        ['alert.acknowledge', 'api', 'success'],
      ]);
      const [row] = await listAudit(h.db, { action: 'ws.alerts.dismiss' });
      expect([row?.resourceType, row?.resourceId, row?.details, row?.userAgent]).toStrictEqual([
        'alert',
        null,
        { ids: [] },
        'stream-test',
      ]);
    });

    it('refuses bad frames and bad inputs with an error response and a failure row, changing nothing', async () => {
      const before = await getHouseMode(h.db);
      const refusals: [string | Buffer, string, string][] = [
        [
          '{"command": ',
          'unknown',
          'payload is not valid JSON; send {"command": "<name>", "input": {…}, "transaction": <optional>}',
        ],
        [
          JSON.stringify({ command: 'cameras.detect.set', input: { camera_id: 'attic', on: false } }),
          'cameras.detect.set',
          'no camera with id attic',
        ],
        [
          JSON.stringify({ command: 'alarm.panic', input: {} }),
          'unknown',
          'command must be equal to one of the allowed values',
        ],
        [
          JSON.stringify({ command: 'alarm.set', input: { mode: 'vacation' } }),
          'alarm.set',
          'alarm.set: mode must be equal to one of the allowed values',
        ],
        [
          JSON.stringify({ command: 'zones.armed.set', input: { zone_id: 'nope', on: true } }),
          'zones.armed.set',
          'no zone with id nope',
        ],
        [
          JSON.stringify({ command: 'alerts.dismiss', input: { id: 'x', all: true } }),
          'alerts.dismiss',
          expect.stringContaining('alerts.dismiss: ') as unknown as string,
        ],
        [Buffer.from('{}'), 'unknown', expect.stringContaining('send a JSON text frame') as unknown as string],
      ];
      for (const [frame, name, reason] of refusals) {
        expect(await command(socket, frame)).toStrictEqual({
          type: 'response',
          command: name,
          status: 'error',
          error: reason,
        });
      }
      expect(await getHouseMode(h.db)).toBe(before);
      const failures = (await listAudit(h.db, { limit: 7 })).map((a) => [a.action, a.status]).reverse();
      expect(failures).toStrictEqual([
        ['ws.unknown', 'failure'],
        ['ws.cameras.detect.set', 'failure'],
        ['ws.unknown', 'failure'],
        ['ws.alarm.set', 'failure'],
        ['ws.zones.armed.set', 'failure'],
        ['ws.alerts.dismiss', 'failure'],
        ['ws.unknown', 'failure'],
      ]);
    });

    it('is closed to a socket without the key', async () => {
      const open = await createApi(apiConfig(h.mediaRoot, { api_key: KEY }), h.deps);
      try {
        const res = await open.inject({ url: '/ws/events', headers: { upgrade: 'websocket', connection: 'upgrade' } });
        expect(res.statusCode).toBe(401);
      } finally {
        await open.close();
      }
    });
  });
}
