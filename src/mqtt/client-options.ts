import { readFile } from 'node:fs/promises';
import os from 'node:os';
import type { IClientOptions } from 'mqtt';
import type { MqttConfig } from '../config/sections/mqtt.js';
import { AppError, errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';

export interface MqttTlsFiles {
  /** Paths to PEM files ('' = not used). */
  ca: string;
  cert: string;
  key: string;
  rejectUnauthorized: boolean;
}

export interface MqttConnectionOptions {
  url: string;
  username?: string;
  password?: string;
  /** '' or absent: `<base>_<host>_<pid>`, at most 23 characters. */
  clientId?: string;
  tls?: MqttTlsFiles;
  baseTopic: string;
  offlineQueueMax: number;
  log: Logger;
  /** How long `start()` waits for the first connection before going on with a warning (default 5000). */
  connectTimeoutMs?: number;
  keepaliveS?: number;
  /** Reconnect backoff: first delay, doubled after each failed attempt up to the maximum (1000 → 30000). */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /**
   * A connection that closes sooner than this after it was made does not reset the reconnect backoff, and a run of
   * them is reported as a likely client-id takeover (default 10000).
   */
  stableAfterMs?: number;
  /** Longest wait for each step of a clean `stop()` (default 2000). */
  stopTimeoutMs?: number;
}

/**
 * The connection settings from the `mqtt` config section; `url` is the broker to use (`mqtt.url`, or the embedded
 * broker's URL when that is empty).
 */
export function connectionOptionsFromConfig(config: MqttConfig, url: string, log: Logger): MqttConnectionOptions {
  const { tls } = config;
  return {
    url,
    username: config.username,
    password: config.password,
    clientId: config.client_id,
    tls: { ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: tls.reject_unauthorized },
    baseTopic: config.base_topic,
    offlineQueueMax: config.offline_queue_max,
    log,
  };
}

/** mqtt.js options: last will on `availabilityTopic`, our own reconnection, TLS files read now. */
export async function buildClientOptions(
  options: MqttConnectionOptions,
  availabilityTopic: string,
): Promise<IClientOptions> {
  const { username, password, tls } = options;
  return {
    clientId: options.clientId || defaultClientId(options.baseTopic),
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    keepalive: options.keepaliveS ?? 30,
    clean: true,
    connectTimeout: 10_000,
    // Reconnection with backoff is ours (mqtt.js retries at a fixed period); so are queueing and resubscribing.
    reconnectPeriod: 0,
    queueQoSZero: false,
    resubscribe: false,
    will: { topic: availabilityTopic, payload: Buffer.from('offline'), qos: 1, retain: true },
    ...(tls ? await readTls(tls) : {}),
  };
}

async function readTls(tls: MqttTlsFiles): Promise<Pick<IClientOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized'>> {
  const read = async (field: 'ca' | 'cert' | 'key') => {
    const file = tls[field];
    if (file === '') return {};
    try {
      return { [field]: await readFile(file) };
    } catch (error) {
      throw new AppError(
        'CONFIG_FILE',
        `mqtt.tls.${field}: cannot read ${file} (${errorMessage(error)}); fix the path`,
        {
          cause: error,
        },
      );
    }
  };
  return {
    ...(await read('ca')),
    ...(await read('cert')),
    ...(await read('key')),
    rejectUnauthorized: tls.rejectUnauthorized,
  };
}

/** `<base>_<host>_<pid>` cut to the 23 characters every broker must accept, the pid kept whole. */
export function defaultClientId(baseTopic: string): string {
  const suffix = `_${process.pid.toString(36)}`;
  const prefix = `${baseTopic}_${os.hostname()}`.replace(/[^A-Za-z0-9_-]/g, '_');
  return prefix.slice(0, 23 - suffix.length) + suffix;
}

/** The URL with any password replaced, for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}
