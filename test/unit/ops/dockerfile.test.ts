// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are Dockerfile text, where ${NAME} is a build argument.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { DEFAULT_MODEL_FILES } from '../../../src/config/schema.js';
import { AppError } from '../../../src/lib/errors.js';
import { DEFAULT_MODEL_URL, KNOWN_MODEL_SHA256 } from '../../../src/ops/doctor.js';
import { missingAsset, modelPath } from '../../support/env.js';

/** The Dockerfiles, read as text: there is no Docker engine here, so what the image runs is tested elsewhere. */

const root = path.resolve(import.meta.dirname, '..', '..', '..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

interface Instruction {
  keyword: string;
  args: string;
  stage: string;
}

/** Instructions in order, continuation lines joined, each with the stage it belongs to ('' before any FROM). */
function instructions(text: string): Instruction[] {
  const joined = text.replace(/\\\n/g, ' ');
  const out: Instruction[] = [];
  let stage = '';
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const keyword = line.split(/\s/, 1)[0] ?? '';
    // Spacing inside arguments is kept: `sha256sum -c` needs its two spaces.
    const args = line.slice(keyword.length).trim();
    if (keyword.toUpperCase() === 'FROM') stage = /\bAS\s+(\S+)/i.exec(args)?.[1] ?? args;
    out.push({ keyword: keyword.toUpperCase(), args, stage });
  }
  return out;
}

const dockerfile = instructions(read('Dockerfile'));
const inStage = (stage: string, keyword?: string) =>
  dockerfile.filter((i) => i.stage === stage && (keyword === undefined || i.keyword === keyword)).map((i) => i.args);
const pkg = JSON.parse(read('package.json')) as { bin: Record<string, string> };

describe('Dockerfile', () => {
  it('has the build, deps, model and runtime stages, the runtime chosen by VARIANT (default cpu)', () => {
    expect(dockerfile.filter((i) => i.keyword === 'FROM').map((i) => i.args)).toStrictEqual([
      '${NODE_IMAGE} AS build',
      '${NODE_IMAGE} AS deps',
      'debian:bookworm-slim AS model',
      'python:3.12-slim-bookworm AS cuda-libs',
      '${NODE_IMAGE} AS runtime-base',
      'runtime-base AS runtime-cpu',
      'runtime-base AS runtime-cuda',
      'runtime-${VARIANT} AS runtime',
    ]);
    expect(inStage('', 'ARG')).toStrictEqual(['NODE_IMAGE=node:22-bookworm-slim', 'VARIANT=cpu']);
  });

  it('compiles with the dev dependencies and installs only production ones, onnxruntime per variant', () => {
    expect(inStage('build', 'RUN')).toStrictEqual([
      'ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund',
      // the server and the web UI (web/, an npm workspace) in one build; the image serves web/dist
      'npm run build && test -f web/dist/index.html',
    ]);
    const deps = inStage('deps', 'RUN').join('\n');
    expect(deps).toContain('ONNXRUNTIME_NODE_INSTALL=skip npm ci --omit=dev');
    expect(deps).toContain(
      '(cd node_modules/onnxruntime-node && ONNXRUNTIME_NODE_INSTALL=cuda12 node script/install.js)',
    );
    expect(existsSync(path.join(root, 'node_modules/onnxruntime-node/script/install.js'))).toBe(true);
    // The file onnxruntime-node's cuda12 install adds, beside the binding it ships (same folder here).
    expect(deps).toContain('node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so');
    const binding = path.join(root, 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node');
    if (process.platform === 'linux' && process.arch === 'x64') expect(existsSync(binding)).toBe(true);
  });

  it('downloads the default model with curl and checks its published sha256', () => {
    const sha = KNOWN_MODEL_SHA256[DEFAULT_MODEL_FILES.yolox];
    expect(sha).toBe('e8af074932d4ed7e232278e3055cefcdea3edf178874a3694ae292649fb464dd');
    expect(inStage('model', 'ARG')).toStrictEqual([`MODEL_URL=${DEFAULT_MODEL_URL}`, `MODEL_SHA256=${sha}`]);
    const run = inStage('model', 'RUN').join('\n');
    expect(run).toContain('curl -fsSL --retry 5 --retry-delay 2 -o /assets/models/yolox_nano.onnx "${MODEL_URL}"');
    expect(run).toContain('echo "${MODEL_SHA256}  /assets/models/yolox_nano.onnx" | sha256sum -c -');
    expect(inStage('runtime', 'COPY')).toContain('--from=model /assets ./assets');
  });

  it('pins the same sha256 as the shared copy of the model', (ctx) => {
    const file = modelPath(DEFAULT_MODEL_FILES.yolox);
    const missing = missingAsset(file);
    if (missing !== undefined) ctx.skip(missing);
    const sha = createHash('sha256').update(readFileSync(file)).digest('hex');
    expect(sha).toBe(KNOWN_MODEL_SHA256[DEFAULT_MODEL_FILES.yolox]);
  });

  it('runs dist/cli.js as the non-root user hsi under tini, with ffmpeg, the assets and the migrations', () => {
    expect(inStage('runtime-base', 'RUN').join('\n')).toMatch(/apt-get install .*ffmpeg libjemalloc2 tini tzdata/);
    expect(inStage('runtime', 'WORKDIR')).toStrictEqual(['/app']);
    expect(inStage('runtime', 'ENV').join(' ')).toContain('HSI_ASSETS_DIR=/app/assets');
    expect(inStage('runtime', 'COPY')).toStrictEqual([
      '--from=deps /app/node_modules ./node_modules',
      'package.json ./',
      'migrations ./migrations',
      '--from=build /src/dist ./dist',
      '--from=build /src/web/dist ./web/dist',
      '--from=model /assets ./assets',
      'docker/hsi.yaml ./config.yaml',
    ]);
    expect(inStage('runtime', 'USER')).toStrictEqual(['hsi']);
    expect(inStage('runtime', 'EXPOSE')).toStrictEqual(['8099 1883 2121 30000-30009']);
    expect(inStage('runtime', 'ENTRYPOINT')).toStrictEqual(['["/usr/bin/tini", "--"]']);
    expect(inStage('runtime', 'CMD')).toStrictEqual(['["node", "dist/cli.js", "run"]']);
    // The `hsi` binary is the launcher; the image ships no src/, so it runs dist/cli.js there, as CMD does.
    expect(Object.values(pkg.bin)).toStrictEqual(['bin/hsi.mjs']);
    expect(read('bin/hsi.mjs')).toContain("new URL('../dist/cli.js', import.meta.url)");
    const destinations = inStage('runtime', 'COPY').map((line) => line.split(/\s+/).at(-1));
    expect(destinations.filter((d) => /^(\.\/|\/app\/)?src\b/.test(d ?? ''))).toStrictEqual([]);
    expect(existsSync(path.join(root, 'src', 'cli.ts'))).toBe(true);
  });

  it('preloads jemalloc from the path the runtime stage links for every architecture', () => {
    const [run = ''] = inStage('runtime-base', 'RUN');
    const link = /ln -s "\/usr\/lib\/\$\(uname -m\)-linux-gnu\/libjemalloc\.so\.2" (\S+)/.exec(run)?.[1];
    expect(link).toBe('/usr/local/lib/libjemalloc.so.2');
    expect(inStage('runtime', 'ENV').join(' ')).toContain(`LD_PRELOAD=${link}`);
  });

  it('checks health on /api/health/live, a route the HTTP API serves', () => {
    const [healthcheck = ''] = inStage('runtime', 'HEALTHCHECK');
    expect(healthcheck).toContain(
      "fetch('http://127.0.0.1:' + (process.env.HSI_HTTP_PORT || 8099) + '/api/health/live')",
    );
    const routes = path.join(root, 'src', 'api', 'routes');
    if (existsSync(routes)) {
      const sources = readdirSync(routes).map((file) => readFileSync(path.join(routes, file), 'utf8'));
      expect(sources.some((source) => source.includes("'/api/health/live'"))).toBe(true);
    }
  });

  it('ignores what the build does not read', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.git', 'test', 'data', 'media']));
    for (const needed of ['src', 'migrations', 'docker', 'package.json', 'package-lock.json', 'tsconfig.json']) {
      expect(ignored).not.toContain(needed);
    }
  });
});

describe('docker/hsi.yaml (the image defaults, /app/config.yaml)', () => {
  const load = (env: NodeJS.ProcessEnv) =>
    loadConfig({
      configFile: path.join(root, 'docker', 'hsi.yaml'),
      env: { HSI_ASSETS_DIR: '/app/assets', ...env },
      cwd: '/app',
      optionsFile: path.join(root, 'no-options.json'),
    });
  const CREDENTIALS = {
    HSI_HTTP_API_KEY: 'k3y-of-the-house',
    HSI_MQTT_EMBEDDED_USERNAME: 'homeassistant',
    HSI_MQTT_EMBEDDED_PASSWORD: 'br0ker-secret',
  };

  it('refuses to start with the API and the broker open on all interfaces, saying how to fix each', () => {
    let error: unknown;
    try {
      load({});
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(AppError);
    const { code, message } = error as AppError;
    expect(code).toBe('CONFIG_INVALID');
    const file = path.join(root, 'docker', 'hsi.yaml');
    expect(message).toContain(`http.host (from ${file}): the HTTP API listens on 0.0.0.0`);
    expect(message).toContain('Set http.api_key (HSI_HTTP_API_KEY), or bind http.host to 127.0.0.1');
    expect(message).toContain(`mqtt.embedded.host (from ${file}): the embedded MQTT broker listens on 0.0.0.0`);
    expect(message).toContain('(HSI_MQTT_EMBEDDED_USERNAME, HSI_MQTT_EMBEDDED_PASSWORD)');
    // One missing half of the broker credentials is still open.
    const { HSI_MQTT_EMBEDDED_PASSWORD: _, ...noPassword } = CREDENTIALS;
    expect(() => load(noPassword)).toThrow(/mqtt\.embedded\.host .*without credentials/);
    expect(() => load(noPassword)).not.toThrow(/http\.host/);
  });

  it('is a valid configuration with the volumes and listen addresses of the image once credentials are set', () => {
    const { config } = load(CREDENTIALS);
    expect([config.data_dir, config.media_root]).toStrictEqual(['/data', '/media']);
    expect(config.http.host).toBe('0.0.0.0');
    expect(config.http.api_key).toBe('k3y-of-the-house');
    expect(config.mqtt.embedded).toMatchObject({ host: '0.0.0.0', username: 'homeassistant' });
    expect(config.detector.model).toBe('/app/assets/models/yolox_nano.onnx');
  });

  it('loads with an outside broker (no embedded one) and an API key, as docs/DOCKER.md runs it', () => {
    const { config } = load({ HSI_HTTP_API_KEY: 'k3y', HSI_MQTT_URL: 'mqtt://192.168.1.10:1883' });
    expect(config.mqtt.url).toBe('mqtt://192.168.1.10:1883');
  });
});

describe('ha-addon/Dockerfile', () => {
  it('adds the entry script to the HSI image and runs it as root under tini', () => {
    const addon = instructions(read('ha-addon/Dockerfile'));
    const args = (keyword: string) => addon.filter((i) => i.keyword === keyword).map((i) => i.args);
    expect(args('FROM')).toStrictEqual(['${BUILD_FROM}']);
    expect(args('USER')).toStrictEqual(['root']);
    expect(args('COPY')).toStrictEqual(['rootfs /']);
    expect(args('ENTRYPOINT')).toStrictEqual(['["/usr/bin/tini", "--", "/run.sh"]']);
    expect(existsSync(path.join(root, 'ha-addon', 'rootfs', 'run.sh'))).toBe(true);
  });
});
