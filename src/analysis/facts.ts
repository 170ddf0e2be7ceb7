import type { Fact } from '../domain/facts.js';
import type { DbOrTx } from '../storage/database.js';

export type { Fact, ScoreHint } from '../domain/facts.js';

/** The visit a fact source is asked about. */
export interface VisitScope {
  batchId: string;
  cameraId: string;
  /** When the visit's first and last pictures were taken. */
  from: Date;
  to: Date;
  /** The visit's detections (ids, types, zones). */
  detectionIds: readonly number[];
  /** Whether it happened at night (dusk to dawn at the site, or 22:00-05:59), judged when the pictures were taken. */
  night: boolean;
  /** Whether it touched an armed zone, or the camera's whole view was armed. */
  armed: boolean;
  /** The site's IANA timezone, for schedules. */
  timeZone: string;
}

/**
 * A feature's knowledge about a visit, asked by the analysis stage for every visit it scores (open and close).
 * It reads through the transaction it is given (the one the analysis holds) and must not write. A source that
 * throws fails the analysis attempt like any database error (the job is retried).
 */
export interface FactSource {
  readonly name: string;
  facts(db: DbOrTx, visit: VisitScope): Promise<Fact[]>;
}
