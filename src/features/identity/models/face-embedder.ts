import type { ModelRuntime } from '../../../models/model-runtime.js';
import type { Embedder } from '../contract.js';
import { resizeRgb, rgbToNchw } from './image.js';
import { describeValues, invalidModel, openModel, shapeOf, staticDim } from './model-id.js';
import { onnxEmbedder } from './onnx-embedder.js';

/** The face size every supported embedding model takes. */
export const FACE_INPUT_SIZE = 112;

/**
 * A face embedder for any model taking one 1x3x112x112 RGB face, (x - 127.5) / 127.5 (MobileFaceNet, ArcFace-style
 * exports): the face crop is stretched to 112x112; out one vector, L2-normalised here. Names are read from the
 * model; another input shape, or an output that is not one vector, is MODEL_INVALID naming `configKey`.
 */
export async function loadFaceEmbedder(
  models: ModelRuntime,
  modelPath: string,
  configKey = 'identity.faces.embedding_model',
): Promise<Embedder> {
  const opened = await openModel(models, modelPath, configKey);
  const { session } = opened;
  const input = session.inputMetadata[0];
  const shape = shapeOf(input);
  const sizeOk = [shape[2], shape[3]].every((d) => {
    const size = staticDim(d);
    return size === undefined || size === FACE_INPUT_SIZE;
  });
  if (session.inputMetadata.length !== 1 || input === undefined || shape.length !== 4 || !sizeOk || shape[1] !== 3) {
    throw invalidModel(
      modelPath,
      configKey,
      `expected one NCHW input [1,3,112,112] (RGB face), got ${describeValues(session.inputMetadata)}`,
    );
  }
  const size = FACE_INPUT_SIZE;
  return onnxEmbedder(opened, modelPath, configKey, {
    name: input.name,
    dims: [1, 3, size, size],
    prepare: async (image) => rgbToNchw(await resizeRgb(image, size, size), size, size, 127.5, 127.5),
  });
}
