import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { InferenceSession } from 'onnxruntime-node';
import { AppError, errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { ExecutionProvider } from './object-detector.js';

export type DeviceSetting = 'auto' | 'cpu' | 'cuda';

const CUDA_MISSING =
  'the CUDA execution provider files are not in this onnxruntime-node build ' +
  '(the npm package ships CPU only; CUDA 12 binaries are fetched at install time on linux x64 with ' +
  '`npm install onnxruntime-node --onnxruntime-node-install=cuda12`, and need the CUDA 12 + cuDNN 9 runtime)';

/**
 * Whether onnxruntime-node's CUDA provider library sits beside its native binding. Without it a 'cuda' session
 * cannot even be attempted.
 */
export function cudaProviderInstalled(): boolean {
  const file = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
  try {
    const packageRoot = path.resolve(path.dirname(createRequire(import.meta.url).resolve('onnxruntime-node')), '..');
    const binRoot = path.join(packageRoot, 'bin');
    return readdirSync(binRoot)
      .filter((dir) => dir.startsWith('napi-v'))
      .some((dir) => existsSync(path.join(binRoot, dir, process.platform, process.arch, file)));
  } catch {
    return false;
  }
}

/**
 * The provider a detector will try for a device setting: `cpu` → cpu; `cuda` → cuda or DEVICE_UNAVAILABLE when the
 * CUDA files are absent; `auto` → cuda when its files are present, else cpu. A cuda session may still fail to
 * start (no GPU, no CUDA runtime): `createSession` then falls back (auto) or fails (cuda).
 */
export function chooseExecutionProvider(
  device: DeviceSetting,
  cudaInstalled: boolean = cudaProviderInstalled(),
): ExecutionProvider {
  if (device === 'cpu') return 'cpu';
  if (cudaInstalled) return 'cuda';
  if (device === 'cuda') throw new AppError('DEVICE_UNAVAILABLE', `device 'cuda' requested but ${CUDA_MISSING}`);
  return 'cpu';
}

export interface SessionRequest {
  modelPath: string;
  device: DeviceSetting;
  threads?: number;
  log: Logger;
  /** Overrides the CUDA file probe (tests). */
  cudaInstalled?: boolean;
}

/**
 * Opens an onnxruntime session on the chosen provider. `auto` falls back to CPU with one warning; `cuda` fails
 * with DEVICE_UNAVAILABLE. A file onnxruntime cannot load is MODEL_INVALID.
 */
export async function createSession(
  request: SessionRequest,
): Promise<{ session: InferenceSession; provider: ExecutionProvider }> {
  const { device, log } = request;
  const installed = request.cudaInstalled ?? cudaProviderInstalled();
  const provider = chooseExecutionProvider(device, installed);
  if (provider === 'cuda') {
    try {
      return { session: await openSession(request, 'cuda'), provider };
    } catch (error) {
      if (device === 'cuda') {
        throw new AppError('DEVICE_UNAVAILABLE', `CUDA execution provider failed to start: ${errorMessage(error)}`, {
          cause: error,
        });
      }
      log.warn({ device, error: errorMessage(error) }, 'CUDA execution provider failed to start; detecting on CPU');
    }
  } else if (device === 'auto') {
    log.warn({ device }, `no GPU detection: ${CUDA_MISSING}; detecting on CPU`);
  }
  return { session: await openSession(request, 'cpu'), provider: 'cpu' };
}

async function openSession(request: SessionRequest, provider: ExecutionProvider): Promise<InferenceSession> {
  const options: InferenceSession.SessionOptions = {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    // Errors only: some exports (PicoDet) log hundreds of harmless initializer warnings at load.
    logSeverityLevel: 3,
    ...(request.threads === undefined ? {} : { intraOpNumThreads: request.threads }),
    // onnxruntime's CPU threads spin between operators by default: on a small machine that burns a core the
    // database, MQTT and the next image's decoding need (2-core machine, 300-image burst: CPU per image 64 -> 48 ms,
    // same throughput; with two images in flight, 29 -> 32 img/s).
    ...(provider === 'cpu'
      ? { extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } } }
      : {}),
  };
  try {
    return await InferenceSession.create(request.modelPath, options);
  } catch (error) {
    if (provider === 'cuda') throw error;
    throw new AppError(
      'MODEL_INVALID',
      `model ${request.modelPath} cannot be loaded by onnxruntime: ${errorMessage(error)}; point the detector at a valid .onnx file`,
      { cause: error },
    );
  }
}
