import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isLoopbackHost } from '../config/load.js';
import type { HttpConfig } from '../config/schema.js';
import { UI_PATHS } from './routes/ui.js';

/** The Home Assistant Supervisor's ingress proxy: the only peer trusted without the API key (when enabled). */
export const INGRESS_PROXY_ADDRESS = '172.30.32.2';
export const INGRESS_HEADER = 'x-ingress-path';

/**
 * Open whatever the key: orchestrators probe liveness without credentials, and the status page and its two assets
 * hold no data (the page asks for the key when the API answers 401).
 */
const PUBLIC_PATHS: ReadonlySet<string> = new Set(['/api/health/live', ...Object.values(UI_PATHS)]);

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** True for a request proxied by the Supervisor's ingress, when `http.ingress` allows it. */
export function fromIngress(request: FastifyRequest, http: Pick<HttpConfig, 'ingress'>): boolean {
  if (!http.ingress) return false;
  const peer = (request.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
  return peer === INGRESS_PROXY_ADDRESS && request.headers[INGRESS_HEADER] !== undefined;
}

/** Who a mutation is audited as: `api`, or `api:ingress` for the Home Assistant panel. */
export function actorOf(request: FastifyRequest, http: Pick<HttpConfig, 'ingress'>): string {
  return fromIngress(request, http) ? 'api:ingress' : 'api';
}

/**
 * WebSocket subprotocol carrying the key: browsers cannot set headers on a WebSocket, and a key in the URL would end
 * up in proxy logs. The page offers `['hsi.v1', 'hsi-key.<base64url of the key>']`; the server selects `hsi.v1`.
 */
export const KEY_PROTOCOL_PREFIX = 'hsi-key.';

function keyFromProtocols(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const offered = header.split(',').map((p) => p.trim());
  const encoded = offered.find((p) => p.startsWith(KEY_PROTOCOL_PREFIX))?.slice(KEY_PROTOCOL_PREFIX.length);
  return encoded === undefined || encoded === '' ? undefined : Buffer.from(encoded, 'base64url').toString('utf8');
}

/**
 * The key a request presents: `Authorization: Bearer <key>`, `X-API-Key: <key>`, or (WebSocket upgrades from a
 * browser) the `hsi-key.<base64url>` subprotocol.
 */
export function presentedKey(request: FastifyRequest): string | undefined {
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
    if (match?.[1] !== undefined) return match[1];
  }
  const header = request.headers['x-api-key'];
  if (typeof header === 'string' && header !== '') return header;
  return request.headers.upgrade === undefined
    ? undefined
    : keyFromProtocols(request.headers['sec-websocket-protocol']);
}

/** Constant-time comparison of the presented key with the configured one (both hashed to equal length first). */
export function keyMatches(presented: string | undefined, expected: Buffer): boolean {
  if (presented === undefined) return false;
  return timingSafeEqual(digest(presented), expected);
}

/** True for a peer on this machine (the container itself, in Docker and the add-on). */
export function fromLoopback(request: FastifyRequest): boolean {
  return isLoopbackHost((request.socket.remoteAddress ?? '').replace(/^::ffff:/, ''));
}

/**
 * True when the API has no key but ingress is on and it listens beyond loopback (the add-on's defaults): then only
 * the Supervisor's ingress proxy and this machine get in, unless `http.allow_unauthenticated_lan` opens it.
 */
export function ingressOnly(http: Pick<HttpConfig, 'api_key' | 'ingress' | 'host' | 'allow_unauthenticated_lan'>) {
  return http.api_key === '' && http.ingress && !http.allow_unauthenticated_lan && !isLoopbackHost(http.host);
}

const UNAUTHORIZED = 'this HSI requires its API key: send "Authorization: Bearer <key>" or "X-API-Key: <key>"';
const INGRESS_ONLY =
  'this HSI is reached through Home Assistant only (ingress: open it from the sidebar); set the api_key option ' +
  'to use the API from other machines';

/**
 * With `http.api_key` set, every request but the liveness probe must present the key (or come through the ingress
 * proxy when `http.ingress` is on); others get 401. Without a key but with ingress on a non-loopback address
 * (`ingressOnly`), only the ingress proxy and this machine get in; others get 403. Otherwise everything is open
 * (loopback only, or `http.allow_unauthenticated_lan`: `loadConfig` refuses anything else).
 */
export function installAuth(
  app: FastifyInstance,
  http: Pick<HttpConfig, 'api_key' | 'ingress' | 'host' | 'allow_unauthenticated_lan'>,
): void {
  const onlyIngress = ingressOnly(http);
  if (http.api_key === '' && !onlyIngress) return;
  const expected = http.api_key === '' ? undefined : digest(http.api_key);
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?', 1)[0] ?? '';
    if (PUBLIC_PATHS.has(path) || fromIngress(request, http)) return;
    if (expected === undefined) {
      if (fromLoopback(request)) return;
      return reply.status(403).send({ error: { code: 'INGRESS_ONLY', message: INGRESS_ONLY } });
    }
    if (keyMatches(presentedKey(request), expected)) return;
    return reply
      .status(401)
      .header('www-authenticate', 'Bearer')
      .send({ error: { code: 'UNAUTHORIZED', message: UNAUTHORIZED } });
  });
}
