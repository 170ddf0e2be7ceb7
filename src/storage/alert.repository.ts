import { sql } from 'kysely';
import { ALERT_ACTIONS, ALERT_STATUSES, type AlertStatus, transitionAlert } from '../domain/alert-lifecycle.js';
import { cooldownActive } from '../domain/alert-rules.js';
import type { RiskLevel } from '../domain/risk.js';
import { AppError } from '../lib/errors.js';
import { isUuid } from './alert-rule.repository.js';
import type { DbOrTx } from './database.js';
import type { AlertRow } from './tables/alert.table.js';

/** An alert raised by a rule for an event. `versionId` is the optimistic lock for status changes. */
export interface Alert {
  id: string;
  eventId: number;
  ruleId: string | null;
  severity: RiskLevel;
  status: AlertStatus;
  dedupKey: string;
  message: string;
  channels: string[];
  metadata: Record<string, unknown> | null;
  versionId: number;
  createdAt: Date;
  updatedAt: Date;
  deliveredAt: Date | null;
  acknowledgedAt: Date | null;
  dismissedAt: Date | null;
  /** Who acknowledged it: the audit actor (`mqtt`, `api`, `api:ingress`); null while not acknowledged. */
  acknowledgedBy: string | null;
  /** Who dismissed it; null while not dismissed. */
  dismissedBy: string | null;
}

export interface NewAlert {
  eventId: number;
  ruleId: string | null;
  severity: RiskLevel;
  dedupKey: string;
  message: string;
  channels?: readonly string[];
  metadata?: Record<string, unknown> | null;
  /** From the caller's clock: cooldowns compare against it. */
  createdAt: Date;
}

export function alertRowToAlert(row: AlertRow): Alert {
  return {
    id: row.id,
    eventId: row.event_id,
    ruleId: row.rule_id,
    severity: row.severity,
    status: row.status,
    dedupKey: row.dedup_key,
    message: row.message,
    channels: row.channels,
    metadata: (row.metadata as Record<string, unknown> | null) ?? null,
    versionId: row.version_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deliveredAt: row.delivered_at,
    acknowledgedAt: row.acknowledged_at,
    dismissedAt: row.dismissed_at,
    acknowledgedBy: row.acknowledged_by,
    dismissedBy: row.dismissed_by,
  };
}

/**
 * Stores a pending alert. Idempotent per (event, rule): an event evaluated again returns the alert already raised
 * with `created: false`. (An alert with no rule is always new.)
 */
export async function insertAlert(db: DbOrTx, input: NewAlert): Promise<{ alert: Alert; created: boolean }> {
  const inserted = await db
    .insertInto('alerts')
    .values({
      event_id: input.eventId,
      rule_id: input.ruleId,
      severity: input.severity,
      dedup_key: input.dedupKey,
      message: input.message,
      channels: [...(input.channels ?? [])],
      metadata: input.metadata === undefined || input.metadata === null ? null : JSON.stringify(input.metadata),
      created_at: input.createdAt,
      updated_at: input.createdAt,
    })
    .onConflict((oc) => oc.columns(['event_id', 'rule_id']).doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted !== undefined) return { alert: alertRowToAlert(inserted), created: true };
  const existing = await db
    .selectFrom('alerts')
    .selectAll()
    .where('event_id', '=', input.eventId)
    .where('rule_id', '=', input.ruleId as string)
    .executeTakeFirstOrThrow();
  return { alert: alertRowToAlert(existing), created: false };
}

const SEVERITY_RANK = sql<number>`CASE severity WHEN 'critical' THEN 3 WHEN 'high' THEN 2 WHEN 'medium' THEN 1 ELSE 0 END`;

/** The alert of an event: one per event (the most severe, when an older version raised several), or undefined. */
export async function alertOfEvent(db: DbOrTx, eventId: number): Promise<Alert | undefined> {
  const row = await db
    .selectFrom('alerts')
    .selectAll()
    .where('event_id', '=', eventId)
    .orderBy(SEVERITY_RANK, 'desc')
    .orderBy('created_at')
    .limit(1)
    .executeTakeFirst();
  return row === undefined ? undefined : alertRowToAlert(row);
}

/** Serialises the alert decisions of one event until the transaction ends (open and close of a visit, retries). */
export async function lockEventAlerts(tx: DbOrTx, eventId: number): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext(${`event-alert:${eventId}`}))`.execute(tx);
}

/**
 * Raises an active (pending or delivered) alert to a higher severity for a later analysis of its event: the rule,
 * message and metadata follow; its status stays. Only if it still has `expectedVersion` and is active; undefined
 * otherwise.
 */
export async function escalateAlert(
  db: DbOrTx,
  id: string,
  expectedVersion: number,
  change: { ruleId: string | null; severity: RiskLevel; message: string; metadata: Record<string, unknown>; at: Date },
): Promise<Alert | undefined> {
  const row = await db
    .updateTable('alerts')
    .set((eb) => ({
      rule_id: change.ruleId,
      severity: change.severity,
      message: change.message,
      metadata: JSON.stringify(change.metadata),
      updated_at: change.at,
      version_id: eb('version_id', '+', 1),
    }))
    .where('id', '=', id)
    .where('version_id', '=', expectedVersion)
    .where('status', 'in', ['pending', 'delivered'])
    .returningAll()
    .executeTakeFirst();
  return row === undefined ? undefined : alertRowToAlert(row);
}

export type AlertOutcome =
  | { outcome: 'created'; alert: Alert }
  | { outcome: 'exists'; alert: Alert }
  | { outcome: 'cooldown'; lastAlert: Alert };

/**
 * The alert service's one call: under a transaction-scoped advisory lock on the dedup key (so two workers handling
 * events of one camera at once cannot both pass the cooldown), returns the alert already raised for (event, rule)
 * (`exists`), or the last alert with the same key when it is younger than `cooldownSeconds` at `input.createdAt`
 * (`cooldown`), or stores a new pending alert (`created`).
 */
export async function insertAlertUnlessCooling(
  db: DbOrTx,
  input: NewAlert,
  cooldownSeconds: number,
): Promise<AlertOutcome> {
  if (!db.isTransaction) return db.transaction().execute((tx) => insertAlertUnlessCooling(tx, input, cooldownSeconds));
  await sql`SELECT pg_advisory_xact_lock(hashtext(${input.dedupKey}))`.execute(db);
  if (input.ruleId !== null) {
    const existing = await db
      .selectFrom('alerts')
      .selectAll()
      .where('event_id', '=', input.eventId)
      .where('rule_id', '=', input.ruleId)
      .executeTakeFirst();
    if (existing !== undefined) return { outcome: 'exists', alert: alertRowToAlert(existing) };
  }
  const last = await lastAlertForDedupKey(db, input.dedupKey);
  if (last !== undefined && cooldownActive(last.createdAt, cooldownSeconds, input.createdAt)) {
    return { outcome: 'cooldown', lastAlert: last };
  }
  const { alert, created } = await insertAlert(db, input);
  return { outcome: created ? 'created' : 'exists', alert };
}

export async function getAlert(db: DbOrTx, id: string): Promise<Alert | undefined> {
  if (!isUuid(id)) return undefined;
  const row = await db.selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : alertRowToAlert(row);
}

/** The newest alert with this dedup key, whatever its status: the start of the key's cooldown. */
export async function lastAlertForDedupKey(db: DbOrTx, dedupKey: string): Promise<Alert | undefined> {
  const row = await db
    .selectFrom('alerts')
    .selectAll()
    .where('dedup_key', '=', dedupKey)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row === undefined ? undefined : alertRowToAlert(row);
}

/** Statuses from which the lifecycle (alert-lifecycle.ts) reaches `next`. */
function statusesLeadingTo(next: AlertStatus): AlertStatus[] {
  return ALERT_STATUSES.filter((status) =>
    ALERT_ACTIONS.some((action) => {
      try {
        return transitionAlert(status, action) === next;
      } catch {
        return false;
      }
    }),
  );
}

const TIMESTAMP_OF: Readonly<Partial<Record<AlertStatus, 'delivered_at' | 'acknowledged_at' | 'dismissed_at'>>> = {
  delivered: 'delivered_at',
  acknowledged: 'acknowledged_at',
  dismissed: 'dismissed_at',
};

/** The column naming who made the change, for the statuses a person (or Home Assistant) moves an alert to. */
const ACTOR_OF: Readonly<Partial<Record<AlertStatus, 'acknowledged_by' | 'dismissed_by'>>> = {
  acknowledged: 'acknowledged_by',
  dismissed: 'dismissed_by',
};

/**
 * Moves an alert to `next` at `at`, only if it still has `expectedVersion` (and a status from which the lifecycle
 * allows `next`); bumps the version. `actor` (as the audit log names it) is stored as `acknowledged_by` or
 * `dismissed_by`; delivery has no actor. Returns the updated alert, or undefined when someone else changed it first
 * (read it again and decide), or when there is no such alert.
 */
export async function transitionAlertStatus(
  db: DbOrTx,
  id: string,
  expectedVersion: number,
  next: AlertStatus,
  at: Date,
  actor?: string,
): Promise<Alert | undefined> {
  const from = statusesLeadingTo(next);
  const column = TIMESTAMP_OF[next];
  if (from.length === 0 || column === undefined) {
    throw new AppError('INVALID_TRANSITION', `no alert can move to ${next}`, { permanent: true });
  }
  if (!isUuid(id)) return undefined;
  const actorColumn = ACTOR_OF[next];
  const row = await db
    .updateTable('alerts')
    .set((eb) => ({
      status: next,
      version_id: eb('version_id', '+', 1),
      updated_at: at,
      [column]: at,
      ...(actorColumn === undefined ? {} : { [actorColumn]: actor ?? null }),
    }))
    .where('id', '=', id)
    .where('version_id', '=', expectedVersion)
    .where('status', 'in', from)
    .returningAll()
    .executeTakeFirst();
  return row === undefined ? undefined : alertRowToAlert(row);
}

/** Pending and delivered alerts, newest first; `limit` 1..500, default 50. */
export async function listActiveAlerts(db: DbOrTx, limit = 50): Promise<Alert[]> {
  const rows = await db
    .selectFrom('alerts')
    .selectAll()
    .where('status', 'in', ['pending', 'delivered'])
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(Math.min(500, Math.max(1, Math.trunc(limit))))
    .execute();
  return rows.map(alertRowToAlert);
}

export async function countActiveAlerts(db: DbOrTx): Promise<number> {
  const row = await db
    .selectFrom('alerts')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', 'in', ['pending', 'delivered'])
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Every alert raised for an event, oldest first. */
export async function alertsForEvent(db: DbOrTx, eventId: number): Promise<Alert[]> {
  const rows = await db
    .selectFrom('alerts')
    .selectAll()
    .where('event_id', '=', eventId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(alertRowToAlert);
}
