import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { access, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { Redis } from 'ioredis';
import { connect, type IClientOptions } from 'mqtt';
import { OpenAiLlmClient } from '../analysis/llm-client.js';
import type { AnalysisConfig, Config, MqttConfig } from '../config/schema.js';
import { ffmpegAvailable } from '../detection/clip-frames.js';
import type { Logger } from '../lib/logger.js';
import { OnnxModelRuntime } from '../models/model-runtime.js';
import { openStore, storeOptionsFrom } from '../storage/connect.js';
import { lockHolder } from '../storage/dir-lock.js';
import { appliedVersions, type Migration, readMigrations } from '../storage/migrate.js';

/** Everything `hsi doctor` reaches outside the process. Each probe throws (or resolves false) on failure. */
export interface DoctorDeps {
  /** The user HSI runs as, named in fixes about permissions. */
  uid: number | string;
  /** The environment the configuration was loaded from (its `HSI_*` variables are checked for typos). */
  env: NodeJS.ProcessEnv;
  fileExists(file: string): Promise<boolean>;
  /** Creates `dir` when missing, then writes and removes a file in it. */
  writeProbe(dir: string): Promise<void>;
  /** Names of the sub-folders of `dir`, sorted. */
  listDirectories(dir: string): Promise<string[]>;
  fileSha256(file: string): Promise<string>;
  /** Opens the detector as `hsi run` would, then closes it. */
  loadModel(config: Config): Promise<{ provider: string; input: string }>;
  ffmpegAvailable(command: string): Promise<boolean>;
  /** Versions recorded in `hsi_migrations` ([] before the first migration). Throws DB_LOCKED for a busy PGlite. */
  appliedMigrations(config: Config): Promise<number[]>;
  knownMigrations(): Migration[];
  redisPing(url: string): Promise<void>;
  mqttConnect(config: MqttConfig): Promise<void>;
  /** Binds host:port for a moment and lets go (what the embedded broker does at start); throws EADDRINUSE … */
  listenProbe(host: string, port: number): Promise<void>;
  /** The pid of a live HSI holding `data_dir` (its `hsi.pid`), else undefined. */
  runningHsi(dataDir: string): Promise<number | undefined>;
  llmProbe(analysis: AnalysisConfig): Promise<boolean>;
}

const NET_TIMEOUT_MS = 3000;

/** The real probes. `log` receives the detector's and the database's own messages (pass a quiet logger). */
export function defaultDoctorDeps(log: Logger): DoctorDeps {
  return {
    uid: process.getuid?.() ?? 'unknown',
    env: process.env,
    fileExists: (file) =>
      access(file).then(
        () => true,
        () => false,
      ),
    async writeProbe(dir) {
      await mkdir(dir, { recursive: true });
      const file = path.join(dir, `.hsi-doctor-${process.pid}`);
      await writeFile(file, 'ok');
      await rm(file);
    },
    async listDirectories(dir) {
      const entries = await readdir(dir, { withFileTypes: true });
      return entries
        .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
        .map((e) => e.name)
        .sort();
    },
    fileSha256,
    async loadModel(config) {
      const detector = await new OnnxModelRuntime({ config, log }).detector();
      const { provider, inputWidth, inputHeight } = detector.info;
      await detector.close();
      return { provider, input: `${inputWidth}x${inputHeight}` };
    },
    ffmpegAvailable,
    appliedMigrations: (config) => appliedMigrations(config, log),
    knownMigrations: () => readMigrations(),
    redisPing,
    mqttConnect,
    listenProbe,
    runningHsi,
    llmProbe: (a) =>
      new OpenAiLlmClient({
        url: a.url,
        model: a.model,
        apiKey: a.api_key,
        timeoutMs: a.timeout_ms,
        probeTimeoutMs: NET_TIMEOUT_MS,
        log,
      }).probe(),
  };
}

function fileSha256(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('error', reject)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')));
  });
}

async function appliedMigrations(config: Config, log: Logger): Promise<number[]> {
  // A fresh embedded database is created by the first start (which takes a while): checking must not create it.
  const pglite = path.join(config.data_dir, 'pglite');
  const created = existsSync(pglite) && readdirSync(pglite).length > 0;
  if (config.database.url === '' && !created && (await runningHsi(config.data_dir)) === undefined) return [];
  const store = await openStore(storeOptionsFrom(config, log, 1));
  try {
    return await appliedVersions(store.db);
  } finally {
    await store.close();
  }
}

async function redisPing(url: string): Promise<void> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: NET_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // connect() only says "Connection is closed."; the socket's error (ECONNREFUSED, NOAUTH …) comes as an event.
  let cause: unknown;
  redis.on('error', (error: unknown) => {
    cause ??= error;
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw cause ?? error;
  } finally {
    redis.disconnect();
  }
}

async function tlsOptions(
  config: MqttConfig,
): Promise<Pick<IClientOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized'>> {
  const read = async (file: string) => (file === '' ? undefined : await readFile(file));
  const { tls } = config;
  const [ca, cert, key] = await Promise.all([read(tls.ca), read(tls.cert), read(tls.key)]);
  return {
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    rejectUnauthorized: tls.reject_unauthorized,
  };
}

/** Connects with no last will and no retained message, so checking never touches HSI's availability topic. */
async function mqttConnect(config: MqttConfig): Promise<void> {
  const options: IClientOptions = {
    clientId: `hsi-doctor-${process.pid}`,
    ...(config.username ? { username: config.username } : {}),
    ...(config.password ? { password: config.password } : {}),
    connectTimeout: NET_TIMEOUT_MS,
    reconnectPeriod: 0,
    clean: true,
    ...(await tlsOptions(config)),
  };
  const client = connect(config.url, options);
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
      client.once('close', () => reject(new Error('the broker closed the connection before accepting it')));
    });
  } finally {
    client.removeAllListeners();
    client.on('error', () => undefined);
    await client.endAsync(true);
  }
}

function listenProbe(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(port, host, () => server.close(() => resolve()));
  });
}

async function runningHsi(dataDir: string): Promise<number | undefined> {
  // The lock's own test: a pid file whose pid now belongs to another program is a stale lock, not a running HSI.
  return lockHolder(dataDir, 'hsi.pid');
}
