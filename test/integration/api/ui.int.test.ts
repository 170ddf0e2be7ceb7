import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UI_CONTENT_SECURITY_POLICY } from '../../../src/api/routes/ui.js';
import { createApi } from '../../../src/api/server.js';
import { HOUSE_MODES } from '../../../src/domain/arming.js';
import { ENGINES, engineUnavailable } from '../../support/stores.js';
import { type ApiHarness, apiConfig, createHarness, seedEvent } from './harness.js';

const KEY = 'status page key';
const WITH_KEY = { 'x-api-key': KEY };
const INGRESS = { remoteAddress: '172.30.32.2', headers: { 'x-ingress-path': '/api/hassio_ingress/abc' } };
const T0 = Date.parse('2026-03-02T12:00:00Z');

/** What the script's calls are about, by route key; a change here is a change of what the page shows or does. */
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

/** `'METHOD path'` route entries of the script. */
const routesOf = (script: string) =>
  [...script.matchAll(/'(GET|POST|PUT|PATCH|DELETE) ([^'\s]+)'/g)].map((m) => ({ method: m[1]!, path: m[2]! }));

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
      for (const script of res.body.match(/<script[^>]*>[^<]*<\/script>/g) ?? []) {
        expect(script).toMatch(/^<script src="[^"]+"[^>]*><\/script>$/);
      }
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
        'ui/app.css?v=…',
        'ui/app.js?v=…',
      ]);
      expect(html).not.toMatch(/["'=(\s]\/(api|ui|ws)\b/);
      // Resolved against an ingress page URL, the links stay under the prefix.
      const base = 'http://ha.local:8123/api/hassio_ingress/abc/';
      for (const link of links.filter((l) => !l.startsWith('data:'))) {
        expect(new URL(link, base).pathname.startsWith('/api/hassio_ingress/abc/ui/')).toBe(true);
      }
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
      expect(script).toContain('new URL(resolve(ROUTES.stream).path, location.href)');
      for (const mode of HOUSE_MODES) expect(script).toContain(`'${mode}'`);
    });

    it('calls only routes the API has, relative, and each answers the call the script makes', async () => {
      const script = (await h.app.inject({ url: '/ui/app.js' })).body;
      const routes = routesOf(script);
      expect(routes.map((r) => `${r.method} ${r.path}`).sort()).toStrictEqual(EXPECTED_ROUTES);
      // No path outside the route table, and none absolute.
      expect(script.replace(/'(GET|POST|PUT|PATCH|DELETE) [^'\s]+'/g, '')).not.toMatch(/\b(api|ws|ui)\//);
      expect(script).not.toMatch(/['"]\/(api|ui|ws)\b/);

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

      // The script takes the threshold from that attribute (the CSP allows no inline script to pass it otherwise).
      const script = (await h.app.inject({ url: '/ui/app.js' })).body;
      expect(script).toContain(
        'const OFFLINE_AFTER_MS = offlineAfterMs(document.documentElement.dataset.cameraOfflineAfterS);',
      );
      expect(script).not.toMatch(/3600 \* 1000/);
      const source = /function offlineAfterMs\(attribute\) \{[\s\S]*?\n {2}\}/.exec(script)?.[0];
      expect(source).toBeDefined();
      const offlineAfterMs = (attribute: string | undefined) =>
        new vm.Script(`${source}; offlineAfterMs(attribute)`).runInNewContext({ attribute }) as number;
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
