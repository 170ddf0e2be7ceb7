import path from 'node:path';
import { permanentError } from '../lib/errors.js';
import { readVerifiedMedia, withVerifiedMediaCopy } from '../lib/verified-media.js';
import type { SnapshotDetection } from '../media/snapshot.js';
import type { DbOrTx } from '../storage/database.js';
import { getMediaFile } from '../storage/media-file.repository.js';
import { type EventDetectionPicture, eventDetectionPictures } from '../storage/queries/event-pictures.js';

export type { EventDetectionPicture } from '../storage/queries/event-pictures.js';

/**
 * The picture of a security event for the camera's `snapshot` image entity: the frame of the event's
 * highest-confidence detection (a photo, or the sampled frame of a clip), with every detection of that same frame.
 * The bridge publishes it before the event's messages, so an automation triggered by the event reads this picture.
 */

export interface BestFrame {
  /** The highest-confidence detection (lowest id on a tie). */
  best: EventDetectionPicture;
  /** Every detection on the same media file and frame as `best`, `best` included, as boxes to draw. */
  boxes: SnapshotDetection[];
}

/** The best frame of an event's detections, or undefined for none. Pure. */
export function bestFrame(detections: readonly EventDetectionPicture[]): BestFrame | undefined {
  let best: EventDetectionPicture | undefined;
  for (const d of detections) {
    if (
      best === undefined ||
      d.confidence > best.confidence ||
      (d.confidence === best.confidence && d.detectionId < best.detectionId)
    ) {
      best = d;
    }
  }
  if (best === undefined) return undefined;
  const frame = best;
  const boxes = detections
    .filter((d) => d.mediaFileId === frame.mediaFileId && d.frameIndex === frame.frameIndex)
    .map((d) => ({ label: d.objectType, confidence: d.confidence, box: d.box }));
  return { best: frame, boxes };
}

/** `relative` under `mediaRoot`; a stored path that leaves the root is refused (the database is not trusted). */
export function underMediaRoot(mediaRoot: string, relative: string): string {
  const root = path.resolve(mediaRoot);
  const file = path.resolve(root, relative);
  if (!file.startsWith(root + path.sep)) {
    throw permanentError('MEDIA_OUTSIDE_ROOT', `${relative} is outside the media root`);
  }
  return file;
}

export interface EventPicture {
  /** The detection whose frame this is: the bridge skips re-drawing a picture it published already. */
  detectionId: number;
  /** The source picture (photo bytes, or the clip's JPEG frame). */
  image: Buffer;
  boxes: SnapshotDetection[];
}

export interface EventPictureDeps {
  db: DbOrTx;
  mediaRoot: string;
  /** Samples a clip into JPEG frames the way the detection stage did, so `frame_index` points into them. */
  extractFrames(file: string): Promise<Buffer[]>;
}

/**
 * Reads the source picture of an event's best frame; undefined when the event has no detections. The media file
 * must still hold what was processed (its sha256) and is never read through a link: else an
 * `UnverifiedMediaError` (permanent) is thrown.
 */
export async function loadEventPicture(deps: EventPictureDeps, eventId: number): Promise<EventPicture | undefined> {
  const frame = bestFrame(await eventDetectionPictures(deps.db, eventId));
  if (frame === undefined) return undefined;
  const { best } = frame;
  underMediaRoot(deps.mediaRoot, best.mediaPath);
  const recorded = await getMediaFile(deps.db, best.mediaFileId);
  if (recorded === undefined) throw new Error(`media file ${best.mediaFileId} is gone`);
  const size = Number(recorded.size);
  let image: Buffer | undefined;
  if (best.mediaType === 'image') {
    image = await readVerifiedMedia(deps.mediaRoot, best.mediaPath, recorded.sha256, size);
  } else {
    const frames = await withVerifiedMediaCopy(
      deps.mediaRoot,
      best.mediaPath,
      recorded.sha256,
      deps.extractFrames,
      size,
    );
    image = frames[best.frameIndex ?? 0];
  }
  if (image === undefined) {
    throw permanentError('MEDIA_CORRUPT', `clip ${best.mediaPath} no longer has frame ${best.frameIndex}`);
  }
  return { detectionId: best.detectionId, image, boxes: frame.boxes };
}
