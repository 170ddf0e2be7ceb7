/**
 * Moved to `src/storage/queries/` (issue 12); kept for `routes/alerts.ts` (its owner switches the import to
 * `../../storage/queries/alerts-with-camera.js`), then deleted.
 */
export { type AlertWithCamera, listAlertsWithCamera } from '../storage/queries/alerts-with-camera.js';
