import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { addonEnvironment, type EntryContext } from '../../../src/ops/addon-entry.js';

/**
 * The add-on entry against a stand-in Supervisor (node:http on 127.0.0.1): the environment it produces, and
 * ha-addon/rootfs/run.sh end to end with a fake command in place of `hsi run` that prints what it was given.
 */

const TOKEN = 'supervisor-token-for-tests';
const root = path.resolve(import.meta.dirname, '..', '..', '..');

interface Route {
  status: number;
  body: unknown;
}

class FakeSupervisor {
  readonly requests: { path: string; authorization: string | undefined }[] = [];
  /** Answers per path, each used once in turn; the last one repeats. */
  readonly routes = new Map<string, Route[]>();
  private readonly server = http.createServer((req, res) => {
    this.requests.push({ path: req.url ?? '', authorization: req.headers.authorization });
    const queue = this.routes.get(req.url ?? '') ?? [];
    const route =
      req.headers.authorization !== `Bearer ${TOKEN}`
        ? { status: 401, body: { result: 'error', message: 'Unauthorized' } }
        : ((queue.length > 1 ? queue.shift() : queue[0]) ?? { status: 404, body: { result: 'error', message: 'no' } });
    res.writeHead(route.status, { 'content-type': 'application/json' }).end(JSON.stringify(route.body));
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const ok = (data: unknown): Route => ({ status: 200, body: { result: 'ok', data } });
const MOSQUITTO = {
  addon: 'core_mosquitto',
  host: 'core-mosquitto',
  port: 1883,
  ssl: false,
  protocol: '3.1.1',
  username: 'addons',
  password: 'p\'a$s w"d',
};

let supervisor: FakeSupervisor;
let supervisorUrl: string;
let dir: string;
let logs: string[];

beforeAll(async () => {
  supervisor = new FakeSupervisor();
  supervisorUrl = await supervisor.start();
});

afterAll(async () => {
  await supervisor.close();
});

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'hsi-addon-entry-'));
  mkdirSync(path.join(dir, 'data'));
  mkdirSync(path.join(dir, 'config'));
  logs = [];
  supervisor.requests.length = 0;
  supervisor.routes.clear();
  supervisor.routes.set('/services/mqtt', [ok(MOSQUITTO)]);
  supervisor.routes.set('/info', [ok({ supervisor: '2025.1.0', timezone: 'Europe/Berlin', arch: 'amd64' })]);
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function context(options: Record<string, unknown>, overrides: Partial<EntryContext> = {}): EntryContext {
  return {
    options,
    env: {},
    supervisor: { url: supervisorUrl, token: TOKEN, retryDelayMs: 10 },
    dataDir: path.join(dir, 'data'),
    configDir: path.join(dir, 'config'),
    log: (message) => logs.push(message),
    ...overrides,
  };
}

describe('addonEnvironment', () => {
  it("uses the Supervisor's broker, its credentials and Home Assistant's time zone", async () => {
    const vars = await addonEnvironment(context({ media_root: '/media/hsi' }));
    expect(vars).toStrictEqual({
      HSI_DATA_DIR: path.join(dir, 'data'),
      HSI_OPTIONS_FILE: path.join(dir, 'data', 'options.json'),
      HSI_MQTT_URL: 'mqtt://core-mosquitto:1883',
      HSI_MQTT_USERNAME: 'addons',
      HSI_MQTT_PASSWORD: 'p\'a$s w"d',
      TZ: 'Europe/Berlin',
    });
    expect(supervisor.requests).toStrictEqual([
      { path: '/services/mqtt', authorization: `Bearer ${TOKEN}` },
      { path: '/info', authorization: `Bearer ${TOKEN}` },
    ]);
    expect(logs.join('\n')).not.toContain(MOSQUITTO.password);
  });

  it('leaves MQTT and the time zone to the options when they are set, and reads /config/hsi.yaml', async () => {
    writeFileSync(path.join(dir, 'config', 'hsi.yaml'), 'detector: {confidence: 0.6}\n');
    const vars = await addonEnvironment(
      context({ mqtt_url: 'mqtts://broker.lan:8883', mqtt_username: 'me', timezone: 'Asia/Tokyo' }),
    );
    expect(vars).toStrictEqual({
      HSI_DATA_DIR: path.join(dir, 'data'),
      HSI_OPTIONS_FILE: path.join(dir, 'data', 'options.json'),
      HSI_CONFIG: path.join(dir, 'config', 'hsi.yaml'),
      TZ: 'Asia/Tokyo',
    });
    expect(supervisor.requests).toStrictEqual([]);
  });

  it("keeps the user's broker login but takes the Supervisor's broker when only mqtt_username is set", async () => {
    supervisor.routes.set('/services/mqtt', [ok({ ...MOSQUITTO, host: 'fd00::5', port: '8883', ssl: true })]);
    const vars = await addonEnvironment(
      context({ mqtt_username: 'hsi', mqtt_password: 'own' }, { env: { TZ: 'UTC' } }),
    );
    expect(vars).toStrictEqual({
      HSI_DATA_DIR: path.join(dir, 'data'),
      HSI_OPTIONS_FILE: path.join(dir, 'data', 'options.json'),
      HSI_MQTT_URL: 'mqtts://[fd00::5]:8883',
    });
    expect(supervisor.requests.map((r) => r.path)).toStrictEqual(['/services/mqtt']);
  });

  it('retries a Supervisor that answers 5xx, then goes on', async () => {
    const busy = { status: 502, body: { result: 'error', message: 'starting' } };
    supervisor.routes.set('/services/mqtt', [busy, busy, ok(MOSQUITTO)]);
    const vars = await addonEnvironment(context({}));
    expect(vars.HSI_MQTT_URL).toBe('mqtt://core-mosquitto:1883');
    expect(supervisor.requests.map((r) => r.path)).toStrictEqual([
      '/services/mqtt',
      '/services/mqtt',
      '/services/mqtt',
      '/info',
    ]);
  });

  it('stops with what to do when there is no broker to use', async () => {
    supervisor.routes.set('/services/mqtt', [
      { status: 400, body: { result: 'error', message: 'Service not enabled' } },
    ]);
    await expect(addonEnvironment(context({}))).rejects.toThrow(
      'no MQTT broker: the Supervisor has none to offer (HTTP 400: Service not enabled); install and start the ' +
        'Mosquitto broker add-on, or set mqtt_url (and mqtt_username/mqtt_password)',
    );
    await expect(addonEnvironment(context({}, { supervisor: undefined }))).rejects.toThrow(/no SUPERVISOR_TOKEN/);
  });

  it('goes on in UTC when the Supervisor gives no time zone', async () => {
    supervisor.routes.set('/info', [{ status: 403, body: { result: 'error', message: 'Forbidden' } }]);
    const vars = await addonEnvironment(context({}));
    expect(vars.TZ).toBeUndefined();
    expect(logs.at(-1)).toBe('the Supervisor gave no usable time zone (HTTP 403); using UTC, set the timezone option');
  });
});

/** Runs run.sh with the entry compiled on the fly (tsx) and `node -e <print env>` as the command to exec. */
function runScript(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const appDir = path.join(dir, 'app');
  mkdirSync(path.join(appDir, 'dist', 'ops'), { recursive: true });
  const entry = path.join(root, 'src', 'ops', 'addon-entry.ts');
  // As in the image: /app/package.json makes dist/*.js ES modules.
  writeFileSync(path.join(appDir, 'package.json'), '{"type": "module"}\n');
  writeFileSync(
    path.join(appDir, 'dist', 'ops', 'addon-entry.js'),
    `import { main } from ${JSON.stringify(entry)};\nprocess.exitCode = await main();\n`,
  );
  const printEnv = 'process.stdout.write(JSON.stringify(process.env))';
  const child = spawn('sh', [path.join(root, 'ha-addon', 'rootfs', 'run.sh'), process.execPath, '-e', printEnv], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', NODE_OPTIONS: '--import tsx', HSI_APP_DIR: appDir, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('ha-addon/rootfs/run.sh', () => {
  it('execs the command with the environment HSI needs, which loads into a valid configuration', async () => {
    const dataDir = path.join(dir, 'data');
    const options = { media_root: '/media/hsi', detector_device: 'cpu', log_level: 'info', alarm_code: '4321' };
    writeFileSync(path.join(dataDir, 'options.json'), JSON.stringify(options));
    const result = await runScript({
      SUPERVISOR_TOKEN: TOKEN,
      HSI_SUPERVISOR_URL: supervisorUrl,
      HSI_DATA_DIR: dataDir,
      HSI_ADDON_CONFIG_DIR: path.join(dir, 'config'),
    });
    expect(result.code, result.stderr).toBe(0);
    const env = JSON.parse(result.stdout) as Record<string, string>;
    expect(env).toMatchObject({
      HSI_DATA_DIR: dataDir,
      HSI_OPTIONS_FILE: path.join(dataDir, 'options.json'),
      HSI_MQTT_URL: 'mqtt://core-mosquitto:1883',
      HSI_MQTT_USERNAME: 'addons',
      HSI_MQTT_PASSWORD: 'p\'a$s w"d',
      TZ: 'Europe/Berlin',
    });
    expect(result.stderr).toContain("hsi-addon: using the Supervisor's MQTT broker mqtt://core-mosquitto:1883");
    expect(result.stderr).not.toContain(MOSQUITTO.password);

    const { config } = loadConfig({ env, cwd: dir });
    expect(config.mqtt).toMatchObject({
      url: 'mqtt://core-mosquitto:1883',
      username: 'addons',
      password: 'p\'a$s w"d',
    });
    expect(config.data_dir).toBe(dataDir);
    expect(config.media_root).toBe('/media/hsi');
    expect(config.detector.device).toBe('cpu');
    expect(config.homeassistant.alarm_code).toBe('4321');
    expect(config.http).toMatchObject({ host: '0.0.0.0', port: 8099, ingress: true });
  });

  it('does not start HSI when the entry fails, and says why', async () => {
    supervisor.routes.set('/services/mqtt', [
      { status: 400, body: { result: 'error', message: 'Service not enabled' } },
    ]);
    const result = await runScript({
      SUPERVISOR_TOKEN: TOKEN,
      HSI_SUPERVISOR_URL: supervisorUrl,
      HSI_DATA_DIR: path.join(dir, 'data'),
      HSI_ADDON_CONFIG_DIR: path.join(dir, 'config'),
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('hsi-addon: no MQTT broker: the Supervisor has none to offer (HTTP 400');
  });
});
