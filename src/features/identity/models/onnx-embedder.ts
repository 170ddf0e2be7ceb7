import { type InferenceSession, Tensor } from 'onnxruntime-node';
import type { DecodedFrame } from '../../../enrichment/contract.js';
import { AppError, errorMessage } from '../../../lib/errors.js';
import type { Embedder } from '../contract.js';
import { normalize } from '../vectors.js';
import { floatOutput, invalidModel, type OpenedModel } from './model-id.js';

/** How an embedder feeds its model: the input's name and shape, and the image made into that input's data. */
export interface EmbedderInput {
  name: string;
  dims: readonly number[];
  prepare(image: DecodedFrame): Promise<Float32Array>;
}

/**
 * An `Embedder` over an opened session: one run on a mid-grey image at load proves the model takes the input and
 * gives one float vector (its length is `dims`); anything else is MODEL_INVALID naming the setting.
 */
export async function onnxEmbedder(
  opened: OpenedModel,
  modelPath: string,
  configKey: string,
  input: EmbedderInput,
): Promise<Embedder> {
  const { session, modelId } = opened;
  const outputName = session.outputNames[0];
  if (outputName === undefined) throw invalidModel(modelPath, configKey, 'it has no output');
  const run = async (data: Float32Array): Promise<Float32Array> => {
    const outputs = await session.run({ [input.name]: new Tensor('float32', data, [...input.dims]) });
    return vectorOf(outputs, outputName, modelPath, configKey);
  };
  const grey: DecodedFrame = { frameIndex: null, width: 8, height: 8, data: Buffer.alloc(8 * 8 * 3, 128) };
  let dims: number;
  try {
    dims = (await run(await input.prepare(grey))).length;
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw invalidModel(modelPath, configKey, `a test run failed: ${errorMessage(error)}`, error);
  }
  return {
    modelId,
    dims,
    async embed(image: DecodedFrame): Promise<Float32Array> {
      return normalize(await run(await input.prepare(image)));
    },
  };
}

/** The named output as one vector: a float32 tensor with at most one dimension over 1. */
function vectorOf(
  outputs: InferenceSession.ReturnType,
  name: string,
  modelPath: string,
  configKey: string,
): Float32Array {
  const data = floatOutput(outputs, name, modelPath, configKey);
  const dims = outputs[name]?.dims ?? [];
  const wide = dims.filter((d) => d > 1);
  if (wide.length !== 1) {
    throw invalidModel(
      modelPath,
      configKey,
      `expected one vector out (e.g. [1,256]), got '${name}' [${dims.join(',')}]: is this an embedding model?`,
    );
  }
  return data;
}
