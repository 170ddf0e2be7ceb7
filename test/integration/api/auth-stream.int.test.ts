import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createApi, startApi } from '../../../src/api/server.js';
import { eventToRecord } from '../../../src/storage/event.repository.js';
import { ENGINES, engineUnavailable } from '../../support/stores.js';
import { type ApiHarness, apiConfig, call, createHarness, type ErrorJson, raiseAlert, seedEvent } from './harness.js';

const KEY = 'correct horse battery staple';
const INGRESS = { remoteAddress: '172.30.32.2', headers: { 'x-ingress-path': '/api/hassio_ingress/abc' } };

/** Resolves with the next `count` messages of a socket, parsed. */
function nextMessages(socket: WebSocket, count: number): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const got: unknown[] = [];
    const timer = setTimeout(() => reject(new Error(`only ${got.length} of ${count} messages in 5 s`)), 5000);
    socket.on('message', (data) => {
      got.push(JSON.parse(String(data)));
      if (got.length === count) {
        clearTimeout(timer);
        resolve(got);
      }
    });
  });
}

function connect(url: string, headers: Record<string, string>, protocols?: string[]): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, protocols, { headers });
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

for (const engine of ENGINES) {
  const skip = await engineUnavailable(engine);
  if (skip) console.warn(`skipping ${engine} API auth and stream tests: ${skip}`);

  describe.skipIf(skip !== undefined)(`API key, ingress and WebSocket stream on ${engine}`, () => {
    let h: ApiHarness;
    beforeAll(async () => {
      h = await createHarness(engine, { api_key: KEY, ingress: true });
    });
    afterAll(async () => h?.close());

    it('asks every route but liveness for the key, accepting either header', async () => {
      expect((await h.app.inject({ url: '/api/health/live' })).statusCode).toBe(200);
      for (const url of ['/api/events', '/api/health/ready', '/metrics', '/api/openapi.json', '/api/nowhere']) {
        const { res, json } = await call<ErrorJson>(h.app, { url });
        expect([url, res.statusCode, json.error.code, res.headers['www-authenticate']]).toStrictEqual([
          url,
          401,
          'UNAUTHORIZED',
          'Bearer',
        ]);
      }
      const wrong = [{ authorization: `Bearer ${KEY}x` }, { 'x-api-key': 'nope' }, { authorization: KEY }];
      for (const headers of wrong) expect((await h.app.inject({ url: '/api/events', headers })).statusCode).toBe(401);
      const right = [{ authorization: `Bearer ${KEY}` }, { authorization: `bearer ${KEY}` }, { 'x-api-key': KEY }];
      for (const headers of right) expect((await h.app.inject({ url: '/api/events', headers })).statusCode).toBe(200);
    });

    it('accepts the Supervisor ingress proxy without the key and audits it as api:ingress', async () => {
      expect((await h.app.inject({ url: '/api/events', ...INGRESS })).statusCode).toBe(200);
      expect((await h.app.inject({ url: '/api/events', remoteAddress: '172.30.32.2' })).statusCode).toBe(401);
      expect((await h.app.inject({ url: '/api/events', headers: INGRESS.headers })).statusCode).toBe(401);
      const { json } = await call<{ changed_by: string }>(h.app, {
        method: 'PUT',
        url: '/api/arming',
        payload: { mode: 'armed_home' },
        ...INGRESS,
      });
      expect(json.changed_by).toBe('api:ingress');
      const viaKey = await call<{ changed_by: string }>(h.app, {
        method: 'PUT',
        url: '/api/arming',
        payload: { mode: 'disarmed' },
        headers: { 'x-api-key': KEY },
      });
      expect(viaKey.json.changed_by).toBe('api');

      const strict = await createApi(apiConfig(h.mediaRoot, { api_key: KEY, ingress: false }), h.deps);
      try {
        expect((await strict.inject({ url: '/api/events', ...INGRESS })).statusCode).toBe(401);
      } finally {
        await strict.close();
      }
      const open = await createApi(apiConfig(h.mediaRoot), h.deps);
      try {
        expect((await open.inject({ url: '/api/events' })).statusCode).toBe(200);
        expect((await open.inject({ url: '/metrics' })).statusCode).toBe(200);
      } finally {
        await open.close();
      }
    });

    it('streams new events, new alerts and alert changes over the WebSocket', async () => {
      const server = await startApi(apiConfig(h.mediaRoot, { api_key: KEY }), h.deps);
      const sockets: WebSocket[] = [];
      try {
        expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        const wsUrl = `${server.url.replace('http', 'ws')}/ws/events`;
        await expect(connect(wsUrl, {})).rejects.toThrow('Unexpected server response: 401');
        // A browser's way (the status page): the key as a subprotocol; the server picks the plain one.
        const wrongKey = ['hsi.v1', `hsi-key.${Buffer.from('nope').toString('base64url')}`];
        await expect(connect(wsUrl, {}, wrongKey)).rejects.toThrow('Unexpected server response: 401');
        const browser = await connect(wsUrl, {}, ['hsi.v1', `hsi-key.${Buffer.from(KEY).toString('base64url')}`]);
        expect(browser.protocol).toBe('hsi.v1');
        browser.close();
        const socket = await connect(wsUrl, { authorization: `Bearer ${KEY}` });
        sockets.push(socket);
        const received = nextMessages(socket, 4);

        const event = await seedEvent(h.db, {
          summary: 'Person at the door at night',
          riskScore: 88,
          riskLevel: 'critical',
          startedAt: new Date('2026-03-03T02:00:00Z'),
        });
        h.bus.emit('event.created', { event: eventToRecord(event), latencyMs: 12 });
        const rule = { name: 'Critical', severity: 'critical', risk_threshold: 85 };
        const alert = await raiseAlert(h, event, rule, { 'x-api-key': KEY });
        const ack = await h.app.inject({
          method: 'POST',
          url: `/api/alerts/${alert.id}/acknowledge`,
          headers: { 'x-api-key': KEY },
        });
        expect(ack.statusCode).toBe(200);

        const [first, ended, second, third] = (await received) as Record<string, unknown>[];
        // An event created already closed (no fast path) is a whole visit: `new`, then `end`.
        expect([first?.action, ended?.type, ended?.action]).toStrictEqual(['new', 'event', 'end']);
        expect(first).toStrictEqual({
          type: 'event',
          action: 'new',
          data: expect.objectContaining({
            id: event.id,
            camera_id: 'front_door',
            risk_level: 'critical',
            summary: 'Person at the door at night',
            started_at: '2026-03-03T02:00:00.000Z',
          }),
        });
        expect(second).toStrictEqual({
          type: 'alert',
          action: 'created',
          data: expect.objectContaining({ id: alert.id, event_id: event.id, status: 'pending', severity: 'critical' }),
        });
        expect(third).toStrictEqual({
          type: 'alert',
          action: 'acknowledge',
          data: expect.objectContaining({ id: alert.id, status: 'acknowledged', camera_id: 'front_door' }),
        });

        const port = Number(new URL(server.url).port);
        await expect(startApi(apiConfig(h.mediaRoot, { port }), h.deps)).rejects.toThrow(
          `HTTP API cannot listen on 127.0.0.1:${port} (http.host, http.port)`,
        );
      } finally {
        for (const socket of sockets) socket.close();
        await server.close();
      }
    });
  });
}
