import { type AlertAction, transitionAlert } from '../domain/alert-lifecycle.js';
import { type AlertRule, chooseAlertRule, dedupKeyFor, type EventFacts, matchRule } from '../domain/alert-rules.js';
import type { AlertRecord, BusEvents } from '../domain/events.js';
import { riskLevelRank } from '../domain/risk.js';
import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import type { EventBus } from '../lib/event-bus.js';
import type { Logger } from '../lib/logger.js';
import {
  type Alert,
  alertOfEvent,
  escalateAlert,
  getAlert,
  insertAlertUnlessCooling,
  listActiveAlerts,
  lockEventAlerts,
  transitionAlertStatus,
} from '../storage/alert.repository.js';
import { listEnabledRules } from '../storage/alert-rule.repository.js';
import { writeAudit } from '../storage/audit.repository.js';
import type { Db } from '../storage/database.js';
import { cameraOfEvent, type SecurityEvent } from '../storage/event.repository.js';

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
    acknowledgedBy: alert.acknowledgedBy,
    dismissedBy: alert.dismissedBy,
  };
}

/**
 * Raises alerts from analysed events and carries the alert lifecycle. An event raises at most one alert: of the
 * enabled rules it matches (all conditions ANDed), the most severe that is not in its cooldown (dedup key) raises
 * it, naming the other matches; a later analysis of the same visit may escalate that alert to a more severe rule,
 * never add a second one.
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
    // Schedules are judged at the hour the event happened, not when it is analysed (a backlog after an outage).
    const matched = (await listEnabledRules(db)).filter((rule) => matchRule(rule, full, event.startedAt).matched);
    if (matched.length === 0) return [];
    const candidates = [...matched].sort((a, b) => riskLevelRank(b.severity) - riskLevelRank(a.severity));
    const metadata = (rule: AlertRule) => ({
      rule: rule.name,
      matched_rules: matched.map((r) => r.name),
      risk_score: event.riskScore,
      object_types: event.objectTypes,
    });
    const outcome = await db.transaction().execute(async (tx) => {
      await lockEventAlerts(tx, event.id);
      const existing = await alertOfEvent(tx, event.id);
      if (existing !== undefined) {
        const best = chooseAlertRule(candidates)!.rule;
        if (riskLevelRank(best.severity) <= riskLevelRank(existing.severity))
          return { kind: 'kept' as const, existing };
        const escalated = await escalateAlert(tx, existing.id, existing.versionId, {
          ruleId: best.id,
          severity: best.severity,
          message: `${best.name}: ${event.summary}`,
          metadata: { ...metadata(best), escalated_from: existing.severity },
          at: now,
        });
        return escalated === undefined
          ? { kind: 'kept' as const, existing }
          : { kind: 'escalated' as const, alert: escalated, from: existing.severity };
      }
      for (const rule of candidates) {
        const raised = await insertAlertUnlessCooling(
          tx,
          {
            eventId: event.id,
            ruleId: rule.id,
            severity: rule.severity,
            dedupKey: dedupKeyFor(rule, full),
            message: `${rule.name}: ${event.summary}`,
            metadata: metadata(rule),
            createdAt: now,
          },
          rule.cooldownSeconds,
        );
        if (raised.outcome === 'cooldown') {
          log.debug({ event_id: event.id, rule: rule.name }, 'alert rule in its cooldown');
          continue;
        }
        return raised.outcome === 'created'
          ? { kind: 'created' as const, alert: raised.alert, rule }
          : { kind: 'kept' as const, existing: raised.alert };
      }
      return { kind: 'cooling' as const };
    });
    switch (outcome.kind) {
      case 'created':
        log.info(
          {
            event_id: event.id,
            alert_id: outcome.alert.id,
            rule: outcome.rule.name,
            severity: outcome.rule.severity,
            matched_rules: matched.length,
          },
          'alert raised',
        );
        bus.emit('alert.created', { alert: alertToRecord(outcome.alert, event.cameraId) });
        return [outcome.alert];
      case 'escalated':
        log.info(
          { event_id: event.id, alert_id: outcome.alert.id, from: outcome.from, severity: outcome.alert.severity },
          'alert escalated',
        );
        bus.emit('alert.updated', { alert: alertToRecord(outcome.alert, event.cameraId), action: 'escalate' });
        return [];
      default:
        return [];
    }
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
      const next = STATUS_OF[action];
      const updated = await transitionAlertStatus(db, id, alert.versionId, next, new Date(clock.now()), actor);
      if (updated === undefined) continue;
      await writeAudit(db, { action: `alert.${action}`, resourceType: 'alert', resourceId: id, actor });
      const cameraId = await cameraOfEvent(db, updated.eventId);
      bus.emit('alert.updated', { alert: alertToRecord(updated, cameraId ?? ''), action });
      return updated;
    }
    throw new AppError('TRANSIENT', `alert ${id} kept changing while it was being ${action}d; try again`);
  }
}
