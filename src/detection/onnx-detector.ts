import { stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { type InferenceSession, Tensor } from 'onnxruntime-node';
import type { RawDetection } from '../domain/detection.js';
import { AppError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { COCO_LABELS } from './coco-labels.js';
import { createSession, type DeviceSetting } from './execution-provider.js';
import type { InputGeometry } from './geometry.js';
import { type ModelIo, resolveModelIo } from './model-io.js';
import type { DetectionResult, DetectorInfo, ModelType, ObjectDetector } from './object-detector.js';
import type { DecodeOptions, OutputTensor } from './postprocess/common.js';
import { decodePicodet } from './postprocess/picodet.js';
import { decodeYolo } from './postprocess/yolo.js';
import { decodeYolox } from './postprocess/yolox.js';
import { type PreparedImage, prepareImage } from './preprocess.js';

export { chooseExecutionProvider, cudaProviderInstalled, type DeviceSetting } from './execution-provider.js';

export interface OnnxDetectorOptions {
  modelPath: string;
  modelType: ModelType;
  device: DeviceSetting;
  /** Class names by id; default COCO. */
  labels?: readonly string[];
  /** Pre-filter: candidates below this are dropped before NMS (class thresholds apply later). */
  scoreThreshold: number;
  nmsIou: number;
  /** Images over this many pixels are rejected before decoding (MEDIA_TOO_LARGE). */
  maxPixels: number;
  /** onnxruntime intra-op threads; default: onnxruntime's choice (all cores). */
  threads?: number;
  log: Logger;
  /** Overrides the CUDA file probe (tests). */
  cudaInstalled?: boolean;
}

const HOW_TO_GET_MODEL =
  'the default models live in the shared assets folder (models/yolox_nano.onnx, models/picodet_s_416_coco.onnx) ' +
  'or set HSI_DETECTOR_MODEL to a model file; YOLOX-Nano is the yolox_nano.onnx asset of the YOLOX GitHub ' +
  'release 0.1.1rc0 (https://github.com/Megvii-BaseDetection/YOLOX/releases)';

/** onnxruntime-node object detector for the YOLOX, PP-PicoDet and Ultralytics YOLO families. */
export class OnnxObjectDetector implements ObjectDetector {
  private closed = false;

  private constructor(
    readonly info: DetectorInfo,
    private readonly session: InferenceSession,
    private readonly io: ModelIo,
    private readonly decodeOptions: DecodeOptions,
    private readonly maxPixels: number,
  ) {}

  static async create(options: OnnxDetectorOptions): Promise<OnnxObjectDetector> {
    const { modelPath, modelType, log } = options;
    await assertModelFile(modelPath);
    const { session, provider } = await createSession(options);
    try {
      const io = resolveModelIo(modelType, modelPath, session.inputMetadata, session.outputMetadata);
      const labels = options.labels ?? COCO_LABELS;
      if (io.classes !== undefined && io.classes > labels.length) {
        throw new AppError(
          'MODEL_INVALID',
          `model ${modelPath} has ${io.classes} classes but only ${labels.length} labels are configured: give a labels file with one name per class`,
        );
      }
      const info: DetectorInfo = {
        modelPath,
        modelType,
        provider,
        inputWidth: io.inputWidth,
        inputHeight: io.inputHeight,
      };
      const decodeOptions = { labels, scoreThreshold: options.scoreThreshold, iouThreshold: options.nmsIou };
      log.info(
        { model: modelPath, model_type: modelType, provider, input: `${io.inputWidth}x${io.inputHeight}` },
        'detector ready',
      );
      return new OnnxObjectDetector(info, session, io, decodeOptions, options.maxPixels);
    } catch (error) {
      await session.release();
      throw error;
    }
  }

  async detect(image: Buffer): Promise<DetectionResult> {
    if (this.closed) throw new AppError('INVALID_TRANSITION', 'detector is closed');
    return this.infer(await prepareImage(image, this.info, this.maxPixels));
  }

  /** Runs the session on an image `prepareImage` made for this model, and decodes the boxes. */
  async infer({ input, preprocessMs }: PreparedImage): Promise<DetectionResult> {
    if (this.closed) throw new AppError('INVALID_TRANSITION', 'detector is closed');
    const { inputWidth, inputHeight } = this.info;
    const t1 = performance.now();
    const feeds = { [this.io.inputName]: new Tensor('float32', input.data, [1, 3, inputHeight, inputWidth]) };
    const outputs = await this.session.run(feeds);
    const t2 = performance.now();
    const detections = this.decode(outputs, input.geometry);
    const t3 = performance.now();
    return {
      detections,
      width: input.width,
      height: input.height,
      timings: { preprocessMs, inferenceMs: t2 - t1, postprocessMs: t3 - t2 },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.session.release();
  }

  private decode(outputs: InferenceSession.ReturnType, geometry: InputGeometry): RawDetection[] {
    const tensors = this.io.outputNames.map((name) => outputTensor(outputs, name));
    switch (this.info.modelType) {
      case 'yolox':
        return decodeYolox(tensors[0] as OutputTensor, geometry, this.decodeOptions);
      case 'yolo':
        return decodeYolo(tensors[0] as OutputTensor, geometry, this.decodeOptions);
      case 'picodet': {
        const half = tensors.length / 2;
        return decodePicodet(
          { scores: tensors.slice(0, half), boxes: tensors.slice(half) },
          geometry,
          this.decodeOptions,
        );
      }
    }
  }
}

function outputTensor(outputs: InferenceSession.ReturnType, name: string): OutputTensor {
  const value = outputs[name];
  if (value === undefined || !(value.data instanceof Float32Array)) {
    throw new AppError('MODEL_INVALID', `model output '${name}' is missing or not float32`);
  }
  return { data: value.data, dims: value.dims };
}

async function assertModelFile(modelPath: string): Promise<void> {
  try {
    const info = await stat(modelPath);
    if (info.isFile()) return;
  } catch (error) {
    throw new AppError('MODEL_MISSING', `detector model not found at ${modelPath}: ${HOW_TO_GET_MODEL}`, {
      cause: error,
    });
  }
  throw new AppError('MODEL_MISSING', `detector model path ${modelPath} is not a file: ${HOW_TO_GET_MODEL}`);
}
