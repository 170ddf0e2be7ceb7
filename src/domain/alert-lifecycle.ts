import { AppError } from '../lib/errors.js';

/**
 * Alert lifecycle: a new alert is `pending`; the bridge marks it `delivered` once published; a user then
 * `acknowledged` or `dismissed` it (also straight from pending, e.g. acknowledge-all before delivery).
 * Acknowledged and dismissed are final. Re-exported by alert-rules.ts.
 */

export const ALERT_STATUSES = ['pending', 'delivered', 'acknowledged', 'dismissed'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];
export const ALERT_ACTIONS = ['deliver', 'acknowledge', 'dismiss'] as const;
export type AlertAction = (typeof ALERT_ACTIONS)[number];

const TRANSITIONS: Readonly<Record<AlertStatus, Partial<Record<AlertAction, AlertStatus>>>> = {
  pending: { deliver: 'delivered', acknowledge: 'acknowledged', dismiss: 'dismissed' },
  delivered: { acknowledge: 'acknowledged', dismiss: 'dismissed' },
  acknowledged: {},
  dismissed: {},
};

export function canTransitionAlert(status: AlertStatus, action: AlertAction): boolean {
  return TRANSITIONS[status][action] !== undefined;
}

/** The status after `action`; an illegal move throws a permanent INVALID_TRANSITION error saying what is allowed. */
export function transitionAlert(status: AlertStatus, action: AlertAction): AlertStatus {
  const next = TRANSITIONS[status][action];
  if (next === undefined) {
    const allowed = Object.keys(TRANSITIONS[status]);
    const hint = allowed.length === 0 ? `${status} is final` : `allowed from ${status}: ${allowed.join(', ')}`;
    throw new AppError('INVALID_TRANSITION', `cannot ${action} an alert that is ${status} (${hint})`, {
      permanent: true,
      details: { status, action },
    });
  }
  return next;
}
