/** Moved to `src/media/snapshot.ts` (shared by the MQTT bridge and the API); kept until `live-states.ts` imports it from there. */
export {
  annotateSnapshot,
  overlaySvg,
  type SnapshotDetection,
  type SnapshotOptions,
  snapshotSize,
} from '../media/snapshot.js';
