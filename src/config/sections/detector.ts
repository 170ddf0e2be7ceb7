import type { JSONSchemaType } from 'ajv';
import { DEFAULT_TARGET_CLASSES } from '../../domain/detection.js';

export type ModelType = 'yolox' | 'picodet' | 'yolo';
export type DetectorDevice = 'auto' | 'cpu' | 'cuda';

/**
 * The default model: change `DEFAULT_MODEL_TYPE` (and, if needed, the file names) here and nowhere else; the
 * schema default, the docs and `detector.model: ''` all follow.
 */
export const DEFAULT_MODEL_TYPE: ModelType = 'yolox';

/** File under `<assets_dir>/models/` used when `detector.model` is '' for each model family. */
export const DEFAULT_MODEL_FILES: Readonly<Record<ModelType, string>> = {
  yolox: 'yolox_nano.onnx',
  picodet: 'picodet_s_416_coco.onnx',
  yolo: 'yolov8n.onnx',
};

export interface DetectorConfig {
  model: string;
  model_type: ModelType;
  labels: string;
  device: DetectorDevice;
  confidence: number;
  class_confidence: Record<string, number>;
  classes: string[];
  nms_iou: number;
  concurrency: number;
  threads: number;
  worker_thread: boolean;
  thumbnails: boolean;
}

export const detectorSchema: JSONSchemaType<DetectorConfig> = {
  type: 'object',
  title: 'Object detector',
  description: 'The ONNX object detector run on every image and sampled video frame.',
  additionalProperties: false,
  required: [
    'model',
    'model_type',
    'labels',
    'device',
    'confidence',
    'class_confidence',
    'classes',
    'nms_iou',
    'concurrency',
    'threads',
    'worker_thread',
    'thumbnails',
  ],
  properties: {
    model: {
      type: 'string',
      title: 'Model file',
      description:
        "ONNX model file. '' uses the bundled default for `model_type` under `<assets_dir>/models/` " +
        `(${Object.entries(DEFAULT_MODEL_FILES)
          .map(([type, file]) => `${type}: ${file}`)
          .join(', ')}).`,
      default: '',
      'x-path': true,
    },
    model_type: {
      type: 'string',
      title: 'Model family',
      description: 'How the model output is decoded: YOLOX grid, PP-PicoDet GFL, or Ultralytics YOLO (v8 and later).',
      enum: ['yolox', 'picodet', 'yolo'],
      default: DEFAULT_MODEL_TYPE,
    },
    labels: {
      type: 'string',
      title: 'Labels file',
      description: "Class names, one per line, in model output order. '' uses the built-in 80 COCO labels.",
      default: '',
      'x-path': true,
    },
    device: {
      type: 'string',
      title: 'Execution device',
      description:
        "'auto' uses CUDA when onnxruntime can load it and falls back to the CPU; 'cuda' fails if it cannot.",
      enum: ['auto', 'cpu', 'cuda'],
      default: 'auto',
    },
    confidence: {
      type: 'number',
      title: 'Minimum confidence',
      description: 'Detections below this confidence are dropped (0 to 1).',
      minimum: 0,
      maximum: 1,
      default: 0.5,
    },
    class_confidence: {
      type: 'object',
      title: 'Per-class minimum confidence',
      description: 'Overrides of `confidence` per label, e.g. `{"person": 0.6, "bird": 0.7}` (values 0 to 1).',
      additionalProperties: { type: 'number', minimum: 0, maximum: 1 },
      propertyNames: { minLength: 1 },
      required: [],
      default: {},
    },
    classes: {
      type: 'array',
      title: 'Kept classes',
      description: 'Labels kept as security-relevant detections; every other label is dropped.',
      items: { type: 'string', minLength: 1 },
      minItems: 1,
      uniqueItems: true,
      default: [...DEFAULT_TARGET_CLASSES],
    },
    nms_iou: {
      type: 'number',
      title: 'NMS IoU threshold',
      description: 'Overlapping boxes of one class with an IoU above this are merged by non-maximum suppression.',
      minimum: 0,
      maximum: 1,
      default: 0.45,
    },
    concurrency: {
      type: 'integer',
      title: 'Concurrent detections',
      description:
        'Detection jobs run at once by this process (1 to 16). 2 (default) lets the detector thread decode the next ' +
        'image while the current one is inferred.',
      minimum: 1,
      maximum: 16,
      default: 2,
    },
    threads: {
      type: 'integer',
      title: 'Inference threads',
      description: 'onnxruntime intra-op threads per session; 0 lets onnxruntime choose.',
      minimum: 0,
      maximum: 256,
      default: 0,
    },
    worker_thread: {
      type: 'boolean',
      title: 'Detect in a worker thread',
      description:
        'Run decoding and inference in a worker thread. onnxruntime-node blocks the thread that runs a session, so ' +
        'on the main thread each inference would stall ingest, the database, MQTT and the API.',
      default: true,
    },
    thumbnails: {
      type: 'boolean',
      title: 'Save thumbnails',
      description:
        'Save a JPEG crop of each kept detection under `<data_dir>/thumbnails`, written when the detector is idle ' +
        '(after the detections are committed and published).',
      default: true,
    },
  },
};
