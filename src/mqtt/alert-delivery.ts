import type { AlertService } from '../alerts/alert.service.js';
import { alertToRecord } from '../alerts/alert.service.js';
import type { AlertRecord } from '../domain/events.js';
import type { Logger } from '../lib/logger.js';
import { getAlert } from '../storage/alert.repository.js';
import type { Db } from '../storage/database.js';
import { listAlertsWithCamera } from '../storage/queries/alerts-with-camera.js';
import type { MqttPublisher } from './client.js';
import { alertEventEntityPayload, alertStreamPayload } from './payloads.js';
import * as t from './topics.js';

export interface AlertDeliveryDeps {
  base: string;
  publisher: MqttPublisher;
  db: Db;
  alerts: Pick<AlertService, 'markDelivered'>;
  log: Logger;
  /** Called after each delivery: the hub's active-alerts sensor may change. */
  onDelivered: () => void;
}

/**
 * Delivers alerts to Home Assistant: the alert stream's `new` message and the hub's alert entity, both QoS 1. An
 * alert is marked delivered only once the broker acknowledged both; one that could not be published (no broker,
 * no acknowledgement) stays `pending`, and every (re)connect publishes the pending alerts, oldest first. All runs
 * go one after the other and each re-reads the alert's status first, so an alert is published once (a message the
 * broker received but never acknowledged may come again: delivery is at least once).
 */
export class AlertDelivery {
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly deps: AlertDeliveryDeps) {}

  /**
   * A new alert: published now when connected, else left pending for the next connect. True when delivered (the
   * active-alerts state was then published by `onDelivered`).
   */
  deliver(alert: AlertRecord): Promise<boolean> {
    let delivered = false;
    return this.serial(async () => {
      delivered = await this.publishOne(alert);
    }).then(() => delivered);
  }

  /** Every alert still pending, oldest first; stops at the first one the broker did not take. */
  deliverPending(): Promise<void> {
    return this.serial(async () => {
      const pending = await this.pendingAlerts();
      let delivered = 0;
      for (const alert of pending) {
        if (!(await this.publishOne(alert))) break;
        delivered++;
      }
      if (pending.length > 0) {
        this.deps.log.info({ pending: pending.length, delivered }, 'pending alerts published after (re)connecting');
      }
    });
  }

  private async publishOne(alert: AlertRecord): Promise<boolean> {
    const { base, publisher, db, alerts } = this.deps;
    if (!publisher.connected) return false;
    const current = await getAlert(db, alert.id);
    if (current?.status !== 'pending') return true; // delivered by an earlier run, or already handled
    const stream = await publisher.publishConfirmed(
      t.alertsStreamTopic(base, alert.severity),
      JSON.stringify(alertStreamPayload('new', alert)),
    );
    // One alert per event: the hub's alert entity fires here only, never on escalation.
    const entity =
      stream &&
      (await publisher.publishConfirmed(t.hubAlertEventTopic(base), JSON.stringify(alertEventEntityPayload(alert))));
    if (!entity) {
      this.deps.log.warn({ alert_id: alert.id }, 'alert not published (MQTT broker unavailable): kept pending');
      return false;
    }
    await alerts.markDelivered(alert.id);
    this.deps.onDelivered();
    return true;
  }

  private async pendingAlerts(): Promise<AlertRecord[]> {
    const rows = await listAlertsWithCamera(this.deps.db, { statuses: ['pending'], order: 'oldest' });
    return rows.map((row) => alertToRecord(row.alert, row.cameraId ?? ''));
  }

  /** Runs `fn` after every earlier run; errors are logged, never passed on. */
  private serial(fn: () => Promise<void>): Promise<void> {
    const next = this.tail.then(fn).catch((error: unknown) => {
      this.deps.log.warn({ err: error }, 'MQTT alert delivery failed');
    });
    this.tail = next;
    return next;
  }
}
