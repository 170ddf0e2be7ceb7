import type { DetectionRecord } from '../domain/events.js';
import type { ModelRuntime } from '../models/model-runtime.js';
import type { DbOrTx } from '../storage/database.js';

/** One decoded picture: a photo, or one sampled frame of a clip. Pixels are RGB, row-major, 3 bytes each. */
export interface DecodedFrame {
  /** The clip frame's index; null for a photo. */
  frameIndex: number | null;
  width: number;
  height: number;
  data: Buffer;
}

/** What a processor found on one detection (or on the whole frame when `detectionId` is null): plain JSON. */
export interface EnrichmentResult {
  detectionId: number | null;
  data: Record<string, unknown>;
}

/**
 * Work a feature does on every detected frame, after detection, in the enrichment stage: faces on person crops,
 * re-identification embeddings, scene change on the whole frame. The stage decodes each frame once and hands it to
 * every enabled processor; a processor's failure is its own (recorded, the others go on).
 */
export interface FrameProcessor {
  /** Stable, kebab-case: the key of its `enrichment_runs` rows. */
  readonly name: string;
  /** The object types whose detections it looks at, or 'frame' for the whole picture. */
  readonly appliesTo: readonly string[] | 'frame';
  /** Opens its models (once, before the first frame). */
  load(models: ModelRuntime): Promise<void>;
  /** Results for one frame; `detections` are the frame's detections of the types it applies to. */
  process(frame: DecodedFrame, detections: readonly DetectionRecord[]): Promise<EnrichmentResult[]>;
  /** Stores the file's results, in the transaction the stage opened for this processor. */
  persist(tx: DbOrTx, mediaFileId: number, results: readonly EnrichmentResult[]): Promise<void>;
  close(): Promise<void>;
}

/** How one processor did on one file: every frame, some frames (the others failed), or none. */
export type EnrichmentStatus = 'success' | 'partial' | 'failed';

export interface EnrichmentOutcome {
  processor: string;
  status: EnrichmentStatus;
  /** The first failure's message, when any frame failed. */
  error: string | null;
  results: number;
  ms: number;
}
