import { existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { isKnownTimezone } from '../config/addon-options.js';
import { errorMessage } from '../lib/errors.js';

/**
 * The Home Assistant add-on's entry step (run by ha-addon/rootfs/run.sh before `hsi run`): asks the Supervisor for
 * the MQTT broker's credentials and the time zone, and prints the environment HSI then runs with, as `export`
 * lines for the shell to evaluate (so the shell can `exec` HSI and tini signals it directly). Messages go to
 * stderr; secrets never do.
 */

export const DEFAULT_SUPERVISOR_URL = 'http://supervisor';
export const ADDON_DATA_DIR = '/data';
/** Where `addon_config` is mapped: an optional `hsi.yaml` there is the YAML configuration layer. */
export const ADDON_CONFIG_DIR = '/config';
export const ADDON_CONFIG_FILE = 'hsi.yaml';

export interface SupervisorClient {
  /** `http://supervisor` (`HSI_SUPERVISOR_URL` overrides it, for tests). */
  url: string;
  /** `SUPERVISOR_TOKEN`, injected by the Supervisor into every add-on with `hassio_api`. */
  token: string;
  timeoutMs?: number;
  /** Tries on a network error or a 5xx answer (default 3), waiting `retryDelayMs` doubled each time (500). */
  attempts?: number;
  retryDelayMs?: number;
}

export interface SupervisorAnswer {
  status: number;
  /** `data` of a `{"result": "ok", "data": …}` answer. */
  data?: unknown;
  /** `message` of a `{"result": "error", "message": …}` answer. */
  message?: string;
}

/** GET on the Supervisor API with the add-on's token. Throws only when the Supervisor cannot be reached. */
export async function supervisorGet(client: SupervisorClient, endpoint: string): Promise<SupervisorAnswer> {
  const attempts = client.attempts ?? 3;
  let delay = client.retryDelayMs ?? 500;
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    try {
      const response = await fetch(new URL(endpoint, client.url), {
        headers: { authorization: `Bearer ${client.token}`, accept: 'application/json' },
        signal: AbortSignal.timeout(client.timeoutMs ?? 5000),
      });
      const body = (await response.json().catch(() => ({}))) as { data?: unknown; message?: unknown };
      const answer: SupervisorAnswer = { status: response.status, data: body.data };
      if (typeof body.message === 'string') answer.message = body.message;
      if (response.status < 500 || attempt === attempts) return answer;
      lastError = new Error(`HTTP ${response.status}${answer.message ? `: ${answer.message}` : ''}`);
    } catch (error) {
      lastError = error;
    }
    if (attempt < attempts) await new Promise((resolve) => setTimeout(resolve, delay));
    delay *= 2;
  }
  throw new Error(`Supervisor at ${client.url} unreachable (${endpoint}): ${errorMessage(lastError)}`);
}

export interface MqttService {
  host: string;
  port: number;
  ssl: boolean;
  username: string;
  password: string;
}

/** The broker from `GET /services/mqtt` data (the port may come as a number or a string). */
export function mqttServiceFromData(data: unknown): MqttService | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const d = data as Record<string, unknown>;
  const port = Number(d.port);
  if (typeof d.host !== 'string' || d.host === '' || !Number.isInteger(port) || port <= 0) return undefined;
  const str = (value: unknown) => (typeof value === 'string' ? value : '');
  return { host: d.host, port, ssl: d.ssl === true, username: str(d.username), password: str(d.password) };
}

export function mqttServiceUrl(service: MqttService): string {
  const host = service.host.includes(':') ? `[${service.host}]` : service.host;
  return `${service.ssl ? 'mqtts' : 'mqtt'}://${host}:${service.port}`;
}

export interface EntryContext {
  /** The add-on options (`/data/options.json`), `{}` when there are none. */
  options: Record<string, unknown>;
  env: NodeJS.ProcessEnv;
  /** Undefined outside Home Assistant (no `SUPERVISOR_TOKEN`). */
  supervisor: SupervisorClient | undefined;
  dataDir: string;
  configDir: string;
  log: (message: string) => void;
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;

/**
 * The variables HSI runs with in the add-on. MQTT: the user's `mqtt_url` when set, else the Supervisor's broker
 * (the Mosquitto add-on), with its credentials unless `mqtt_username` is set. TZ: the `timezone` option, else an
 * inherited TZ, else Home Assistant's. Throws when no broker can be found: the add-on needs one.
 */
export async function addonEnvironment(ctx: EntryContext): Promise<Record<string, string>> {
  const { env, log } = ctx;
  const vars: Record<string, string> = {};
  if (env.HSI_DATA_DIR === undefined) vars.HSI_DATA_DIR = ctx.dataDir;
  if (env.HSI_OPTIONS_FILE === undefined) vars.HSI_OPTIONS_FILE = path.join(ctx.dataDir, 'options.json');
  const yamlFile = path.join(ctx.configDir, ADDON_CONFIG_FILE);
  if (env.HSI_CONFIG === undefined && existsSync(yamlFile)) {
    vars.HSI_CONFIG = yamlFile;
    log(`reading extra settings from ${yamlFile} (the panel's options win over it)`);
  }
  Object.assign(vars, await mqttEnvironment(ctx));
  const tz = await timezone(ctx);
  if (tz !== undefined) vars.TZ = tz;
  return vars;
}

async function mqttEnvironment({ options, supervisor, log }: EntryContext): Promise<Record<string, string>> {
  const userUrl = text(options.mqtt_url);
  if (userUrl !== undefined) {
    log(`using the MQTT broker set in the options (mqtt_url)`);
    return {};
  }
  if (supervisor === undefined) {
    throw new Error(
      'no MQTT broker: mqtt_url is not set and there is no SUPERVISOR_TOKEN to ask the Supervisor for the ' +
        "Mosquitto add-on's broker; set mqtt_url, or run this as a Home Assistant add-on",
    );
  }
  const answer = await supervisorGet(supervisor, '/services/mqtt');
  const service = answer.status === 200 ? mqttServiceFromData(answer.data) : undefined;
  if (service === undefined) {
    const why = answer.status === 200 ? 'an answer without host and port' : `HTTP ${answer.status}`;
    throw new Error(
      `no MQTT broker: the Supervisor has none to offer (${why}${answer.message ? `: ${answer.message}` : ''}); ` +
        'install and start the Mosquitto broker add-on, or set mqtt_url (and mqtt_username/mqtt_password)',
    );
  }
  const vars: Record<string, string> = { HSI_MQTT_URL: mqttServiceUrl(service) };
  if (text(options.mqtt_username) === undefined) {
    vars.HSI_MQTT_USERNAME = service.username;
    vars.HSI_MQTT_PASSWORD = service.password;
  }
  const who = vars.HSI_MQTT_USERNAME === undefined ? 'the user set in the options' : 'its add-on credentials';
  log(`using the Supervisor's MQTT broker ${vars.HSI_MQTT_URL} with ${who}`);
  return vars;
}

async function timezone({ options, env, supervisor, log }: EntryContext): Promise<string | undefined> {
  const option = text(options.timezone);
  if (option !== undefined) return isKnownTimezone(option) ? option : undefined;
  if (text(env.TZ) !== undefined || supervisor === undefined) return undefined;
  try {
    const answer = await supervisorGet(supervisor, '/info');
    const zone = (answer.data as { timezone?: unknown } | undefined)?.timezone;
    if (answer.status === 200 && typeof zone === 'string' && isKnownTimezone(zone)) {
      log(`time zone ${zone} (from Home Assistant)`);
      return zone;
    }
    log(`the Supervisor gave no usable time zone (HTTP ${answer.status}); using UTC, set the timezone option`);
  } catch (error) {
    log(`${errorMessage(error)}; using UTC, set the timezone option`);
  }
  return undefined;
}

/** `export NAME='value'` lines, single-quoted so any value (quotes, newlines, `$`) reaches HSI unchanged. */
export function shellExports(vars: Readonly<Record<string, string>>): string {
  return Object.entries(vars)
    .map(([name, value]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`not a variable name: ${name}`);
      return `export ${name}='${value.replaceAll("'", `'\\''`)}'\n`;
    })
    .join('');
}

function readOptions(file: string, log: (message: string) => void): Record<string, unknown> {
  if (!existsSync(file)) return {};
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  } catch (error) {
    // HSI reads the file again and reports the exact problem.
    log(`cannot read ${file}: ${errorMessage(error)}`);
    return {};
  }
}

/** Prints the export lines on `out`; returns the exit status (1 with the reason on `err` when HSI cannot start). */
export async function main(
  env: NodeJS.ProcessEnv = process.env,
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  const log = (message: string) => err.write(`hsi-addon: ${message}\n`);
  const dataDir = env.HSI_DATA_DIR ?? ADDON_DATA_DIR;
  const token = text(env.SUPERVISOR_TOKEN);
  try {
    const vars = await addonEnvironment({
      options: readOptions(env.HSI_OPTIONS_FILE ?? path.join(dataDir, 'options.json'), log),
      env,
      supervisor: token === undefined ? undefined : { url: env.HSI_SUPERVISOR_URL ?? DEFAULT_SUPERVISOR_URL, token },
      dataDir,
      configDir: env.HSI_ADDON_CONFIG_DIR ?? ADDON_CONFIG_DIR,
      log,
    });
    out.write(shellExports(vars));
    return 0;
  } catch (error) {
    log(errorMessage(error));
    return 1;
  }
}

function isMain(): boolean {
  const script = process.argv[1];
  return script !== undefined && pathToFileURL(realpathSync(script)).href === import.meta.url;
}

if (isMain()) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`hsi-addon: ${errorMessage(error)}\n`);
      process.exitCode = 1;
    },
  );
}
