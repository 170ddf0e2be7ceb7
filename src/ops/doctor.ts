import path from 'node:path';
import { unknownEnvWarnings } from '../config/env.js';
import { type Config, DEFAULT_MODEL_FILES } from '../config/schema.js';
import { errorMessage } from '../lib/errors.js';
import type { DoctorDeps } from './doctor-probes.js';
import { type CheckResult, type CheckStatus, fail, ok, skip, warn } from './doctor-result.js';
import { databaseCheck, llmCheck, mqttCheck, redisCheck } from './doctor-services.js';

export { type DoctorDeps, defaultDoctorDeps } from './doctor-probes.js';
export type { CheckResult, CheckStatus } from './doctor-result.js';

/**
 * `hsi doctor`: checks that the configuration, folders, model, ffmpeg and every configured backend work, printing
 * one line per check (`ok`, `WARN` or `FAIL` with what to do, or `skip` with why) and returning exit status 1 when
 * any check failed (a warning does not). Everything outside the process is reached through `DoctorDeps`, so tests can pass fakes.
 */

export interface DoctorCheck {
  name: string;
  /** Longest wait before the check counts as failed. */
  timeoutMs: number;
  run(): Promise<CheckResult>;
}

/** Published sha256 of the bundled default models (`<assets_dir>/models/<file>`). */
export const KNOWN_MODEL_SHA256: Readonly<Record<string, string>> = {
  'yolox_nano.onnx': 'e8af074932d4ed7e232278e3055cefcdea3edf178874a3694ae292649fb464dd',
  'picodet_s_416_coco.onnx': 'cdab77bdde16e4f76bec734c4e5791801d1739e4c7ec1995e0e110e04300d0c2',
};
export const DEFAULT_MODEL_URL =
  'https://github.com/Megvii-BaseDetection/YOLOX/releases/download/0.1.1rc0/yolox_nano.onnx';

const SECOND = 1000;

/** Runs every check in order, prints the report on `out`, returns 0 when nothing failed, else 1. */
export async function runDoctor(config: Config | Error, deps: DoctorDeps, out: NodeJS.WritableStream): Promise<number> {
  const checks = [
    ...(config instanceof Error ? [configErrorCheck(config)] : doctorChecks(config, deps)),
    ...environmentChecks(deps.env),
  ];
  const width = Math.max(...checks.map((c) => c.name.length));
  const counts: Record<CheckStatus, number> = { ok: 0, warn: 0, fail: 0, skip: 0 };
  for (const check of checks) {
    const result = await runCheck(check);
    counts[result.status] += 1;
    const label = result.status === 'fail' || result.status === 'warn' ? result.status.toUpperCase() : result.status;
    out.write(`${label.padEnd(5)} ${check.name.padEnd(width)}  ${result.detail}\n`);
    if (result.fix !== undefined) out.write(`${' '.repeat(width + 8)}fix: ${result.fix}\n`);
  }
  const failed = counts.fail === 1 ? '1 check failed' : `${counts.fail} checks failed`;
  const verdict = counts.fail > 0 ? failed : counts.warn > 0 ? 'no failures' : 'all good';
  const warnings = counts.warn === 0 ? '' : `, ${counts.warn} warning${counts.warn === 1 ? '' : 's'}`;
  out.write(`\n${verdict} (${counts.ok} ok${warnings}, ${counts.skip} skipped)\n`);
  return counts.fail === 0 ? 0 : 1;
}

async function runCheck(check: DoctorCheck): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(
      () =>
        resolve(
          fail(
            `no answer within ${check.timeoutMs / SECOND} s`,
            'see the other lines; retry once the host is less busy',
          ),
        ),
      check.timeoutMs,
    );
  });
  try {
    return await Promise.race([check.run(), timeout]);
  } catch (error) {
    return fail(`unexpected error: ${errorMessage(error)}`, 'report this with the line above');
  } finally {
    clearTimeout(timer);
  }
}

function configErrorCheck(error: Error): DoctorCheck {
  return {
    name: 'configuration',
    timeoutMs: SECOND,
    run: async () => fail(error.message, 'fix the keys listed above (docs/CONFIGURATION.md); no other check ran'),
  };
}

/** A WARN line for each `HSI_*` variable HSI does not read (a typo that would silently change nothing). */
function environmentChecks(env: NodeJS.ProcessEnv): DoctorCheck[] {
  return unknownEnvWarnings(env).map((message) => ({
    name: 'environment',
    timeoutMs: SECOND,
    run: async () => warn(message, 'rename or remove it (docs/CONFIGURATION.md lists every variable)'),
  }));
}

/** The checks for a loaded configuration, in the order they are printed. */
export function doctorChecks(config: Config, deps: DoctorDeps): DoctorCheck[] {
  const check = (name: string, timeoutMs: number, run: () => Promise<CheckResult>): DoctorCheck => ({
    name,
    timeoutMs,
    run,
  });
  let modelFileOk = false;
  return [
    check('configuration', 5 * SECOND, () => configurationCheck(config, deps)),
    check('data_dir', 10 * SECOND, () => dataDirCheck(config.data_dir, deps)),
    check('media_root', 10 * SECOND, () => mediaRootCheck(config.media_root, deps)),
    check('model file', 30 * SECOND, async () => {
      const result = await modelFileCheck(config, deps);
      modelFileOk = result.status === 'ok';
      return result;
    }),
    check('model load', 120 * SECOND, async () => {
      if (!modelFileOk) return skip('the model file check failed');
      return modelLoadCheck(config, deps);
    }),
    ...(config.identity.enabled ? [check('identity', 30 * SECOND, () => identityModelsCheck(config, deps))] : []),
    check('ffmpeg', 10 * SECOND, () => ffmpegCheck(config.ingest.ffmpeg_path, deps)),
    check('database', 20 * SECOND, () => databaseCheck(config, deps)),
    check('redis', 10 * SECOND, () => redisCheck(config.redis.url, deps)),
    check('mqtt', 10 * SECOND, () => mqttCheck(config, deps)),
    check('llm', 15 * SECOND, () => llmCheck(config.analysis, deps)),
  ];
}

/** Combinations the schema cannot express, and files the configuration names. */
async function configurationCheck(config: Config, deps: DoctorDeps): Promise<CheckResult> {
  const problems: string[] = [];
  const a = config.analysis;
  if (a.provider === 'openai' && (a.url === '' || a.model === '')) {
    problems.push('analysis.provider is openai but analysis.url or analysis.model is empty');
  }
  const files: [string, string][] = [
    ['detector.labels', config.detector.labels],
    ['mqtt.tls.ca', config.mqtt.tls.ca],
    ['mqtt.tls.cert', config.mqtt.tls.cert],
    ['mqtt.tls.key', config.mqtt.tls.key],
  ];
  for (const [key, file] of files) {
    if (file !== '' && !(await deps.fileExists(file))) problems.push(`${key}: ${file} does not exist`);
  }
  if (problems.length > 0) return fail(problems.join('; '), 'fix these keys (docs/CONFIGURATION.md)');
  return ok('valid');
}

function fsCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? errorMessage(error);
}

async function dataDirCheck(dir: string, deps: DoctorDeps): Promise<CheckResult> {
  try {
    await deps.writeProbe(dir);
    return ok(`${dir} is writable`);
  } catch (error) {
    return fail(
      `${dir} is not writable (${fsCode(error)})`,
      `make ${dir} writable by the user HSI runs as (uid ${deps.uid}), or set data_dir (HSI_DATA_DIR)`,
    );
  }
}

async function mediaRootCheck(dir: string, deps: DoctorDeps): Promise<CheckResult> {
  let cameras: string[];
  try {
    cameras = await deps.listDirectories(dir);
  } catch (error) {
    const code = fsCode(error);
    if (code === 'ENOENT') {
      return fail(
        `${dir} does not exist`,
        `create it and point the cameras' FTP uploads at ${path.join(dir, '<Camera Name>')}/, or set media_root`,
      );
    }
    return fail(`${dir} cannot be read (${code})`, `make ${dir} readable by uid ${deps.uid}, or set media_root`);
  }
  if (cameras.length === 0) return ok(`${dir} (no camera folder yet: uploads go to ${dir}/<Camera Name>/)`);
  const shown = cameras.slice(0, 5).join(', ') + (cameras.length > 5 ? ', …' : '');
  return ok(`${dir} (${cameras.length} camera folder${cameras.length === 1 ? '' : 's'}: ${shown})`);
}

async function modelFileCheck(config: Config, deps: DoctorDeps): Promise<CheckResult> {
  const file = config.detector.model;
  const name = path.basename(file);
  const isDefault = file === path.join(config.assets_dir, 'models', DEFAULT_MODEL_FILES[config.detector.model_type]);
  const fetchHint =
    name === 'yolox_nano.onnx'
      ? `download ${DEFAULT_MODEL_URL} into ${path.dirname(file)}/`
      : `put ${name} in ${path.dirname(file)}/`;
  let sha: string;
  try {
    sha = await deps.fileSha256(file);
  } catch (error) {
    const fix = isDefault
      ? `${fetchHint}, or set HSI_ASSETS_DIR / detector.model`
      : 'fix detector.model (HSI_DETECTOR_MODEL)';
    return fail(`${file} cannot be read (${fsCode(error)})`, fix);
  }
  const known = KNOWN_MODEL_SHA256[name];
  if (known !== undefined && isDefault && sha !== known) {
    return fail(`${file} has sha256 ${sha}, not the published ${known} (corrupt or partial download)`, fetchHint);
  }
  return ok(`${file} (sha256 ${sha.slice(0, 12)}…${known === sha ? ', matches the published model' : ''})`);
}

/** With identity on (the check is listed only then), the model files it loads at start (the re-id model; the face models unless faces are off). */
async function identityModelsCheck(config: Config, deps: DoctorDeps): Promise<CheckResult> {
  const identity = config.identity;
  const files: [string, string][] = [['identity.reid_model', identity.reid_model]];
  if (identity.faces.enabled) {
    files.push(['identity.faces.detector_model', identity.faces.detector_model]);
    files.push(['identity.faces.embedding_model', identity.faces.embedding_model]);
  }
  const missing: string[] = [];
  for (const [key, file] of files) {
    try {
      await deps.fileSha256(file);
    } catch (error) {
      missing.push(`${key}: ${file} cannot be read (${fsCode(error)})`);
    }
  }
  if (missing.length > 0) {
    return fail(
      missing.join('; '),
      'put the models in identity.models_dir (docs/IDENTITY.md says where to get them), or set the paths; ' +
        'without them identity leaves those steps out and detection goes on',
    );
  }
  return ok(files.map(([, file]) => path.basename(file)).join(', '));
}

async function modelLoadCheck(config: Config, deps: DoctorDeps): Promise<CheckResult> {
  try {
    const info = await deps.loadModel(config);
    return ok(`${config.detector.model_type} model loads on ${info.provider} (input ${info.input})`);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const fix =
      code === 'DEVICE_UNAVAILABLE'
        ? "set detector.device to 'auto' or 'cpu', or run the cuda image on a host with an NVIDIA GPU"
        : 'check that detector.model_type (yolox, picodet, yolo) matches the model, or point detector.model at a valid .onnx file';
    return fail(errorMessage(error), fix);
  }
}

async function ffmpegCheck(command: string, deps: DoctorDeps): Promise<CheckResult> {
  if (await deps.ffmpegAvailable(command)) return ok(`'${command} -version' runs`);
  return fail(
    `'${command} -version' does not run`,
    'install ffmpeg (apt-get install ffmpeg) or set ingest.ffmpeg_path; only video clips need it',
  );
}
