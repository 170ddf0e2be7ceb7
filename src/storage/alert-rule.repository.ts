import { sql } from 'kysely';
import type { AlertRule } from '../domain/alert-rules.js';
import { validateAlertRule } from '../domain/alert-rules.js';
import type { Schedule } from '../domain/schedule.js';
import { AppError } from '../lib/errors.js';
import type { DbOrTx } from './database.js';
import type { AlertRuleRow, AlertRuleSource } from './tables/alert.table.js';

export type { AlertRuleSource } from './tables/alert.table.js';

/** An alert rule as stored: the domain rule plus what only storage and the API care about. */
export interface StoredAlertRule extends AlertRule {
  description: string | null;
  source: AlertRuleSource;
  createdAt: Date;
  updatedAt: Date;
}

/** A rule to create or update by name; `id` only matters on creation (default rules have fixed ids). */
export type AlertRuleInput = Omit<AlertRule, 'id'> & {
  id?: string;
  description?: string | null;
  source: AlertRuleSource;
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a string PostgreSQL accepts as a uuid; anything else can match no rule or alert. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

const list = <T>(values: readonly T[] | null): T[] | null => (values === null ? null : [...values]);

export function alertRuleRowToRule(row: AlertRuleRow): StoredAlertRule {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    enabled: row.enabled,
    severity: row.severity,
    riskThreshold: row.risk_threshold,
    cameraIds: row.camera_ids,
    zoneIds: row.zone_ids,
    objectTypes: row.object_types,
    minConfidence: row.min_confidence,
    schedule: (row.schedule as Schedule | null) ?? null,
    houseModes: row.house_modes,
    requireArmedZone: row.require_armed_zone,
    unknownPerson: row.unknown_person,
    personIds: row.person_ids,
    ignoreTrusted: row.ignore_trusted,
    dedupKeyTemplate: row.dedup_key_template,
    cooldownSeconds: row.cooldown_seconds,
    source: row.source,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function ruleValues(input: AlertRuleInput) {
  const errors = validateAlertRule({ ...input, id: input.id ?? '' });
  if (input.id !== undefined && !isUuid(input.id)) errors.push(`id must be a uuid, got ${JSON.stringify(input.id)}`);
  if (errors.length > 0) {
    throw new AppError('INVALID_INPUT', `alert rule "${input.name}": ${errors.join('; ')}`, {
      permanent: true,
      details: { errors },
    });
  }
  return {
    description: input.description ?? null,
    enabled: input.enabled,
    severity: input.severity,
    risk_threshold: input.riskThreshold,
    object_types: list(input.objectTypes),
    camera_ids: list(input.cameraIds),
    zone_ids: list(input.zoneIds),
    min_confidence: input.minConfidence,
    schedule: input.schedule === null ? null : JSON.stringify(input.schedule),
    house_modes: list(input.houseModes),
    require_armed_zone: input.requireArmedZone,
    unknown_person: input.unknownPerson ?? false,
    person_ids: list(input.personIds ?? null),
    ignore_trusted: input.ignoreTrusted ?? false,
    dedup_key_template: input.dedupKeyTemplate,
    cooldown_seconds: input.cooldownSeconds,
    source: input.source,
  };
}

/**
 * Creates the rule named `input.name`, or updates every field of the rule of that name (its id and creation time
 * stay). Invalid values are a permanent INVALID_INPUT error listing each field.
 */
export async function upsertRuleByName(db: DbOrTx, input: AlertRuleInput): Promise<StoredAlertRule> {
  const values = ruleValues(input);
  const row = await db
    .insertInto('alert_rules')
    .values({ ...(input.id === undefined ? {} : { id: input.id }), name: input.name, ...values })
    .onConflict((oc) => oc.column('name').doUpdateSet({ ...values, updated_at: sql<Date>`now()` }))
    .returningAll()
    .executeTakeFirstOrThrow();
  return alertRuleRowToRule(row);
}

/** Every rule, by name. */
export async function listRules(db: DbOrTx): Promise<StoredAlertRule[]> {
  const rows = await db.selectFrom('alert_rules').selectAll().orderBy('name').execute();
  return rows.map(alertRuleRowToRule);
}

/** The rules evaluated for each new event, by name. */
export async function listEnabledRules(db: DbOrTx): Promise<StoredAlertRule[]> {
  const rows = await db.selectFrom('alert_rules').selectAll().where('enabled', '=', true).orderBy('name').execute();
  return rows.map(alertRuleRowToRule);
}

/** Undefined when there is no such rule (or `id` is not a uuid). */
export async function getRule(db: DbOrTx, id: string): Promise<StoredAlertRule | undefined> {
  if (!isUuid(id)) return undefined;
  const row = await db.selectFrom('alert_rules').selectAll().where('id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : alertRuleRowToRule(row);
}

export async function getRuleByName(db: DbOrTx, name: string): Promise<StoredAlertRule | undefined> {
  const row = await db.selectFrom('alert_rules').selectAll().where('name', '=', name).executeTakeFirst();
  return row === undefined ? undefined : alertRuleRowToRule(row);
}

/** Renames a rule (the name is unique: callers check that it is free). */
export async function renameRule(db: DbOrTx, id: string, name: string): Promise<void> {
  await db.updateTable('alert_rules').set({ name }).where('id', '=', id).execute();
}

/** Deletes the rule; its past alerts stay, with no rule. False when there was none. */
export async function deleteRule(db: DbOrTx, id: string): Promise<boolean> {
  if (!isUuid(id)) return false;
  const result = await db.deleteFrom('alert_rules').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/**
 * First run only: when the table holds no rule at all, stores `rules` (source `default`, their fixed ids); once
 * any rule exists nothing is added, so deleted or edited defaults stay so. (A table emptied by hand counts as a first
 * run again: turn `alerts.default_rules` off to keep it empty.) Returns the rules created. Two processes starting at
 * once are safe: the fixed ids and names make the second insert a no-op.
 */
export async function seedDefaultRules(db: DbOrTx, rules: readonly AlertRule[]): Promise<StoredAlertRule[]> {
  const any = await db.selectFrom('alert_rules').select('id').limit(1).executeTakeFirst();
  if (any !== undefined || rules.length === 0) return [];
  const rows = rules.map((rule) => ({ id: rule.id, name: rule.name, ...ruleValues({ ...rule, source: 'default' }) }));
  const inserted = await db
    .insertInto('alert_rules')
    .values(rows)
    .onConflict((oc) => oc.doNothing())
    .returningAll()
    .execute();
  return inserted.map(alertRuleRowToRule).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
