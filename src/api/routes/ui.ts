import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { VERSION } from '../../version.js';

/**
 * The page's policy: its own script and stylesheet only (no inline code, so server text can never run), images
 * from the API or as blob: URLs (detection pictures fetched with the API key), the WebSocket, and framing by its
 * own origin only: Home Assistant's ingress panel shows the page in an iframe of the HA origin, which is the
 * page's origin too through the proxy.
 */
export const UI_CONTENT_SECURITY_POLICY =
  "default-src 'self'; img-src 'self' data: blob:; connect-src 'self' ws: wss:; style-src 'self'; " +
  "script-src 'self'; frame-ancestors 'self'";

/**
 * The page and its assets: public with `http.api_key` set (they hold no data), see auth.ts. They are the files the
 * web/ build emits (web/vite.config.ts holds it to exactly these), at the same paths under web/dist.
 */
export const UI_PATHS = { page: '/', script: '/ui/app.js', styles: '/ui/app.css' } as const;

/** web/dist of this package: src/api/routes/ and dist/api/routes/ are both three levels below its root. */
export const WEB_DIST = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

/** Assets are linked as `ui/app.js?v=<hash>`: that URL never changes content, so browsers may keep it for good. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** What the API writes into the built page (web/index.html holds the names). */
const PLACEHOLDERS = { version: '__HSI_VERSION__', offlineAfter: '__HSI_CAMERA_OFFLINE_AFTER_S__' } as const;

export interface UiSettings {
  /** `homeassistant.camera_offline_after_s`: the page's script reads it from the root element. */
  cameraOfflineAfterS: number;
  /** Told once at the start when the page cannot be served (the server's pino logger fits). */
  log?: { warn(fields: object, message: string): void };
  /** The built page's folder; WEB_DIST unless a test says otherwise. */
  dir?: string;
}

interface Asset {
  body: string;
  type: string;
  version: string;
}

function asset(body: string, type: string): Asset {
  return { body, type, version: createHash('sha256').update(body, 'utf8').digest('hex').slice(0, 16) };
}

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** HTML-escapes text for an element or a quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/** Replaces `from` in the page, which must hold it exactly once (else the build is not the one this code knows). */
function replaceOnce(html: string, from: string, to: string): string {
  const parts = html.split(from);
  if (parts.length !== 2)
    throw new Error(`web/dist/index.html holds ${JSON.stringify(from)} ${parts.length - 1} times, not once`);
  return parts.join(to);
}

export interface UiFiles {
  page: Asset;
  script: Asset;
  styles: Asset;
}

/**
 * Reads the built page from `dir` and fills it in: the version, the offline threshold, and each asset's link made
 * relative (no `./`: `ui/app.js`, resolved under the ingress prefix as at `/`) with `?v=<hash of its content>`.
 * Throws when a file is missing or the page is not the shape web/vite.config.ts builds.
 */
export function loadUi(dir: string, settings: Pick<UiSettings, 'cameraOfflineAfterS'>): UiFiles {
  const read = (path: string) => readFileSync(`${dir.replace(/\/?$/, '/')}${path}`, 'utf8');
  let html = read('index.html');
  const script = asset(read(UI_PATHS.script.slice(1)), 'text/javascript; charset=utf-8');
  const styles = asset(read(UI_PATHS.styles.slice(1)), 'text/css; charset=utf-8');
  for (const [attribute, path, a] of [
    ['src', UI_PATHS.script, script],
    ['href', UI_PATHS.styles, styles],
  ] as const) {
    html = replaceOnce(html, `${attribute}=".${path}"`, `${attribute}="${path.slice(1)}?v=${a.version}"`);
  }
  html = replaceOnce(html, PLACEHOLDERS.version, escapeHtml(VERSION));
  html = replaceOnce(html, PLACEHOLDERS.offlineAfter, escapeHtml(String(settings.cameraOfflineAfterS)));
  return { page: asset(html, 'text/html; charset=utf-8'), script, styles };
}

/** Served at `/` (and for the assets) when web/dist is missing or unreadable: says how to build it. */
function notBuiltPage(reason: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>HSI: web UI not built</title></head>
<body><h1>HSI's web UI is not built</h1>
<p>${escapeHtml(reason)}</p>
<p>In the HSI folder run <code>npm run build</code> (or <code>npm run build:web</code> for the page alone), then
restart HSI. The HTTP API itself works.</p></body></html>
`;
}

/**
 * `GET /`: a small status page (health, arming, cameras, alerts, events; live over `ws/events`) for the Home
 * Assistant ingress panel and plain browsers; `GET /ui/app.js` and `/ui/app.css` its assets, all built from web/ into
 * web/dist and read once here. Without that build, each answers 503 saying how to make it (and the start logs it).
 * Hidden from the OpenAPI document: it is not part of the API.
 */
export function uiRoutes(app: FastifyInstance, settings: UiSettings): void {
  const dir = settings.dir ?? WEB_DIST;
  let files: UiFiles;
  try {
    files = loadUi(dir, settings);
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    const reason = missing
      ? `The web UI is not built: ${dir} lacks ${(error as NodeJS.ErrnoException).path ?? 'index.html'}.`
      : `The web UI in ${dir} cannot be used: ${error instanceof Error ? error.message : String(error)}.`;
    settings.log?.warn({ dir }, `status page unavailable (503 at /): ${reason} Run \`npm run build\` in HSI's folder`);
    const body = notBuiltPage(reason);
    for (const path of Object.values(UI_PATHS)) {
      app.get(path, { schema: { hide: true } }, async (_request, reply) =>
        reply
          .status(503)
          .header('cache-control', 'no-store')
          .header('content-security-policy', UI_CONTENT_SECURITY_POLICY)
          .header('x-content-type-options', 'nosniff')
          .type('text/html; charset=utf-8')
          .send(body),
      );
    }
    return;
  }
  const { page, script, styles } = files;
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
