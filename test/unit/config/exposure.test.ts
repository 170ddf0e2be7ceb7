import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLoopbackHost, loadConfig } from '../../../src/config/load.js';
import { AppError } from '../../../src/lib/errors.js';

/** HSI refuses to start with a listener reachable from other machines that asks for no credentials (issue 11 #11). */

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'hsi-exposure-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const load = (env: NodeJS.ProcessEnv) => loadConfig({ env, cwd: dir, optionsFile: path.join(dir, 'none.json') });

function messages(env: NodeJS.ProcessEnv): string[] {
  try {
    load(env);
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    expect(error.code).toBe('CONFIG_INVALID');
    return ((error.details?.errors ?? []) as { key: string; source: string; message: string }[]).map(
      (e) => `${e.key} <- ${e.source}: ${e.message}`,
    );
  }
  return [];
}

describe('loadConfig refuses open listeners beyond loopback', () => {
  it('accepts the defaults and every loopback spelling without a key', () => {
    expect(messages({})).toStrictEqual([]);
    for (const host of ['127.0.0.1', '127.0.1.1', 'localhost', 'LOCALHOST', '::1', '[::1]']) {
      expect([host, messages({ HSI_HTTP_HOST: host, HSI_MQTT_EMBEDDED_HOST: host })]).toStrictEqual([host, []]);
    }
  });

  it('refuses the API on a LAN address without a key, naming the variable that set it and the fixes', () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'hsi.lan']) {
      const found = messages({ HSI_HTTP_HOST: host });
      expect(found).toHaveLength(1);
      expect(found[0]).toBe(
        `http.host <- HSI_HTTP_HOST: the HTTP API listens on ${host} (http.host), reachable from other machines, ` +
          'without an API key: anyone there could disarm the house. Set http.api_key (HSI_HTTP_API_KEY), or bind ' +
          'http.host to 127.0.0.1, or set http.allow_unauthenticated_lan: true to accept the risk (dangerous)',
      );
    }
  });

  it('starts the API beyond loopback with a key, with ingress (ingress-only access), or with the opt-out', () => {
    expect(messages({ HSI_HTTP_HOST: '0.0.0.0', HSI_HTTP_API_KEY: 'k' })).toStrictEqual([]);
    expect(messages({ HSI_HTTP_HOST: '0.0.0.0', HSI_HTTP_INGRESS: 'true' })).toStrictEqual([]);
    const open = load({ HSI_HTTP_HOST: '0.0.0.0', HSI_HTTP_ALLOW_UNAUTHENTICATED_LAN: 'true' });
    expect(open.config.http.allow_unauthenticated_lan).toBe(true);
    expect(messages({ HSI_HTTP_HOST: '0.0.0.0', HSI_HTTP_ENABLED: 'false' })).toStrictEqual([]);
  });

  it('refuses the embedded broker on a LAN address without both credentials, but not an outside broker', () => {
    const open = messages({ HSI_MQTT_EMBEDDED_HOST: '0.0.0.0', HSI_MQTT_EMBEDDED_USERNAME: 'ha' });
    expect(open).toHaveLength(1);
    expect(open[0]).toMatch(/^mqtt\.embedded\.host <- HSI_MQTT_EMBEDDED_HOST: the embedded MQTT broker listens on/);
    expect(open[0]).toContain('Set mqtt.embedded.username and mqtt.embedded.password');
    const both = { HSI_MQTT_EMBEDDED_USERNAME: 'ha', HSI_MQTT_EMBEDDED_PASSWORD: 'pw' };
    expect(messages({ HSI_MQTT_EMBEDDED_HOST: '0.0.0.0', ...both })).toStrictEqual([]);
    // With mqtt.url set the embedded broker does not start at all.
    expect(messages({ HSI_MQTT_EMBEDDED_HOST: '0.0.0.0', HSI_MQTT_URL: 'mqtt://10.0.0.2:1883' })).toStrictEqual([]);
  });

  it('reports schema errors alone first (the cross-field check needs a valid configuration)', () => {
    const found = messages({ HSI_HTTP_HOST: '0.0.0.0', HSI_HTTP_PORT: 'x' });
    expect(found.map((m) => m.split(' <- ')[0])).toStrictEqual(['http.port']);
  });

  it('tells loopback addresses from the rest', () => {
    expect(['127.0.0.1', '127.255.0.9', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1'].map(isLoopbackHost)).toEqual([
      true,
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(['0.0.0.0', '::', '', '10.0.0.1', '128.0.0.1', 'localhost.evil.example'].map(isLoopbackHost)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
  });
});
