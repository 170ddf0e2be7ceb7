import type { AlertStatus } from '../../domain/alert-lifecycle.js';
import { type Alert, alertRowToAlert } from '../alert.repository.js';
import type { DbOrTx } from '../database.js';

/**
 * Alerts with their event's camera, the one join every reader of alerts needs (the API's alert list, the MQTT
 * active-alerts sensor, delivery of pending alerts). The event is joined even when deleted; an alert whose event is
 * gone has no camera (null).
 */

export interface AlertWithCamera {
  alert: Alert;
  cameraId: string | null;
}

export interface AlertsWithCameraFilter {
  statuses?: readonly AlertStatus[];
  ids?: readonly string[];
  /** At most this many (no limit when absent). */
  limit?: number;
  /** `newest` first (default) or `oldest` first, by creation time then id. */
  order?: 'newest' | 'oldest';
}

/** Alerts filtered by status and/or ids, each with its event's camera. */
export async function listAlertsWithCamera(db: DbOrTx, filter: AlertsWithCameraFilter): Promise<AlertWithCamera[]> {
  let q = db
    .selectFrom('alerts as a')
    .leftJoin('events as e', 'e.id', 'a.event_id')
    .selectAll('a')
    .select('e.camera_id as event_camera_id');
  if (filter.statuses !== undefined) q = q.where('a.status', 'in', [...filter.statuses]);
  if (filter.ids !== undefined) {
    if (filter.ids.length === 0) return [];
    q = q.where('a.id', 'in', [...filter.ids]);
  }
  const direction = filter.order === 'oldest' ? 'asc' : 'desc';
  q = q.orderBy('a.created_at', direction).orderBy('a.id', direction);
  if (filter.limit !== undefined) q = q.limit(filter.limit);
  const rows = await q.execute();
  return rows.map(({ event_camera_id, ...row }) => ({ alert: alertRowToAlert(row), cameraId: event_camera_id }));
}
