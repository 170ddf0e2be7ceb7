import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { VERSION } from '../../version.js';
import { UI_SCRIPT } from '../ui/app-script.js';
import { pageHtml } from '../ui/page.js';
import { UI_STYLES } from '../ui/styles.js';

/**
 * The page's policy: its own script and stylesheet only (no inline code, so server text can never run), images
 * from the API or as blob: URLs (detection pictures fetched with the API key), the WebSocket, and framing by its
 * own origin only: Home Assistant's ingress panel shows the page in an iframe of the HA origin, which is the
 * page's origin too through the proxy.
 */
export const UI_CONTENT_SECURITY_POLICY =
  "default-src 'self'; img-src 'self' data: blob:; connect-src 'self' ws: wss:; style-src 'self'; " +
  "script-src 'self'; frame-ancestors 'self'";

/** The page and its assets: public with `http.api_key` set (they hold no data), see auth.ts. */
export const UI_PATHS = { page: '/', script: '/ui/app.js', styles: '/ui/app.css' } as const;

/** Assets are linked as `ui/app.js?v=<hash>`: that URL never changes content, so browsers may keep it for good. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

interface Asset {
  body: string;
  type: string;
  version: string;
}

function asset(body: string, type: string): Asset {
  return { body, type, version: createHash('sha256').update(body, 'utf8').digest('hex').slice(0, 16) };
}

/** `ui/app.js` + `?v=…`, relative (no leading slash) so it resolves under the ingress prefix. */
const linkTo = (path: string, a: Asset) => `${path.slice(1)}?v=${a.version}`;

/**
 * `GET /`: a small status page (health, arming, cameras, alerts, events; live over `ws/events`) for the Home
 * Assistant ingress panel and plain browsers; `GET /ui/app.js` and `/ui/app.css` its assets. Hidden from the
 * OpenAPI document: it is not part of the API.
 */
export function uiRoutes(app: FastifyInstance, settings: { cameraOfflineAfterS: number }): void {
  const script = asset(UI_SCRIPT, 'text/javascript; charset=utf-8');
  const styles = asset(UI_STYLES, 'text/css; charset=utf-8');
  const html = pageHtml({
    script: linkTo(UI_PATHS.script, script),
    styles: linkTo(UI_PATHS.styles, styles),
    version: VERSION,
    cameraOfflineAfterS: settings.cameraOfflineAfterS,
  });
  const page = asset(html, 'text/html; charset=utf-8');
  const etag = (a: Asset) => `"${a.version}"`;

  app.get(UI_PATHS.page, { schema: { hide: true } }, async (request, reply) => {
    reply
      .header('cache-control', 'no-cache')
      .header('etag', etag(page))
      .header('content-security-policy', UI_CONTENT_SECURITY_POLICY)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer');
    if (request.headers['if-none-match'] === etag(page)) return reply.status(304).send();
    return reply.type(page.type).send(page.body);
  });

  for (const [path, a] of [
    [UI_PATHS.script, script],
    [UI_PATHS.styles, styles],
  ] as const) {
    app.get<{ Querystring: { v?: string } }>(path, { schema: { hide: true } }, async (request, reply) => {
      // Only the linked version may be cached for good; any other URL revalidates (an old tab, a hand-typed URL).
      const cache = request.query.v === a.version ? IMMUTABLE : 'no-cache';
      reply.header('cache-control', cache).header('etag', etag(a)).header('x-content-type-options', 'nosniff');
      if (request.headers['if-none-match'] === etag(a)) return reply.status(304).send();
      return reply.type(a.type).send(a.body);
    });
  }
}
