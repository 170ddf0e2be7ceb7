import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UI_CONTENT_SECURITY_POLICY } from '../../../src/api/routes/ui.js';
import { createApi } from '../../../src/api/server.js';
import { HOUSE_MODES } from '../../../src/domain/arming.js';
import { ROUTES, resolve, streamUrl } from '../../../web/src/routes.js';
import { offlineAfterMs } from '../../../web/src/settings.js';
import { ENGINES, engineUnavailable } from '../../support/stores.js';
import { type ApiHarness, apiConfig, createHarness, seedEvent } from './harness.js';

// The page is web/'s build (web/dist): built here when missing or older than web/'s sources, so these tests check
// what web/ holds (a no-op when it is current; `npm start` runs the same script first).
execFileSync(process.execPath, [fileURLToPath(new URL('../../../web/scripts/ensure-built.mjs', import.meta.url))], {
  stdio: 'inherit',
});

const KEY = 'status page key';
const WITH_KEY = { 'x-api-key': KEY };
const INGRESS = { remoteAddress: '172.30.32.2', headers: { 'x-ingress-path': '/api/hassio_ingress/abc' } };
const T0 = Date.parse('2026-03-02T12:00:00Z');

/** What the script's calls are about (web/src/routes.ts); a change here is a change of what the page shows or does. */
const EXPECTED_ROUTES = [
  'GET api/alerts?status=active&limit=100',
  'GET api/arming',
  'GET api/cameras',
  'GET api/detections/:id/image?annotated=true',
  'GET api/events/:id',
  'GET api/events?limit=50',
  'GET api/health/ready',
  'GET ws/events',
  'POST api/alerts/:id/acknowledge',
  'POST api/alerts/:id/dismiss',
  'PUT api/arming',
];

/** Every `src`/`href` attribute value of the HTML. */
const linksOf = (html: string) => [...html.matchAll(/\s(?:src|href)="([^"]*)"/g)].map((m) => m[1] ?? '');

/** `'METHOD path'` string literals of the built script (the bundler may change the quotes). */
const ROUTE_LITERAL = /["'`](GET|POST|PUT|PATCH|DELETE) ([^"'`\s]+)["'`]/g;
const routesOf = (script: string) => [...script.matchAll(ROUTE_LITERAL)].map((m) => ({ method: m[1]!, path: m[2]! }));

/** The policy's directives, each with its sources in order. */
const directivesOf = (policy: string) =>
  Object.fromEntries(
    policy.split(';').map((part) => {
      const [name = '', ...sources] = part.trim().split(/\s+/);
      return [name, sources];
    }),
  );

for (const engine of ENGINES) {
  const skip = await engineUnavailable(engine);
  if (skip) console.warn(`skipping ${engine} status page tests: ${skip}`);

  describe.skipIf(skip !== undefined)(`status page on ${engine}`, () => {
    let h: ApiHarness;
    /** Ids the script's parametrised routes are called with, by the start of their path. */
    const ids = new Map<string, string>();

    beforeAll(async () => {
      h = await createHarness(engine, { api_key: KEY, ingress: true });
      const events = [];
      for (let i = 0; i < 2; i++) {
        events.push(
          await seedEvent(h.db, {
            summary: `Stranger at the door (${i})`,
            riskScore: 80,
            riskLevel: 'high',
            startedAt: new Date(T0 + i * 60_000),
          }),
        );
      }
      const rule = { name: 'Risky', severity: 'high', risk_threshold: 60, cooldown_seconds: 0 };
      const created = await h.app.inject({ method: 'POST', url: '/api/alert-rules', payload: rule, headers: WITH_KEY });
      expect(created.statusCode).toBe(201);
      const facts = { confidenceByType: { person: 0.9 }, zones: [], houseMode: 'armed_away' as const, timezone: 'UTC' };
      const alerts = [];
      for (const event of events) alerts.push(...(await h.alerts.evaluate(event, facts)));
      expect(alerts).toHaveLength(2);

      const detection = await h.db
        .selectFrom('detections')
        .select(['id', 'media_file_id'])
        .orderBy('id')
        .executeTakeFirstOrThrow();
      const relative = `front_door/2026/${detection.id}.jpg`;
      const jpeg = sharp({ create: { width: 1000, height: 1000, channels: 3, background: { r: 90, g: 90, b: 90 } } });
      const bytes = await jpeg.jpeg().toBuffer();
      // The image is served only while it has the sha256 recorded when it was processed.
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      await h.db
        .updateTable('media_files')
        .set({ path: relative, sha256, size: bytes.length })
        .where('id', '=', detection.media_file_id)
        .execute();
      const file = path.join(h.mediaRoot, relative);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, bytes);

      ids.set('api/events/', String(events[0]!.id));
      ids.set('api/alerts/:id/acknowledge', alerts[0]!.id);
      ids.set('api/alerts/:id/dismiss', alerts[1]!.id);
      ids.set('api/detections/', String(detection.id));
    });
    afterAll(async () => h?.close());

    it('serves the page without the key, with its CSP, no-cache and no inline code', async () => {
      const res = await h.app.inject({ url: '/' });
      expect([res.statusCode, res.headers['content-type'], res.headers['cache-control']]).toStrictEqual([
        200,
        'text/html; charset=utf-8',
        'no-cache',
      ]);
      expect(res.headers['content-security-policy']).toBe(
        "default-src 'self'; img-src 'self' data: blob:; connect-src 'self' ws: wss:; style-src 'self'; " +
          "script-src 'self'; frame-ancestors 'self'",
      );
      expect(res.headers['content-security-policy']).toBe(UI_CONTENT_SECURITY_POLICY);
      expect(res.body).toMatch(/^<!doctype html>/);
      const scripts = res.body.match(/<script[^>]*>[^<]*<\/script>/g) ?? [];
      expect(scripts).toHaveLength(1);
      for (const script of scripts) {
        expect(script).toMatch(/^<script\s(?:[^>]*\s)?src="[^"]+"[^>]*><\/script>$/);
      }
      // Nothing the build left for the API to fill in.
      expect(res.body).not.toMatch(/__HSI_/);
      expect(res.body).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);

      const again = await h.app.inject({ url: '/', headers: { 'if-none-match': String(res.headers.etag) } });
      expect([again.statusCode, again.body]).toStrictEqual([304, '']);
      expect((await h.app.inject({ url: '/', ...INGRESS })).statusCode).toBe(200);
    });

    it('links only relative URLs, so the page works under the ingress prefix', async () => {
      const html = (await h.app.inject({ url: '/' })).body;
      const links = linksOf(html);
      expect(links.map((l) => l.replace(/\?v=[0-9a-f]+$/, '?v=…'))).toStrictEqual([
        'data:,',
        'ui/app.js?v=…',
        'ui/app.css?v=…',
      ]);
      expect(html).not.toMatch(/["'=(\s]\/(api|ui|ws)\b/);
      // Resolved against an ingress page URL, the links stay under the prefix.
      const base = 'http://ha.local:8123/api/hassio_ingress/abc/';
      for (const link of links.filter((l) => !l.startsWith('data:'))) {
        expect(new URL(link, base).pathname.startsWith('/api/hassio_ingress/abc/ui/')).toBe(true);
      }
      // So do the script's calls and its WebSocket, ws: or wss: as the page.
      for (const route of Object.values(ROUTES)) {
        expect(new URL(resolve(route).path, base).pathname.startsWith('/api/hassio_ingress/abc/')).toBe(true);
      }
      expect([streamUrl(base), streamUrl('https://ha.example/api/hassio_ingress/abc/')]).toStrictEqual([
        'ws://ha.local:8123/api/hassio_ingress/abc/ws/events',
        'wss://ha.example/api/hassio_ingress/abc/ws/events',
      ]);
    });

    it('serves the page and its assets through the ingress proxy as directly, with no key', async () => {
      const direct = (await h.app.inject({ url: '/' })).body;
      const proxied = await h.app.inject({ url: '/', ...INGRESS });
      expect([proxied.statusCode, proxied.body]).toStrictEqual([200, direct]);
      for (const link of linksOf(direct).filter((l) => l.startsWith('ui/'))) {
        const res = await h.app.inject({ url: `/${link}`, ...INGRESS });
        expect([link, res.statusCode]).toStrictEqual([link, 200]);
      }
      // The proxy is trusted for the API too; anyone else still needs the key.
      expect((await h.app.inject({ url: '/api/events', ...INGRESS })).statusCode).toBe(200);
      expect((await h.app.inject({ url: '/api/events' })).statusCode).toBe(401);
    });

    it('needs nothing its CSP forbids, and the CSP allows only what the page uses', async () => {
      const html = (await h.app.inject({ url: '/' })).body;
      const script = (await h.app.inject({ url: '/ui/app.js' })).body;
      const css = (await h.app.inject({ url: '/ui/app.css' })).body;
      // script-src 'self' and style-src 'self': only same-origin files, no inline code, no eval.
      for (const tag of html.match(/<(?:script|link)\b[^>]*>/g) ?? []) {
        const url = /\s(?:src|href)="([^"]*)"/.exec(tag)?.[1] ?? '';
        expect([tag, url.startsWith('data:') || /^ui\/[\w.-]+\?v=[0-9a-f]{16}$/.test(url)]).toStrictEqual([tag, true]);
      }
      expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=|javascript:/i);
      expect(script).not.toMatch(/\beval\(|new Function|setTimeout\(\s*["'`]|setAttribute\(\s*["'`]style/);
      // default-src 'self': nothing from elsewhere (no CDN, no web font, no remote import).
      for (const text of [html, script, css]) expect(text).not.toMatch(/(https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}\//i);
      expect(css).not.toMatch(/@import|@font-face|url\(\s*["']?(?!data:)/);

      const csp = directivesOf(String((await h.app.inject({ url: '/' })).headers['content-security-policy']));
      const usesBlobImages = script.includes('URL.createObjectURL');
      const usesDataUrls = /["(]data:/.test(html + css);
      const usesWebSocket = script.includes('WebSocket');
      expect([usesBlobImages, usesDataUrls, usesWebSocket]).toStrictEqual([true, true, true]);
      expect(csp).toStrictEqual({
        'default-src': ["'self'"],
        'img-src': ["'self'", ...(usesDataUrls ? ['data:'] : []), ...(usesBlobImages ? ['blob:'] : [])],
        'connect-src': ["'self'", ...(usesWebSocket ? ['ws:', 'wss:'] : [])],
        'style-src': ["'self'"],
        'script-src': ["'self'"],
        'frame-ancestors': ["'self'"],
      });
    });

    it('serves the assets with their content types and caching, without the key, while the API needs it', async () => {
      const html = (await h.app.inject({ url: '/' })).body;
      const types: Record<string, string> = {
        js: 'text/javascript; charset=utf-8',
        css: 'text/css; charset=utf-8',
      };
      for (const link of linksOf(html).filter((l) => l.startsWith('ui/'))) {
        const ext = /\.(js|css)\?/.exec(link)?.[1] ?? '';
        const versioned = await h.app.inject({ url: `/${link}` });
        expect([
          link,
          versioned.statusCode,
          versioned.headers['content-type'],
          versioned.headers['cache-control'],
        ]).toStrictEqual([link, 200, types[ext], 'public, max-age=31536000, immutable']);
        const bare = await h.app.inject({ url: `/${link.split('?')[0]}` });
        expect([bare.statusCode, bare.headers['cache-control'], bare.body]).toStrictEqual([
          200,
          'no-cache',
          versioned.body,
        ]);
      }
      expect((await h.app.inject({ url: '/api/events' })).statusCode).toBe(401);
      expect((await h.app.inject({ url: '/ui/other.js' })).statusCode).toBe(401);
      expect((await h.app.inject({ url: '/api/events', headers: WITH_KEY })).statusCode).toBe(200);
    });

    it('ships a script that parses and escapes server text', async () => {
      const script = (await h.app.inject({ url: '/ui/app.js' })).body;
      expect(() => new vm.Script(script, { filename: 'app.js' })).not.toThrow();
      expect(script).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/);
      // The WebSocket URL is resolved against the page's (streamUrl in web/src/routes.ts, checked above).
      expect(script).toMatch(/new URL\([^;]*\.path,\s*\w+\)/);
      expect(script).toContain('location.href');
      for (const mode of HOUSE_MODES) expect(script).toMatch(new RegExp(`["'\`]${mode}["'\`]`));
    });

    it('calls only routes the API has, relative, and each answers the call the script makes', async () => {
      const script = (await h.app.inject({ url: '/ui/app.js' })).body;
      const routes = routesOf(script);
      expect(routes.map((r) => `${r.method} ${r.path}`).sort()).toStrictEqual(EXPECTED_ROUTES);
      expect([...Object.values(ROUTES)].sort()).toStrictEqual(EXPECTED_ROUTES);
      // No path outside the route table, and none absolute.
      expect(script.replace(ROUTE_LITERAL, '')).not.toMatch(/\b(api|ws|ui)\//);
      expect(script).not.toMatch(/['"`]\/(api|ui|ws)\b/);

      for (const { method, path: template } of routes) {
        if (template.startsWith('ws/')) {
          expect([template, h.app.hasRoute({ method: 'GET', url: `/${template}` })]).toStrictEqual([template, true]);
          continue;
        }
        const [, id] = [...ids].find(([prefix]) => template.startsWith(prefix)) ?? [];
        const url = `/${template.replace(':id', encodeURIComponent(id ?? 'missing'))}`;
        const payload = method === 'PUT' ? { mode: 'armed_away' } : undefined;
        const res = await h.app.inject({ method: method as 'GET', url, headers: WITH_KEY, payload });
        expect([method, template, res.statusCode]).toStrictEqual([method, template, 200]);
        if (template.includes('/image')) expect(res.headers['content-type']).toBe('image/jpeg');
      }
    });

    it('calls a camera offline after the configured homeassistant.camera_offline_after_s, not a fixed hour', async () => {
      const rootOf = (html: string) => /<html[^>]*>/.exec(html)?.[0];
      expect(rootOf((await h.app.inject({ url: '/' })).body)).toBe(
        '<html lang="en" data-camera-offline-after-s="3600">',
      );
      const config = {
        ...apiConfig(h.mediaRoot, { api_key: KEY }, h.dataDir),
        homeassistant: { camera_offline_after_s: 300 },
      };
      const five = await createApi(config, h.deps);
      try {
        expect(rootOf((await five.inject({ url: '/' })).body)).toBe(
          '<html lang="en" data-camera-offline-after-s="300">',
        );
      } finally {
        await five.close();
      }

      // The script takes the threshold from that attribute (the CSP allows no inline script to pass it otherwise),
      // through offlineAfterMs (web/src/settings.ts).
      const script = (await h.app.inject({ url: '/ui/app.js' })).body;
      expect(script).toContain('(document.documentElement.dataset.cameraOfflineAfterS)');
      expect(script).not.toMatch(/3600 \* 1000/);
      expect([
        offlineAfterMs('300'),
        offlineAfterMs('90'),
        offlineAfterMs(undefined),
        offlineAfterMs('x'),
      ]).toStrictEqual([300_000, 90_000, 3_600_000, 3_600_000]);
    });

    it('keeps the page out of the OpenAPI document', async () => {
      const doc = JSON.parse((await h.app.inject({ url: '/api/openapi.json', headers: WITH_KEY })).body) as {
        paths: Record<string, unknown>;
      };
      expect(Object.keys(doc.paths)).toContain('/api/events');
      expect(Object.keys(doc.paths).filter((p) => p === '/' || p.startsWith('/ui'))).toStrictEqual([]);
    });
  });
}
