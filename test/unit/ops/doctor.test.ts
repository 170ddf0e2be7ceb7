import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import type { Config } from '../../../src/config/schema.js';
import { schemaDefaults } from '../../../src/config/walk.js';
import { AppError } from '../../../src/lib/errors.js';
import { type DoctorDeps, KNOWN_MODEL_SHA256, runDoctor } from '../../../src/ops/doctor.js';

/** The doctor's report with fake probes: exact lines, exit status, and what each failure tells the user to do. */

function baseConfig(): Config {
  const config = schemaDefaults();
  config.data_dir = '/srv/hsi/data';
  config.media_root = '/srv/hsi/media';
  config.assets_dir = '/app/assets';
  config.detector.model = '/app/assets/models/yolox_nano.onnx';
  return config;
}

function fakeDeps(overrides: Partial<DoctorDeps> = {}): DoctorDeps {
  return {
    uid: 10001,
    env: { PATH: '/bin', HSI_CONFIG: '/config/hsi.yaml', HSI_MQTT_URL: 'mqtt://broker:1883' },
    fileExists: async () => true,
    writeProbe: async () => undefined,
    listDirectories: async () => ['Back Yard', 'Front Door'],
    fileSha256: async () => KNOWN_MODEL_SHA256['yolox_nano.onnx'] ?? '',
    loadModel: async () => ({ provider: 'cpu', input: '416x416' }),
    ffmpegAvailable: async () => true,
    appliedMigrations: async () => [1, 2],
    knownMigrations: () => [
      { version: 1, name: 'init', sql: '' },
      { version: 2, name: 'events', sql: '' },
    ],
    redisPing: async () => undefined,
    mqttConnect: async () => undefined,
    listenProbe: async () => undefined,
    runningHsi: async () => undefined,
    llmProbe: async () => true,
    ...overrides,
  };
}

async function doctor(config: Config | Error, deps: DoctorDeps): Promise<{ code: number; lines: string[] }> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  const code = await runDoctor(config, deps, out);
  return { code, lines: text.trimEnd().split('\n') };
}

describe('runDoctor', () => {
  it('prints one line per check and exits 0 when nothing fails', async () => {
    const config = baseConfig();
    config.redis.url = 'redis://:pw@cache:6379';
    config.mqtt.url = 'mqtt://core-mosquitto:1883';
    const { code, lines } = await doctor(config, fakeDeps());
    expect(lines).toStrictEqual([
      'ok    configuration  valid',
      'ok    data_dir       /srv/hsi/data is writable',
      'ok    media_root     /srv/hsi/media (2 camera folders: Back Yard, Front Door)',
      'ok    model file     /app/assets/models/yolox_nano.onnx (sha256 e8af074932d4…, matches the published model)',
      'ok    model load     yolox model loads on cpu (input 416x416)',
      "ok    ffmpeg         'ffmpeg -version' runs",
      'ok    database       embedded PGlite in /srv/hsi/data/pglite (2 of 2 migrations applied)',
      'ok    redis          redis://:[redacted]@cache:6379 answers PING',
      'ok    mqtt           mqtt://core-mosquitto:1883 accepts the connection',
      'skip  llm            analysis.provider is rules: the built-in rules score events',
      '',
      'all good (9 ok, 1 skipped)',
    ]);
    expect(code).toBe(0);
  });

  it('with identity on, checks its model files and says where they go when one is missing', async () => {
    const config = baseConfig();
    config.identity.enabled = true;
    config.identity.reid_model = '/models/person-reidentification-retail-0248.onnx';
    config.identity.faces.detector_model = '/models/version-RFB-320.onnx';
    config.identity.faces.embedding_model = '/models/MobileFaceNet.onnx';
    const missing = Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    const fileSha256 = async (file: string) => {
      if (file.endsWith('MobileFaceNet.onnx')) throw missing;
      return KNOWN_MODEL_SHA256['yolox_nano.onnx'] ?? '';
    };
    const { code, lines } = await doctor(config, fakeDeps({ fileSha256 }));
    expect(lines).toContain(
      'FAIL  identity       identity.faces.embedding_model: /models/MobileFaceNet.onnx cannot be read (ENOENT)',
    );
    expect(code).toBe(1);
    config.identity.faces.enabled = false;
    const { lines: noFaces } = await doctor(config, fakeDeps({ fileSha256 }));
    expect(noFaces).toContain('ok    identity       person-reidentification-retail-0248.onnx');
  });

  it('says what to fix for each failure and exits 1', async () => {
    const config = baseConfig();
    config.analysis = { ...config.analysis, provider: 'openai', url: 'http://llm:8080', model: 'm' };
    const denied = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    const { code, lines } = await doctor(
      config,
      fakeDeps({
        writeProbe: async () => Promise.reject(denied),
        listDirectories: async () => Promise.reject(Object.assign(new Error('gone'), { code: 'ENOENT' })),
        fileSha256: async () => 'f'.repeat(64),
        ffmpegAvailable: async () => false,
        appliedMigrations: async () => [1],
        llmProbe: async () => false,
      }),
    );
    expect(code).toBe(1);
    expect(lines).toStrictEqual([
      'ok    configuration  valid',
      'FAIL  data_dir       /srv/hsi/data is not writable (EACCES)',
      '                     fix: make /srv/hsi/data writable by the user HSI runs as (uid 10001), or set data_dir (HSI_DATA_DIR)',
      'FAIL  media_root     /srv/hsi/media does not exist',
      "                     fix: create it and point the cameras' FTP uploads at /srv/hsi/media/<Camera Name>/, or set media_root",
      `FAIL  model file     /app/assets/models/yolox_nano.onnx has sha256 ${'f'.repeat(64)}, not the published ${KNOWN_MODEL_SHA256['yolox_nano.onnx']} (corrupt or partial download)`,
      '                     fix: download https://github.com/Megvii-BaseDetection/YOLOX/releases/download/0.1.1rc0/yolox_nano.onnx into /app/assets/models/',
      'skip  model load     the model file check failed',
      "FAIL  ffmpeg         'ffmpeg -version' does not run",
      '                     fix: install ffmpeg (apt-get install ffmpeg) or set ingest.ffmpeg_path; only video clips need it',
      'WARN  database       embedded PGlite in /srv/hsi/data/pglite: 1 of 2 migrations pending (0002_events): HSI applies them when it starts',
      '                     fix: nothing to do; `hsi migrate` applies them now, before a start',
      'skip  redis          not configured: the in-process queue is used (one process)',
      'ok    mqtt           embedded broker: 127.0.0.1:1883 is free (no mqtt.url: HSI starts its own broker there)',
      'FAIL  llm            no answer from http://llm:8080/v1/models',
      '                     fix: start the LLM server, or fix analysis.url / analysis.api_key; meanwhile the rules score events',
      '',
      '5 checks failed (2 ok, 1 warning, 2 skipped)',
    ]);
  });

  it('passes a new database whose migrations start-up applies, and says how many', async () => {
    const { code, lines } = await doctor(baseConfig(), fakeDeps({ appliedMigrations: async () => [] }));
    expect(lines).toContain(
      'ok    database       embedded PGlite in /srv/hsi/data/pglite: new, 2 migrations pending: HSI applies them when it starts',
    );
    expect(lines.at(-1)).toBe('all good (8 ok, 2 skipped)');
    expect(code).toBe(0);
  });

  it('warns without failing when some migrations are pending', async () => {
    const { code, lines } = await doctor(baseConfig(), fakeDeps({ appliedMigrations: async () => [1] }));
    expect(lines.at(-1)).toBe('no failures (7 ok, 1 warning, 2 skipped)');
    expect(code).toBe(0);
  });

  it('fails when another program holds the embedded broker port', async () => {
    const inUse = Object.assign(new Error('listen EADDRINUSE: address already in use 127.0.0.1:1883'), {
      code: 'EADDRINUSE',
    });
    const { code, lines } = await doctor(baseConfig(), fakeDeps({ listenProbe: async () => Promise.reject(inUse) }));
    expect(code).toBe(1);
    const at = lines.findIndex((l) => l.startsWith('FAIL  mqtt'));
    expect(lines.slice(at, at + 2)).toStrictEqual([
      'FAIL  mqtt           embedded broker: 127.0.0.1:1883 is in use by another program (another MQTT broker, e.g. Mosquitto?): `hsi run` would exit at start',
      "                     fix: to use that broker set mqtt.url (HSI_MQTT_URL=mqtt://127.0.0.1:1883), else move HSI's own with mqtt.embedded.port (HSI_MQTT_EMBEDDED_PORT)",
    ]);
    expect(lines.at(-1)).toBe('1 check failed (7 ok, 2 skipped)');
  });

  it('skips the embedded broker port held by the running HSI', async () => {
    const inUse = Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' });
    const { lines } = await doctor(
      baseConfig(),
      fakeDeps({ listenProbe: async () => Promise.reject(inUse), runningHsi: async () => 4242 }),
    );
    expect(lines).toContain(
      'skip  mqtt           embedded broker: 127.0.0.1:1883 is in use, by the running HSI (pid 4242) it seems',
    );
  });

  it('skips the database while a running HSI holds the embedded one', async () => {
    const locked = new AppError(
      'DB_LOCKED',
      'the embedded database in /srv/hsi/data is in use by another HSI process (pid 4242); stop it first',
    );
    const { lines } = await doctor(baseConfig(), fakeDeps({ appliedMigrations: async () => Promise.reject(locked) }));
    expect(lines).toContain(
      'skip  database       embedded PGlite in /srv/hsi/data/pglite is in use by a running HSI (pid 4242); stop it to check the database',
    );
  });

  it('reports cross-field problems and missing files of the configuration', async () => {
    const config = baseConfig();
    config.analysis.provider = 'openai';
    config.detector.labels = '/etc/hsi/labels.txt';
    const { code, lines } = await doctor(
      config,
      fakeDeps({ fileExists: async (file) => file !== '/etc/hsi/labels.txt' }),
    );
    expect(code).toBe(1);
    expect(lines.slice(0, 2)).toStrictEqual([
      'FAIL  configuration  analysis.provider is openai but analysis.url or analysis.model is empty; detector.labels: /etc/hsi/labels.txt does not exist',
      '                     fix: fix these keys (docs/CONFIGURATION.md)',
    ]);
    expect(lines).toContain('skip  llm            analysis.url is empty (see the configuration line)');
  });

  it('prints an invalid configuration as the only check', async () => {
    const error = new AppError(
      'CONFIG_INVALID',
      'Invalid configuration (1 error): detector.confidence (from HSI_DETECTOR_CONFIDENCE): must be <= 1',
    );
    const { code, lines } = await doctor(error, fakeDeps());
    expect(code).toBe(1);
    expect(lines).toStrictEqual([
      'FAIL  configuration  Invalid configuration (1 error): detector.confidence (from HSI_DETECTOR_CONFIDENCE): must be <= 1',
      '                     fix: fix the keys listed above (docs/CONFIGURATION.md); no other check ran',
      '',
      '1 check failed (0 ok, 0 skipped)',
    ]);
  });

  it('warns about HSI_* variables HSI does not read, naming the closest one, without failing', async () => {
    const env = { HSI_MQT_URL: 'mqtt://broker:1883', HSI_DETECTOR_THREADZ: '4', HSI_TEST_DATABASE_URL: 'x' };
    const { code, lines } = await doctor(baseConfig(), fakeDeps({ env }));
    expect(lines.slice(-6)).toStrictEqual([
      'WARN  environment    HSI_DETECTOR_THREADZ is not an HSI variable and is ignored (did you mean HSI_DETECTOR_THREADS?)',
      '                     fix: rename or remove it (docs/CONFIGURATION.md lists every variable)',
      'WARN  environment    HSI_MQT_URL is not an HSI variable and is ignored (did you mean HSI_MQTT_URL?)',
      '                     fix: rename or remove it (docs/CONFIGURATION.md lists every variable)',
      '',
      'no failures (8 ok, 2 warnings, 2 skipped)',
    ]);
    expect(code).toBe(0);
    // With an invalid configuration too: the typo may be why it is invalid.
    const error = new AppError('CONFIG_INVALID', 'Invalid configuration (1 error): http.host ...');
    const invalid = await doctor(error, fakeDeps({ env: { HSI_HTTP_API_KY: 'secret' } }));
    expect(invalid.lines).toContain(
      'WARN  environment    HSI_HTTP_API_KY is not an HSI variable and is ignored (did you mean HSI_HTTP_API_KEY?)',
    );
    expect(invalid.code).toBe(1);
  });

  it('fails a check that does not answer in time', async () => {
    vi.useFakeTimers();
    try {
      const config = baseConfig();
      config.redis.url = 'redis://cache.invalid:6379';
      const pending = doctor(config, fakeDeps({ redisPing: () => new Promise(() => undefined) }));
      await vi.advanceTimersByTimeAsync(10_000);
      const { lines } = await pending;
      expect(lines).toContain('FAIL  redis          no answer within 10 s');
    } finally {
      vi.useRealTimers();
    }
  });
});
