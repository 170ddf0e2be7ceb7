import { type AlertAction, transitionAlert } from '../domain/alert-lifecycle.js';
import { dedupKeyFor, type EventFacts, matchRule } from '../domain/alert-rules.js';
import type { AlertRecord, BusEvents } from '../domain/events.js';
import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import type { EventBus } from '../lib/event-bus.js';
import type { Logger } from '../lib/logger.js';
import {
  type Alert,
  getAlert,
  insertAlertUnlessCooling,
  listActiveAlerts,
  transitionAlertStatus,
} from '../storage/alert.repository.js';
import { listEnabledRules } from '../storage/alert-rule.repository.js';
import { writeAudit } from '../storage/audit.repository.js';
import type { Db } from '../storage/database.js';
import type { SecurityEvent } from '../storage/event.repository.js';

export interface AlertServiceDeps {
  db: Db;
  bus: EventBus<BusEvents>;
  log: Logger;
  clock: Clock;
}

export type AlertTarget = { id: string } | { all: true };

const STATUS_OF: Record<Exclude<AlertAction, 'deliver'>, 'acknowledged' | 'dismissed'> = {
  acknowledge: 'acknowledged',
  dismiss: 'dismissed',
};

export function alertToRecord(alert: Alert, cameraId: string): AlertRecord {
  return {
    id: alert.id,
    eventId: alert.eventId,
    ruleId: alert.ruleId,
    severity: alert.severity,
    status: alert.status,
    dedupKey: alert.dedupKey,
    message: alert.message,
    cameraId,
    createdAt: alert.createdAt,
  };
}

/**
 * Raises alerts from analysed events (every enabled rule, all conditions ANDed, dedup key + cooldown, one alert
 * per event and rule however often the event is evaluated) and carries the alert lifecycle.
 */
export class AlertService {
  constructor(private readonly deps: AlertServiceDeps) {}

  async evaluate(event: SecurityEvent, facts: Omit<EventFacts, 'eventId' | 'cameraId' | 'riskScore' | 'riskLevel'>) {
    const { db, log, clock, bus } = this.deps;
    const full: EventFacts = {
      ...facts,
      eventId: event.id,
      cameraId: event.cameraId,
      riskScore: event.riskScore,
      riskLevel: event.riskLevel,
    };
    const now = new Date(clock.now());
    const raised: Alert[] = [];
    for (const rule of await listEnabledRules(db)) {
      const match = matchRule(rule, full, now);
      if (!match.matched) continue;
      const outcome = await insertAlertUnlessCooling(
        db,
        {
          eventId: event.id,
          ruleId: rule.id,
          severity: rule.severity,
          dedupKey: dedupKeyFor(rule, full),
          message: `${rule.name}: ${event.summary}`,
          metadata: { rule: rule.name, risk_score: event.riskScore, object_types: event.objectTypes },
          createdAt: now,
        },
        rule.cooldownSeconds,
      );
      if (outcome.outcome !== 'created') {
        log.debug({ event_id: event.id, rule: rule.name, outcome: outcome.outcome }, 'alert not raised');
        continue;
      }
      raised.push(outcome.alert);
      log.info(
        { event_id: event.id, alert_id: outcome.alert.id, rule: rule.name, severity: rule.severity },
        'alert raised',
      );
      bus.emit('alert.created', { alert: alertToRecord(outcome.alert, event.cameraId) });
    }
    return raised;
  }

  acknowledge(target: AlertTarget, actor: string): Promise<Alert[]> {
    return this.apply(target, 'acknowledge', actor);
  }

  dismiss(target: AlertTarget, actor: string): Promise<Alert[]> {
    return this.apply(target, 'dismiss', actor);
  }

  /** Marks a pending alert delivered (the bridge, once it published it). False when it was no longer pending. */
  async markDelivered(id: string): Promise<boolean> {
    const alert = await getAlert(this.deps.db, id);
    if (alert === undefined || alert.status !== 'pending') return false;
    const updated = await transitionAlertStatus(
      this.deps.db,
      id,
      alert.versionId,
      'delivered',
      new Date(this.deps.clock.now()),
    );
    return updated !== undefined;
  }

  private async apply(target: AlertTarget, action: 'acknowledge' | 'dismiss', actor: string): Promise<Alert[]> {
    const { db } = this.deps;
    if ('all' in target) {
      const active = await listActiveAlerts(db, 500);
      const done: Alert[] = [];
      for (const alert of active) {
        const updated = await this.transition(alert.id, action, actor).catch(() => undefined);
        if (updated !== undefined) done.push(updated);
      }
      return done;
    }
    return [await this.transition(target.id, action, actor)];
  }

  /** One alert, with a retry when another writer moved its version in between. */
  private async transition(id: string, action: 'acknowledge' | 'dismiss', actor: string): Promise<Alert> {
    const { db, clock, bus } = this.deps;
    for (let attempt = 0; attempt < 3; attempt++) {
      const alert = await getAlert(db, id);
      if (alert === undefined) throw new AppError('NOT_FOUND', `no alert with id ${id}`, { permanent: true });
      transitionAlert(alert.status, action); // throws INVALID_TRANSITION with what is allowed
      const updated = await transitionAlertStatus(db, id, alert.versionId, STATUS_OF[action], new Date(clock.now()));
      if (updated === undefined) continue;
      await writeAudit(db, { action: `alert.${action}`, resourceType: 'alert', resourceId: id, actor });
      const event = await db
        .selectFrom('events')
        .select('camera_id')
        .where('id', '=', updated.eventId)
        .executeTakeFirst();
      bus.emit('alert.updated', { alert: alertToRecord(updated, event?.camera_id ?? ''), action });
      return updated;
    }
    throw new AppError('TRANSIENT', `alert ${id} kept changing while it was being ${action}d; try again`);
  }
}
