import { byId } from './dom.js';
import { type Route, resolve } from './routes.js';

const KEY_STORE = 'hsi.api_key';
let memoryKey = '';

/** The API answered 401: the page shows the key form instead of an error. */
export class AuthError extends Error {}

/** The saved API key (`http.api_key`), or '' for none. */
export function readKey(): string {
  try {
    return localStorage.getItem(KEY_STORE) || memoryKey;
  } catch {
    return memoryKey;
  }
}

export function writeKey(key: string): void {
  memoryKey = key;
  try {
    localStorage.setItem(KEY_STORE, key);
  } catch {
    // Storage blocked (private mode, sandbox): the key lives as long as the page.
  }
}

function askKey(refused: boolean): void {
  byId('key-hint').textContent = refused
    ? 'The saved API key was refused: enter it again.'
    : 'This HSI needs its API key (http.api_key).';
  const form = byId('key-form');
  if (form.hidden) {
    form.hidden = false;
    byId('key-input').focus();
  }
}

type Params = Readonly<Record<string, string | number>> | null;

/** One call, with the key when there is one; a 401 asks for the key and throws `AuthError`. */
export async function send(route: Route, params: Params, body?: unknown, accept?: string): Promise<Response> {
  const { method, path } = resolve(route, params ?? undefined);
  const headers: Record<string, string> = { accept: accept ?? 'application/json' };
  const key = readKey();
  if (key) headers['x-api-key'] = key;
  const init: RequestInit = { method, headers, cache: 'no-store' };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  if (res.status === 401) {
    askKey(key !== '');
    throw new AuthError('API key needed');
  }
  return res;
}

interface ErrorBody {
  error?: { message?: string };
}

/** The call's JSON; an error with the API's message unless the status is OK or one of `allow`. */
export async function api<T>(route: Route, params?: Params, body?: unknown, allow: number[] = []): Promise<T> {
  const res = await send(route, params ?? null, body);
  const json = (res.headers.get('content-type') ?? '').includes('json') ? ((await res.json()) as unknown) : null;
  if (!res.ok && !allow.includes(res.status)) {
    throw new Error((json as ErrorBody | null)?.error?.message || `${res.status} ${res.statusText}`);
  }
  return json as T;
}

export function errorMessage(error: unknown): string {
  return String((error as Error | null)?.message || error);
}
