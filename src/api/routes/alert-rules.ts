import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DEFAULT_COOLDOWN_SECONDS, validateAlertRule } from '../../domain/alert-rules.js';
import type { HouseMode } from '../../domain/arming.js';
import type { RiskLevel } from '../../domain/risk.js';
import type { Schedule } from '../../domain/schedule.js';
import {
  type AlertRuleInput,
  deleteRule,
  getRule,
  getRuleByName,
  listRules,
  renameRule,
  type StoredAlertRule,
  upsertRuleByName,
} from '../../storage/alert-rule.repository.js';
import type { DbOrTx } from '../../storage/database.js';
import type { ApiContext } from '../context.js';
import { badRequest, conflict, leadingField, notFound } from '../errors.js';
import { ruleJson } from '../present.js';
import { errors, houseModeSchema, listOf, riskLevel, ruleSchema, scheduleSchema, textIdParams } from '../schemas.js';
import { type RuleFinder, ruleTestRoute } from './alert-rule-test.js';

export interface RuleBody {
  name: string;
  description?: string | null;
  enabled?: boolean;
  severity: RiskLevel;
  risk_threshold?: number | null;
  camera_ids?: string[] | null;
  zone_ids?: string[] | null;
  object_types?: string[] | null;
  min_confidence?: number | null;
  schedule?: Schedule | null;
  house_modes?: HouseMode[] | null;
  require_armed_zone?: boolean;
  unknown_person?: boolean;
  person_ids?: number[] | null;
  ignore_trusted?: boolean;
  dedup_key_template?: string | null;
  cooldown_seconds?: number;
}

const idList = { type: ['array', 'null'], items: { type: 'string', minLength: 1 }, maxItems: 100 } as const;

export const ruleBodySchema = {
  type: 'object',
  required: ['name', 'severity'],
  additionalProperties: false,
  description: 'Conditions left null (or empty) do not constrain; all others must hold (AND).',
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    description: { type: ['string', 'null'], maxLength: 2000 },
    enabled: { type: 'boolean', default: true },
    severity: riskLevel,
    risk_threshold: { type: ['integer', 'null'], minimum: 0, maximum: 100 },
    camera_ids: idList,
    zone_ids: idList,
    object_types: idList,
    min_confidence: { type: ['number', 'null'], minimum: 0, maximum: 1 },
    schedule: { ...scheduleSchema, type: ['object', 'null'] },
    house_modes: { type: ['array', 'null'], items: houseModeSchema },
    require_armed_zone: { type: 'boolean', default: false },
    unknown_person: {
      type: 'boolean',
      default: false,
      description: 'Only when someone was not recognised as a household member (without identity: any person).',
    },
    person_ids: {
      type: ['array', 'null'],
      items: { type: 'integer', minimum: 1, maximum: 2_147_483_647 },
      maxItems: 100,
      description: 'Only when one of these household members was recognised.',
    },
    ignore_trusted: {
      type: 'boolean',
      default: false,
      description: 'Never when everyone seen was a trusted household member within their schedule and zones.',
    },
    dedup_key_template: { type: ['string', 'null'], maxLength: 500 },
    cooldown_seconds: { type: 'integer', minimum: 0, maximum: 31_536_000, default: DEFAULT_COOLDOWN_SECONDS },
  },
} as const;

/** The body as a rule (source `api`); value problems ajv cannot see (schedule times, templates) → 400 naming the field. */
function ruleInput(body: RuleBody): AlertRuleInput {
  const input: AlertRuleInput = {
    name: body.name,
    description: body.description ?? null,
    enabled: body.enabled ?? true,
    severity: body.severity,
    riskThreshold: body.risk_threshold ?? null,
    cameraIds: body.camera_ids ?? null,
    zoneIds: body.zone_ids ?? null,
    objectTypes: body.object_types ?? null,
    minConfidence: body.min_confidence ?? null,
    schedule: body.schedule ?? null,
    houseModes: body.house_modes ?? null,
    requireArmedZone: body.require_armed_zone ?? false,
    unknownPerson: body.unknown_person ?? false,
    personIds: body.person_ids ?? null,
    ignoreTrusted: body.ignore_trusted ?? false,
    dedupKeyTemplate: body.dedup_key_template ?? null,
    cooldownSeconds: body.cooldown_seconds ?? DEFAULT_COOLDOWN_SECONDS,
    source: 'api',
  };
  const problems = validateAlertRule({ ...input, id: '' });
  const first = problems[0];
  if (first !== undefined) throw badRequest(leadingField(first) ?? 'body', problems.join('; '));
  return input;
}

/** Rules from the configuration are synced from it at every start: edit them there. */
function assertEditable(rule: StoredAlertRule): void {
  if (rule.source === 'config') {
    throw conflict(`alert rule "${rule.name}" comes from the configuration (alerts.rules): change it there`);
  }
}

const byId =
  (ctx: ApiContext): RuleFinder =>
  async (request, db = ctx.deps.db) => {
    const rule = await getRule(db, request.params.id);
    if (rule === undefined) throw notFound(`no alert rule with id ${request.params.id}`);
    return rule;
  };

type RuleRequest = FastifyRequest<{ Params: { id: string }; Body: RuleBody }>;

const auditRule = (ctx: ApiContext, request: FastifyRequest, action: string, rule: StoredAlertRule, tx: DbOrTx) =>
  ctx.audit(
    request,
    { action: `alert_rule.${action}`, resourceType: 'alert_rule', resourceId: rule.id, details: { name: rule.name } },
    tx,
  );

async function createRule(ctx: ApiContext, request: FastifyRequest<{ Body: RuleBody }>): Promise<StoredAlertRule> {
  const input = ruleInput(request.body);
  return ctx.deps.db.transaction().execute(async (tx) => {
    if ((await getRuleByName(tx, input.name)) !== undefined) {
      throw conflict(`an alert rule named "${input.name}" exists already; PUT /api/alert-rules/<id> changes it`);
    }
    const created = await upsertRuleByName(tx, input);
    await auditRule(ctx, request, 'create', created, tx);
    return created;
  });
}

/** Every field replaced; a new name is taken first (the repository upserts by name), in one transaction. */
async function updateRule(ctx: ApiContext, find: RuleFinder, request: RuleRequest): Promise<StoredAlertRule> {
  const input = ruleInput(request.body);
  return ctx.deps.db.transaction().execute(async (tx) => {
    const existing = await find(request, tx);
    assertEditable(existing);
    if (existing.name !== input.name) {
      if ((await getRuleByName(tx, input.name)) !== undefined) {
        throw conflict(`another alert rule is named "${input.name}"`);
      }
      await renameRule(tx, existing.id, input.name);
    }
    const updated = await upsertRuleByName(tx, { ...input, source: existing.source });
    await auditRule(ctx, request, 'update', updated, tx);
    return updated;
  });
}

async function removeRule(ctx: ApiContext, find: RuleFinder, request: FastifyRequest<{ Params: { id: string } }>) {
  await ctx.deps.db.transaction().execute(async (tx) => {
    const existing = await find(request, tx);
    assertEditable(existing);
    await deleteRule(tx, existing.id);
    await auditRule(ctx, request, 'delete', existing, tx);
  });
}

export function alertRuleRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const find = byId(ctx);
  const tags = ['alert rules'];
  app.get(
    '/api/alert-rules',
    {
      schema: {
        tags,
        summary: 'Every alert rule, by name',
        response: { 200: listOf('rules', ruleSchema), ...errors() },
      },
    },
    async () => ({ rules: (await listRules(ctx.deps.db)).map(ruleJson) }),
  );
  app.post<{ Body: RuleBody }>(
    '/api/alert-rules',
    {
      schema: {
        tags,
        summary: 'Create a rule',
        body: ruleBodySchema,
        response: { 201: ruleSchema, ...errors(400, 409) },
      },
    },
    async (request, reply) => reply.status(201).send(ruleJson(await createRule(ctx, request))),
  );
  app.get<{ Params: { id: string } }>(
    '/api/alert-rules/:id',
    { schema: { tags, summary: 'One rule', params: textIdParams, response: { 200: ruleSchema, ...errors(404) } } },
    async (request) => ruleJson(await find(request)),
  );
  app.put<{ Params: { id: string }; Body: RuleBody }>(
    '/api/alert-rules/:id',
    {
      schema: {
        tags,
        summary: 'Replace every field of a rule (renaming included)',
        params: textIdParams,
        body: ruleBodySchema,
        response: { 200: ruleSchema, ...errors(400, 404, 409) },
      },
    },
    async (request) => ruleJson(await updateRule(ctx, find, request)),
  );
  app.delete<{ Params: { id: string } }>(
    '/api/alert-rules/:id',
    {
      schema: {
        tags,
        summary: 'Delete a rule (its past alerts stay)',
        params: textIdParams,
        response: { 204: { type: 'null' }, ...errors(404, 409) },
      },
    },
    async (request, reply) => {
      await removeRule(ctx, find, request);
      return reply.status(204).send();
    },
  );
  ruleTestRoute(app, ctx, find);
}
