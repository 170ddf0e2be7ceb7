import net from 'node:net';
import { requireServices } from './env.js';

/** True when something accepts TCP connections on `url`'s host and port within `timeoutMs`. */
export function reachable(url: string, defaultPort: number, timeoutMs = 1000): Promise<boolean> {
  const parsed = new URL(url);
  const port = parsed.port === '' ? defaultPort : Number(parsed.port);
  return new Promise((resolve) => {
    const socket = net.connect({ host: parsed.hostname, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Resolves to a skip reason when the service is down, undefined when it is up. Under `REQUIRE_SERVICES=1` (CI) a
 * down service throws, so integration tests fail instead of skipping.
 */
export async function serviceDown(name: string, url: string, defaultPort: number): Promise<string | undefined> {
  if (await reachable(url, defaultPort)) return undefined;
  const reason = `${name} not reachable at ${url}`;
  if (requireServices) throw new Error(`REQUIRE_SERVICES=1 but ${reason}`);
  return reason;
}
