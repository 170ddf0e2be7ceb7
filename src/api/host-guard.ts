import { isIP } from 'node:net';
import os from 'node:os';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { HttpConfig } from '../config/schema.js';
import { fromIngress } from './auth.js';

/**
 * Defence against a hostile web page in the owner's browser, with or without an API key:
 * - DNS rebinding: a page on `evil.example` points its own name at this machine and reads the API as same-origin.
 *   The browser then sends `Host: evil.example`, so a request by a name HSI is not known by gets 421.
 * - Cross-site requests: a page elsewhere may still send a POST (no CORS preflight for a form) or open a WebSocket
 *   (never subject to CORS). Those carry the page's `Origin`: one other than this site, or an allowed name, gets 403.
 * Requests from the Supervisor's ingress proxy carry the proxy's own Host and are let through (it authenticates the
 * Home Assistant user itself).
 */

const STATE_CHANGING: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const WILDCARD_HOSTS: ReadonlySet<string> = new Set(['', '0.0.0.0', '::', '[::]']);

/** `Host` / URL host name in one form: lower case, IPv6 without brackets, no trailing dot. */
const normalName = (name: string) =>
  name
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');

/**
 * The names HSI answers to: localhost and the loopback addresses, this machine's host name (and its first label),
 * `http.host` unless it is a wildcard, and `http.allowed_hosts`.
 */
export function allowedHostNames(
  http: Pick<HttpConfig, 'host' | 'allowed_hosts'>,
  hostname: string = os.hostname(),
): Set<string> {
  const names = ['localhost', '127.0.0.1', '::1', hostname, hostname.split('.', 1)[0] ?? '', ...http.allowed_hosts];
  if (!WILDCARD_HOSTS.has(http.host.trim())) names.push(http.host);
  return new Set(names.map(normalName).filter((name) => name !== ''));
}

export interface HostHeader {
  name: string;
  /** undefined when the header names none. */
  port: number | undefined;
}

/** `name`, `name:port`, `[v6]` or `[v6]:port`; undefined for anything else. */
export function parseHostHeader(value: string): HostHeader | undefined {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]/\s@]+)(?::(\d{1,5}))?$/.exec(value.trim());
  if (match?.[1] === undefined) return undefined;
  const port = match[2] === undefined ? undefined : Number(match[2]);
  if (port !== undefined && port > 65535) return undefined;
  return { name: normalName(match[1]), port };
}

/**
 * A Host is accepted when it is an allowed name or any IP address: the browser sends an IP address only when the
 * page itself was loaded from that address, so it cannot carry a rebinding attack.
 */
export function hostAllowed(host: HostHeader, names: ReadonlySet<string>): boolean {
  return names.has(host.name) || isIP(host.name) !== 0;
}

const DEFAULT_PORTS: Readonly<Record<string, number>> = { 'http:': 80, 'https:': 443, 'ws:': 80, 'wss:': 443 };

/**
 * An `Origin` is accepted when it is this same site (its host and port as the request's `Host`; a Host without a
 * port matches the scheme's default, as behind a TLS proxy) or its name is an allowed name (never merely an IP
 * address: a hostile page may well be served from one). `null` (sandboxed pages, files) is refused.
 */
export function originAllowed(origin: string, host: HostHeader | undefined, names: ReadonlySet<string>): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  const defaultPort = DEFAULT_PORTS[url.protocol];
  if (defaultPort === undefined) return false;
  const name = normalName(url.hostname);
  const port = url.port === '' ? defaultPort : Number(url.port);
  if (host !== undefined && name === host.name && port === (host.port ?? defaultPort)) return true;
  return names.has(name);
}

function refuse(status: number, code: string, message: string) {
  return { status, body: { error: { code, message } } };
}

/** Why a request is refused (status and the API's error body), or undefined to let it through. */
export function hostGuardVerdict(
  request: Pick<FastifyRequest, 'headers' | 'method'>,
  names: ReadonlySet<string>,
): ReturnType<typeof refuse> | undefined {
  const raw = request.headers.host;
  const host = raw === undefined ? undefined : parseHostHeader(raw);
  if (raw !== undefined && (host === undefined || !hostAllowed(host, names))) {
    return refuse(
      421,
      'MISDIRECTED_HOST',
      `HSI is not known as ${JSON.stringify(raw.slice(0, 100))}: reach it by its address, or add the name to ` +
        'http.allowed_hosts (HSI_HTTP_ALLOWED_HOSTS) if it is yours',
    );
  }
  const origin = request.headers.origin;
  const guarded = request.headers.upgrade !== undefined || STATE_CHANGING.has(request.method);
  if (guarded && origin !== undefined && !originAllowed(origin, host, names)) {
    return refuse(
      403,
      'FORBIDDEN_ORIGIN',
      `requests from the page at ${JSON.stringify(origin.slice(0, 100))} may not change anything or open the ` +
        'stream; add its host name to http.allowed_hosts if that site is yours',
    );
  }
  return undefined;
}

/** Checks Host on every request and Origin on WebSocket upgrades and POST/PUT/PATCH/DELETE (see above). */
export function installHostGuard(
  app: FastifyInstance,
  http: Pick<HttpConfig, 'host' | 'allowed_hosts' | 'ingress'>,
  hostname?: string,
): void {
  const names = allowedHostNames(http, hostname);
  app.addHook('onRequest', async (request, reply) => {
    if (fromIngress(request, http)) return;
    const verdict = hostGuardVerdict(request, names);
    if (verdict !== undefined) return reply.status(verdict.status).send(verdict.body);
  });
}
