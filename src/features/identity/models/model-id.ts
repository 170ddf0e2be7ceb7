import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { InferenceSession } from 'onnxruntime-node';
import { AppError, errorMessage } from '../../../lib/errors.js';
import type { ModelRuntime } from '../../../models/model-runtime.js';

/**
 * A model's identity as stored beside every vector: `<file name>@<first 12 hex of the file's sha256>`. Two files
 * with the same name but different weights get different ids, so vectors of one model are never compared with
 * another's. A missing or unreadable file is a permanent MODEL_MISSING naming the path and the setting.
 */
export async function modelIdOf(modelPath: string, configKey: string): Promise<string> {
  let bytes: Buffer;
  try {
    const info = await stat(modelPath);
    if (!info.isFile()) throw new Error('not a file');
    bytes = await readFile(modelPath);
  } catch (error) {
    throw new AppError(
      'MODEL_MISSING',
      `${configKey}: model file ${modelPath} cannot be read (${errorMessage(error)}); set ${configKey} to an .onnx ` +
        "file, or '' for the default in <assets_dir>/models/",
      { cause: error, permanent: true, details: { configKey, modelPath } },
    );
  }
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 12);
  const name = modelPath.split(/[\\/]/).pop() ?? modelPath;
  return `${name}@${hash}`;
}

/** A model session opened for the identity feature, with its id. */
export interface OpenedModel {
  modelId: string;
  session: InferenceSession;
}

/**
 * Checks the file (MODEL_MISSING, naming `configKey`), then opens its session through the runtime (shared, on the
 * runtime's device). A file onnxruntime cannot load is a permanent MODEL_INVALID naming the setting.
 */
export async function openModel(models: ModelRuntime, modelPath: string, configKey: string): Promise<OpenedModel> {
  const modelId = await modelIdOf(modelPath, configKey);
  try {
    const { session } = await models.session(modelPath);
    return { modelId, session };
  } catch (error) {
    if (error instanceof AppError && error.code !== 'MODEL_INVALID') throw error;
    const reason = error instanceof AppError && error.cause !== undefined ? error.cause : error;
    throw invalidModel(modelPath, configKey, `onnxruntime cannot load it: ${errorMessage(reason)}`, error);
  }
}

/** A permanent MODEL_INVALID for the file behind `configKey`, saying what is wrong with it. */
export function invalidModel(modelPath: string, configKey: string, problem: string, cause?: unknown): AppError {
  return new AppError('MODEL_INVALID', `${configKey}: model ${modelPath} is not usable: ${problem}`, {
    cause,
    permanent: true,
    details: { configKey, modelPath },
  });
}

/** The static size of a metadata dimension; undefined when symbolic or unknown. */
export function staticDim(value: number | string | undefined): number | undefined {
  return typeof value === 'number' && value > 0 ? value : undefined;
}

/** A session value's shape as metadata declares it ([] for non-tensors or when unknown). */
export function shapeOf(meta: InferenceSession.ValueMetadata | undefined): readonly (number | string)[] {
  return meta?.isTensor ? meta.shape : [];
}

/** `name [1,3,112,112]` lists for error messages. */
export function describeValues(values: readonly InferenceSession.ValueMetadata[]): string {
  if (values.length === 0) return 'nothing';
  return values.map((v) => `'${v.name}' [${shapeOf(v).join(',')}]`).join(', ');
}

/** The named output of a run as float32 data; anything else is MODEL_INVALID naming `configKey`. */
export function floatOutput(
  outputs: InferenceSession.ReturnType,
  name: string,
  modelPath: string,
  configKey: string,
): Float32Array {
  const value = outputs[name];
  if (value === undefined || !(value.data instanceof Float32Array)) {
    throw invalidModel(modelPath, configKey, `its output '${name}' is missing or not float32`);
  }
  return value.data;
}
