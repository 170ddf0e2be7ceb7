import path from 'node:path';
import { llmEndpoints } from '../analysis/llm-client.js';
import { redactUrl } from '../config/redact.js';
import type { AnalysisConfig, Config } from '../config/schema.js';
import type { DoctorDeps } from './doctor-probes.js';
import { type CheckResult, fail, ok, skip, warn } from './doctor-result.js';

/** The doctor's checks of the backends: database (with migrations), Redis, the MQTT broker and the LLM. */

/** A readable reason: AggregateError (IPv4 + IPv6 refused) has an empty message, its parts do not. */
export function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return describeError(error.errors[0]);
  if (error instanceof Error && error.message !== '') return error.message;
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : String(error);
}

function errorCode(error: unknown): string | undefined {
  if (error instanceof AggregateError && error.errors.length > 0) return errorCode(error.errors[0]);
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ECONNRESET']);

export async function databaseCheck(config: Config, deps: DoctorDeps): Promise<CheckResult> {
  const url = config.database.url;
  const where = url === '' ? `embedded PGlite in ${path.join(config.data_dir, 'pglite')}` : redactUrl(url);
  let applied: number[];
  try {
    applied = await deps.appliedMigrations(config);
  } catch (error) {
    return databaseFailure(where, url, error);
  }
  const known = deps.knownMigrations();
  const unknown = applied.filter((version) => !known.some((m) => m.version === version));
  if (unknown.length > 0) {
    return fail(
      `${where} has migrations this HSI does not know (${unknown.join(', ')}): a newer HSI used it`,
      'run the HSI version that migrated this database (or newer)',
    );
  }
  // Pending migrations are no fault: start-up applies them (in order, each in one transaction).
  const pending = known.filter((m) => !applied.includes(m.version));
  if (pending.length > 0 && applied.length === 0) {
    return ok(`${where}: new, ${pending.length} migrations pending: HSI applies them when it starts`);
  }
  if (pending.length > 0) {
    const names = pending.map((m) => `${String(m.version).padStart(4, '0')}_${m.name}`).join(', ');
    return warn(
      `${where}: ${pending.length} of ${known.length} migrations pending (${names}): HSI applies them when it starts`,
      'nothing to do; `hsi migrate` applies them now, before a start',
    );
  }
  return ok(`${where} (${known.length} of ${known.length} migrations applied)`);
}

function databaseFailure(where: string, url: string, error: unknown): CheckResult {
  const code = errorCode(error);
  const message = describeError(error);
  if (code === 'DB_LOCKED') {
    const pid = /pid (\d+)/.exec(message)?.[1];
    return skip(`${where} is in use by a running HSI${pid ? ` (pid ${pid})` : ''}; stop it to check the database`);
  }
  if (code === '3D000') {
    const name = url === '' ? 'it' : decodeURIComponent(new URL(url).pathname.slice(1));
    return fail(`${where}: ${message}`, `create the database (CREATE DATABASE "${name}") or fix database.url`);
  }
  if (code === '28P01' || code === '28000') {
    return fail(`${where}: ${message}`, 'fix the user and password in database.url');
  }
  if (code !== undefined && UNREACHABLE.has(code)) {
    return fail(`${where} unreachable: ${message}`, 'start PostgreSQL, or fix the host and port in database.url');
  }
  return fail(`${where}: ${message}`, "fix database.url ('' runs the embedded PGlite database)");
}

export async function redisCheck(url: string, deps: DoctorDeps): Promise<CheckResult> {
  if (url === '') return skip('not configured: the in-process queue is used (one process)');
  try {
    await deps.redisPing(url);
    return ok(`${redactUrl(url)} answers PING`);
  } catch (error) {
    const message = describeError(error);
    const fix = /NOAUTH|WRONGPASS/.test(message)
      ? 'set the password in redis.url (redis://:password@host:6379)'
      : "start Redis, or fix redis.url ('' runs the in-process queue)";
    return fail(`${redactUrl(url)}: ${message}`, fix);
  }
}

export async function mqttCheck(config: Config, deps: DoctorDeps): Promise<CheckResult> {
  const { url } = config.mqtt;
  if (url === '') return embeddedBrokerCheck(config, deps);
  try {
    await deps.mqttConnect(config.mqtt);
    return ok(`${redactUrl(url)} accepts the connection`);
  } catch (error) {
    const message = describeError(error);
    const fix = /authori[sz]ed|username or password/i.test(message)
      ? 'check mqtt.username and mqtt.password (in the add-on: the Mosquitto add-on user, or the mqtt_* options)'
      : "start the broker, or fix mqtt.url ('' starts the embedded broker)";
    return fail(`${redactUrl(url)}: ${message}`, fix);
  }
}

/** With no mqtt.url HSI starts its own broker: its port must be free, or `hsi run` exits at start. */
async function embeddedBrokerCheck(config: Config, deps: DoctorDeps): Promise<CheckResult> {
  const { host, port } = config.mqtt.embedded;
  const where = `${host}:${port}`;
  try {
    await deps.listenProbe(host, port);
    return ok(`embedded broker: ${where} is free (no mqtt.url: HSI starts its own broker there)`);
  } catch (error) {
    const code = errorCode(error);
    if (code !== 'EADDRINUSE') {
      return fail(
        `embedded broker: cannot listen on ${where} (${describeError(error)})`,
        'fix mqtt.embedded.host and mqtt.embedded.port (HSI_MQTT_EMBEDDED_PORT), or set mqtt.url to use a broker',
      );
    }
    const pid = await deps.runningHsi(config.data_dir);
    if (pid !== undefined) return skip(`embedded broker: ${where} is in use, by the running HSI (pid ${pid}) it seems`);
    const brokerUrl = `mqtt://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${port}`;
    return fail(
      `embedded broker: ${where} is in use by another program (another MQTT broker, e.g. Mosquitto?): \`hsi run\` would exit at start`,
      `to use that broker set mqtt.url (HSI_MQTT_URL=${brokerUrl}), else move HSI's own with mqtt.embedded.port (HSI_MQTT_EMBEDDED_PORT)`,
    );
  }
}

export async function llmCheck(analysis: AnalysisConfig, deps: DoctorDeps): Promise<CheckResult> {
  if (analysis.provider === 'rules') return skip('analysis.provider is rules: the built-in rules score events');
  if (analysis.url === '') return skip('analysis.url is empty (see the configuration line)');
  const models = llmEndpoints(analysis.url).models;
  if (await deps.llmProbe(analysis)) return ok(`${models} answers`);
  return fail(
    `no answer from ${models}`,
    'start the LLM server, or fix analysis.url / analysis.api_key; meanwhile the rules score events',
  );
}
