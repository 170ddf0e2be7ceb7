/** Pure detection types shared by the detector, the worker, storage and (later) aggregation and MQTT. */

/** An axis-aligned box in source-image pixels (after EXIF orientation). */
export interface BBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** One object found by a detector, before filtering by kept classes and thresholds. */
export interface RawDetection {
  classId: number;
  label: string;
  confidence: number;
  box: BBox;
}

export const DEFAULT_TARGET_CLASSES = [
  'person',
  'car',
  'truck',
  'bus',
  'bicycle',
  'motorcycle',
  'dog',
  'cat',
  'bird',
] as const;

export interface ClassFilter {
  /** Labels to keep; everything else is dropped. */
  classes: readonly string[];
  /** Default minimum confidence. */
  confidence: number;
  /** Per-label overrides of the minimum confidence. */
  perClass: Readonly<Record<string, number>>;
}

/** Keeps the security-relevant classes at or above their threshold. */
export function filterDetections(detections: readonly RawDetection[], filter: ClassFilter): RawDetection[] {
  const kept = new Set(filter.classes);
  return detections.filter((d) => kept.has(d.label) && d.confidence >= (filter.perClass[d.label] ?? filter.confidence));
}
