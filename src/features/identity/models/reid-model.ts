import type { ModelRuntime } from '../../../models/model-runtime.js';
import type { Embedder } from '../contract.js';
import { resizeRgb, rgbToNhwcBgr } from './image.js';
import { describeValues, invalidModel, openModel, shapeOf, staticDim } from './model-id.js';
import { onnxEmbedder } from './onnx-embedder.js';

/** person-reidentification-retail-0248's input size, used when a model's height and width are symbolic. */
const DEFAULT_SIZE = { width: 128, height: 256 };

/**
 * The person re-identification embedder (Intel Open Model Zoo person-reidentification-retail-0248 and models like
 * it): a person crop stretched to the model's input (128x256 for 0248), NHWC, BGR, 0-255 (the model normalises
 * inside); out one vector, L2-normalised here. The input and output names are read from the model; an input that
 * is not NHWC with 3 channels, or an output that is not one vector, is MODEL_INVALID naming `configKey`.
 */
export async function loadReidEmbedder(
  models: ModelRuntime,
  modelPath: string,
  configKey = 'identity.reid_model',
): Promise<Embedder> {
  const opened = await openModel(models, modelPath, configKey);
  const { session } = opened;
  const input = session.inputMetadata[0];
  const shape = shapeOf(input);
  if (session.inputMetadata.length !== 1 || input === undefined || shape.length !== 4 || !channelsLast(shape)) {
    throw invalidModel(
      modelPath,
      configKey,
      `expected one NHWC input [1,height,width,3] (BGR person crop), got ${describeValues(session.inputMetadata)}`,
    );
  }
  const height = staticDim(shape[1]) ?? DEFAULT_SIZE.height;
  const width = staticDim(shape[2]) ?? DEFAULT_SIZE.width;
  return onnxEmbedder(opened, modelPath, configKey, {
    name: input.name,
    dims: [1, height, width, 3],
    prepare: async (image) => rgbToNhwcBgr(await resizeRgb(image, width, height)),
  });
}

/** The last dimension is 3 (or symbolic) and the second is not: channels last. */
function channelsLast(shape: readonly (number | string)[]): boolean {
  const last = staticDim(shape[3]);
  return (last === undefined || last === 3) && staticDim(shape[1]) !== 3;
}
