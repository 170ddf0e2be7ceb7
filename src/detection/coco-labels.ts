import { readFile } from 'node:fs/promises';
import { AppError } from '../lib/errors.js';

/** The 80 COCO class labels in model output order (same as coco.names beside the shared models). */
export const COCO_LABELS: readonly string[] = [
  'person',
  'bicycle',
  'car',
  'motorbike',
  'aeroplane',
  'bus',
  'train',
  'truck',
  'boat',
  'traffic light',
  'fire hydrant',
  'stop sign',
  'parking meter',
  'bench',
  'bird',
  'cat',
  'dog',
  'horse',
  'sheep',
  'cow',
  'elephant',
  'bear',
  'zebra',
  'giraffe',
  'backpack',
  'umbrella',
  'handbag',
  'tie',
  'suitcase',
  'frisbee',
  'skis',
  'snowboard',
  'sports ball',
  'kite',
  'baseball bat',
  'baseball glove',
  'skateboard',
  'surfboard',
  'tennis racket',
  'bottle',
  'wine glass',
  'cup',
  'fork',
  'knife',
  'spoon',
  'bowl',
  'banana',
  'apple',
  'sandwich',
  'orange',
  'broccoli',
  'carrot',
  'hot dog',
  'pizza',
  'donut',
  'cake',
  'chair',
  'sofa',
  'pottedplant',
  'bed',
  'diningtable',
  'toilet',
  'tvmonitor',
  'laptop',
  'mouse',
  'remote',
  'keyboard',
  'cell phone',
  'microwave',
  'oven',
  'toaster',
  'sink',
  'refrigerator',
  'book',
  'clock',
  'vase',
  'scissors',
  'teddy bear',
  'hair drier',
  'toothbrush',
];

/**
 * The class labels of a detector: COCO when no file is given, else a names file with one label per line
 * (darknet/Ultralytics `*.names` style; blank lines and surrounding spaces are ignored).
 */
export async function loadLabels(file?: string): Promise<readonly string[]> {
  if (file === undefined) return COCO_LABELS;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new AppError('CONFIG_FILE', `cannot read labels file ${file}: ${(error as Error).message}`, { cause: error });
  }
  const labels = parseLabels(text);
  if (labels.length === 0) {
    throw new AppError('CONFIG_FILE', `labels file ${file} has no labels: write one class name per line`);
  }
  return labels;
}

/** One label per non-empty line, trimmed. */
export function parseLabels(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}
