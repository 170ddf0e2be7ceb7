import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type ApiServer, createApi, startApi } from '../../../src/api/server.js';
import type { Engine } from '../../../src/storage/database.js';
import { engineUnavailable } from '../../support/stores.js';
import { type ApiHarness, apiConfig, call, createHarness, type ErrorJson } from './harness.js';

/**
 * DNS rebinding and cross-site requests (issue 11 #14), and ingress-only access without a key (#11). The guard does
 * not touch the database, so one engine is enough: PostgreSQL (a template database, quick) when it runs, else PGlite.
 */

const ENGINE: Engine = (await engineUnavailable('postgres')) === undefined ? 'postgres' : 'pglite';

const INGRESS = { remoteAddress: '172.30.32.2', headers: { 'x-ingress-path': '/api/hassio_ingress/abc' } };

/** Opens a WebSocket; rejects with the HTTP status when the upgrade is refused. */
function connect(url: string, headers: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    socket.once('open', () => resolve(socket));
    socket.once('unexpected-response', (_req, res) => {
      socket.terminate();
      reject(new Error(`HTTP ${res.statusCode}`));
    });
    socket.once('error', reject);
  });
}

describe('Host and Origin checks', () => {
  let h: ApiHarness;
  let server: ApiServer;
  beforeAll(async () => {
    h = await createHarness(ENGINE, { allowed_hosts: ['hsi.lan'] });
    server = await startApi(apiConfig(h.mediaRoot), h.deps);
  });
  afterAll(async () => {
    await server?.close();
    await h?.close();
  });

  it('refuses a request by a name HSI is not known as (DNS rebinding) with 421 in the API shape', async () => {
    for (const host of ['evil.example', 'evil.example:8099', 'localhost.evil.example', 'hsi.lan.evil.example']) {
      const { res, json } = await call<ErrorJson>(h.app, { url: '/api/events', headers: { host } });
      expect([host, res.statusCode, json.error.code]).toStrictEqual([host, 421, 'MISDIRECTED_HOST']);
      expect(json.error.message).toContain('http.allowed_hosts');
    }
    // Even the open routes: the status page is what a rebinding page would read first.
    expect((await h.app.inject({ url: '/', headers: { host: 'evil.example' } })).statusCode).toBe(421);
  });

  it('accepts loopback names, IP addresses, the configured names, and the status page by them', async () => {
    for (const host of ['localhost:8099', '127.0.0.1:8099', '[::1]:8099', '192.168.1.10:8099', 'HSI.LAN', 'hsi.lan.']) {
      const res = await h.app.inject({ url: '/api/events', headers: { host } });
      expect([host, res.statusCode]).toStrictEqual([host, 200]);
    }
    const page = await h.app.inject({ url: '/', headers: { host: '127.0.0.1:8099' } });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
  });

  it('refuses a change from another site (Origin) with 403, and accepts the same site and allowed names', async () => {
    const arm = (headers: Record<string, string>) =>
      call<ErrorJson>(h.app, { method: 'PUT', url: '/api/arming', payload: { mode: 'armed_away' }, headers });
    const evil = await arm({ host: '192.168.1.10:8099', origin: 'https://evil.example' });
    expect([evil.res.statusCode, evil.json.error.code]).toStrictEqual([403, 'FORBIDDEN_ORIGIN']);
    // A hostile page served from an IP address is still another site.
    expect((await arm({ host: '192.168.1.10:8099', origin: 'http://192.168.1.66:8099' })).res.statusCode).toBe(403);
    expect((await arm({ host: '192.168.1.10:8099', origin: 'http://192.168.1.10:9000' })).res.statusCode).toBe(403);
    expect((await arm({ host: '192.168.1.10:8099', origin: 'null' })).res.statusCode).toBe(403);
    expect(await h.arming.houseMode()).toBe('disarmed');

    expect((await arm({ host: '192.168.1.10:8099', origin: 'http://192.168.1.10:8099' })).res.statusCode).toBe(200);
    // Behind a TLS proxy: Host without a port, Origin on https's default port.
    expect((await arm({ host: 'hsi.lan', origin: 'https://hsi.lan' })).res.statusCode).toBe(200);
    expect((await arm({ host: 'localhost:8099', origin: 'https://hsi.lan:8443' })).res.statusCode).toBe(200);
    // Reads and requests without Origin (curl, Home Assistant's REST integration) are not cross-site.
    expect((await h.app.inject({ url: '/api/events', headers: { origin: 'https://evil.example' } })).statusCode).toBe(
      200,
    );
    expect((await arm({ host: 'localhost:8099' })).res.statusCode).toBe(200);
  });

  it('refuses a WebSocket from another site or by another name, and opens one from the same site', async () => {
    const wsUrl = `${server.url.replace('http', 'ws')}/ws/events`;
    await expect(connect(wsUrl, { origin: 'https://evil.example' })).rejects.toThrow('HTTP 403');
    await expect(connect(wsUrl, { host: 'evil.example' })).rejects.toThrow('HTTP 421');
    const same = await connect(wsUrl, { origin: server.url });
    expect(same.readyState).toBe(WebSocket.OPEN);
    same.close();
    const noOrigin = await connect(wsUrl, {});
    noOrigin.close();
  });

  it('lets the Supervisor ingress proxy through with its own Host and Origin', async () => {
    const ingress = await createApi(apiConfig(h.mediaRoot, { ingress: true }), h.deps);
    try {
      const headers = { ...INGRESS.headers, host: '172.30.33.4:8099', origin: 'http://homeassistant.local:8123' };
      const res = await ingress.inject({
        method: 'PUT',
        url: '/api/arming',
        payload: { mode: 'disarmed' },
        remoteAddress: INGRESS.remoteAddress,
        headers,
      });
      expect(res.statusCode).toBe(200);
      const spoofed = await ingress.inject({ url: '/', headers: { ...INGRESS.headers, host: 'evil.example' } });
      expect(spoofed.statusCode).toBe(421);
    } finally {
      await ingress.close();
    }
  });
});

describe('ingress-only access (the add-on defaults: all interfaces, ingress, no key)', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await createHarness(ENGINE, { host: '0.0.0.0', ingress: true });
  });
  afterAll(async () => h?.close());

  it('lets in the ingress proxy and the container itself, and refuses others on the network', async () => {
    const proxied = await h.app.inject({ url: '/api/events', ...INGRESS });
    expect(proxied.statusCode).toBe(200);
    expect((await h.app.inject({ url: '/api/events', remoteAddress: '127.0.0.1' })).statusCode).toBe(200);
    for (const peer of ['192.168.1.66', '172.30.32.1', '172.30.32.2']) {
      const { res, json } = await call<ErrorJson>(h.app, {
        method: 'PUT',
        url: '/api/arming',
        payload: { mode: 'disarmed' },
        remoteAddress: peer,
      });
      expect([peer, res.statusCode, json.error.code]).toStrictEqual([peer, 403, 'INGRESS_ONLY']);
    }
    // The Supervisor's watchdog and Docker's health check still get the liveness probe.
    expect((await h.app.inject({ url: '/api/health/live', remoteAddress: '172.30.32.1' })).statusCode).toBe(200);
  });

  it('stays open with allow_unauthenticated_lan (the documented, dangerous opt-out)', async () => {
    const open = await createApi(
      apiConfig(h.mediaRoot, { host: '0.0.0.0', ingress: true, allow_unauthenticated_lan: true }),
      h.deps,
    );
    try {
      expect((await open.inject({ url: '/api/events', remoteAddress: '192.168.1.66' })).statusCode).toBe(200);
    } finally {
      await open.close();
    }
  });
});
