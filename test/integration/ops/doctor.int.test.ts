import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { redactUrl } from '../../../src/config/redact.js';
import type { Config } from '../../../src/config/schema.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { defaultDoctorDeps, runDoctor } from '../../../src/ops/doctor.js';
import { openStore } from '../../../src/storage/connect.js';
import { processStartToken } from '../../../src/storage/dir-lock.js';
import { migrate, readMigrations } from '../../../src/storage/migrate.js';
import { assetsDir, missingAsset, modelPath, services } from '../../support/env.js';
import { FakeLlmServer, unusedLocalUrl } from '../../support/fake-llm.js';
import { serviceDown } from '../../support/services.js';
import { createPostgresDatabase } from '../../support/stores.js';

/** `hsi doctor` with the real probes against the real services: what a user sees when something is wrong. */

let down: string | undefined;
let database: { url: string; drop(): Promise<void> } | undefined;
let llm: FakeLlmServer;
let dir: string;

beforeAll(async () => {
  down =
    missingAsset(modelPath('yolox_nano.onnx')) ??
    (await serviceDown('PostgreSQL', services.postgresUrl, 5432)) ??
    (await serviceDown('Redis', services.redisUrl, 6379)) ??
    (await serviceDown('MQTT broker', services.mqttUrl, 1883));
  if (down !== undefined) return;
  database = await createPostgresDatabase({ fromTemplate: true });
  const store = await openStore({ url: database.url, dataDir: os.tmpdir(), poolSize: 1, log: silentLogger() });
  await migrate(store, silentLogger());
  await store.close();
  llm = await FakeLlmServer.start();
});

afterAll(async () => {
  await database?.drop();
  await llm?.close();
});

beforeEach((ctx) => {
  if (down !== undefined) ctx.skip(down);
  dir = mkdtempSync(path.join(os.tmpdir(), 'hsi-doctor-'));
  mkdirSync(path.join(dir, 'media', 'Front Door'), { recursive: true });
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A configuration where everything works; `env` changes one thing. */
function config(env: Record<string, string> = {}): Config {
  return loadConfig({
    cwd: dir,
    optionsFile: path.join(dir, 'no-options.json'),
    env: {
      HSI_ASSETS_DIR: assetsDir(),
      HSI_DATA_DIR: path.join(dir, 'data'),
      HSI_MEDIA_ROOT: path.join(dir, 'media'),
      HSI_DATABASE_URL: database?.url ?? '',
      HSI_REDIS_URL: services.redisUrl,
      HSI_MQTT_URL: services.mqttUrl,
      HSI_ANALYSIS_PROVIDER: 'openai',
      HSI_ANALYSIS_URL: llm.url,
      HSI_ANALYSIS_MODEL: 'test-model',
      HSI_DETECTOR_DEVICE: 'cpu',
      ...env,
    },
  }).config;
}

async function doctor(cfg: Config): Promise<{ code: number; lines: string[] }> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  const code = await runDoctor(cfg, defaultDoctorDeps(silentLogger()), out);
  return { code, lines: text.trimEnd().split('\n') };
}

/** The check's line and its fix line (when it has one). */
function report(lines: string[], name: string): string[] {
  const at = lines.findIndex((line) => line.slice(6).startsWith(`${name} `));
  const next = lines[at + 1];
  return next?.trimStart().startsWith('fix: ') ? [lines[at] ?? '', next.trim()] : [lines[at] ?? ''];
}

describe('hsi doctor', () => {
  it('passes every check on a working installation', async () => {
    const { code, lines } = await doctor(config());
    expect(lines.filter((line) => !line.startsWith('ok '))).toStrictEqual(['', 'all good (10 ok, 0 skipped)']);
    expect(report(lines, 'model load')).toStrictEqual([
      'ok    model load     yolox model loads on cpu (input 416x416)',
    ]);
    expect(report(lines, 'media_root')[0]).toContain('(1 camera folder: Front Door)');
    expect(report(lines, 'llm')[0]).toBe(`ok    llm            ${llm.url}/v1/models answers`);
    expect(code).toBe(0);
  });

  it('reports a stopped Redis with its address and what to do', async () => {
    const url = (await unusedLocalUrl()).replace('http://', 'redis://');
    const { code, lines } = await doctor(config({ HSI_REDIS_URL: url }));
    expect(code).toBe(1);
    const [line, fix] = report(lines, 'redis');
    expect(line).toMatch(new RegExp(`^FAIL  redis +${url}: .*ECONNREFUSED`));
    expect(fix).toBe("fix: start Redis, or fix redis.url ('' runs the in-process queue)");
    expect(lines.at(-1)).toBe('1 check failed (9 ok, 0 skipped)');
  });

  it('reports a database that does not exist', async () => {
    const url = new URL(database?.url ?? '');
    url.pathname = '/hsi_doctor_missing_db';
    const { code, lines } = await doctor(config({ HSI_DATABASE_URL: url.toString() }));
    expect(code).toBe(1);
    expect(report(lines, 'database')).toStrictEqual([
      `FAIL  database       ${url.toString()}: database "hsi_doctor_missing_db" does not exist`,
      'fix: create the database (CREATE DATABASE "hsi_doctor_missing_db") or fix database.url',
    ]);
  });

  it('reports a missing model file and skips loading it', async () => {
    const missing = path.join(dir, 'models', 'yolox_nano.onnx');
    const { code, lines } = await doctor(config({ HSI_ASSETS_DIR: dir }));
    expect(code).toBe(1);
    expect(report(lines, 'model file')).toStrictEqual([
      `FAIL  model file     ${missing} cannot be read (ENOENT)`,
      `fix: download https://github.com/Megvii-BaseDetection/YOLOX/releases/download/0.1.1rc0/yolox_nano.onnx into ${path.dirname(missing)}/, or set HSI_ASSETS_DIR / detector.model`,
    ]);
    expect(report(lines, 'model load')).toStrictEqual(['skip  model load     the model file check failed']);
  });

  it('reports an unreachable broker, and skips the embedded database while a running HSI holds it', async () => {
    // A process that looks like HSI to the pid lock: node with dist/cli.js on its command line, its start time in
    // the pid file (a pid file naming an unrelated program, e.g. `sleep`, is a stale lock: test/integration/storage).
    const holder: ChildProcess = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30_000)', 'dist/cli.js']);
    try {
      await new Promise((resolve) => holder.once('spawn', resolve));
      mkdirSync(path.join(dir, 'data'), { recursive: true });
      const token = processStartToken(holder.pid!);
      writeFileSync(
        path.join(dir, 'data', 'hsi.pid'),
        token === undefined ? String(holder.pid) : `${holder.pid}\n${token}\n`,
      );
      const broker = (await unusedLocalUrl()).replace('http://', 'mqtt://');
      const { code, lines } = await doctor(config({ HSI_DATABASE_URL: '', HSI_MQTT_URL: broker }));
      expect(code).toBe(1);
      expect(report(lines, 'database')).toStrictEqual([
        `skip  database       embedded PGlite in ${path.join(dir, 'data', 'pglite')} is in use by a running HSI (pid ${holder.pid}); stop it to check the database`,
      ]);
      const [line, fix] = report(lines, 'mqtt');
      expect(line).toMatch(new RegExp(`^FAIL  mqtt +${broker}: .*ECONNREFUSED`));
      expect(fix).toBe("fix: start the broker, or fix mqtt.url ('' starts the embedded broker)");
    } finally {
      holder.kill();
    }
  });

  it('fails while another program holds the embedded broker port, as `hsi run` would exit there', async () => {
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', () => resolve()));
    const port = (squatter.address() as net.AddressInfo).port;
    try {
      const { code, lines } = await doctor(config({ HSI_MQTT_URL: '', HSI_MQTT_EMBEDDED_PORT: String(port) }));
      expect(code).toBe(1);
      expect(report(lines, 'mqtt')).toStrictEqual([
        `FAIL  mqtt           embedded broker: 127.0.0.1:${port} is in use by another program (another MQTT broker, e.g. Mosquitto?): \`hsi run\` would exit at start`,
        `fix: to use that broker set mqtt.url (HSI_MQTT_URL=mqtt://127.0.0.1:${port}), else move HSI's own with mqtt.embedded.port (HSI_MQTT_EMBEDDED_PORT)`,
      ]);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
    const { lines } = await doctor(config({ HSI_MQTT_URL: '', HSI_MQTT_EMBEDDED_PORT: String(port) }));
    expect(report(lines, 'mqtt')).toStrictEqual([
      `ok    mqtt           embedded broker: 127.0.0.1:${port} is free (no mqtt.url: HSI starts its own broker there)`,
    ]);
  });

  it('passes a fresh database, saying how many migrations start-up applies', async () => {
    const fresh = await createPostgresDatabase();
    try {
      const known = readMigrations().length;
      const { code, lines } = await doctor(config({ HSI_DATABASE_URL: fresh.url }));
      expect(report(lines, 'database')).toStrictEqual([
        `ok    database       ${redactUrl(fresh.url)}: new, ${known} migrations pending: HSI applies them when it starts`,
      ]);
      expect(code).toBe(0);
    } finally {
      await fresh.drop();
    }
    // The embedded database before the first start: reported the same way, and not created by checking.
    const { code, lines } = await doctor(config({ HSI_DATABASE_URL: '' }));
    expect(report(lines, 'database')[0]).toMatch(
      /^ok {4}database {7}embedded PGlite in .*: new, \d+ migrations pending/,
    );
    expect(existsSync(path.join(dir, 'data', 'pglite'))).toBe(false);
    expect(code).toBe(0);
  });
});
