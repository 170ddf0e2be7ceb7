import type { RawDetection } from '../domain/detection.js';

/** Model families the detector can decode (see ../shared/models/MODELS.md). */
export type ModelType = 'yolox' | 'picodet' | 'yolo';

export const MODEL_TYPES: readonly ModelType[] = ['yolox', 'picodet', 'yolo'];

export type ExecutionProvider = 'cuda' | 'cpu';

export interface DetectionResult {
  /** All classes above the detector's pre-filter score, after NMS; boxes in oriented source pixels. */
  detections: RawDetection[];
  /** Source size after EXIF orientation. */
  width: number;
  height: number;
  timings: { preprocessMs: number; inferenceMs: number; postprocessMs: number };
}

export interface DetectorInfo {
  modelPath: string;
  modelType: ModelType;
  provider: ExecutionProvider;
  inputWidth: number;
  inputHeight: number;
}

/** Finds objects in one encoded image (JPEG, PNG, WebP...). */
export interface ObjectDetector {
  readonly info: DetectorInfo;
  detect(image: Buffer): Promise<DetectionResult>;
  close(): Promise<void>;
}
